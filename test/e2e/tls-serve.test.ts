import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerProcess, TAPIN_CLI, startServerProcess, tempDir } from '../support/processes.js';

/**
 * `tapin serve --tls-cert/--tls-key`: HTTPS straight from the server (phones install the app only over HTTPS),
 * checked with a throwaway self-signed certificate made here with openssl and trusted as the only CA.
 */
const exec = promisify(execFile);
let dir: { path: string; remove(): Promise<void> };
let server: ServerProcess;
let ca: Buffer;

function get(url: string): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  dir = await tempDir('tapin-tls-');
  await exec('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', join(dir.path, 'key.pem'), '-out', join(dir.path, 'cert.pem'),
  ]);
  ca = await readFile(join(dir.path, 'cert.pem'));
  server = await startServerProcess(':memory:', {}, ['--tls-cert', join(dir.path, 'cert.pem'), '--tls-key', join(dir.path, 'key.pem')]);
}, 30_000);
afterAll(async () => {
  await server?.stop();
  await dir?.remove();
});

describe('tapin serve over TLS', () => {
  it('serves the API and the app over HTTPS and puts https:// links in QR codes', async () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(server.facts['publicUrl']).toBe(server.url);
    expect(await get(`${server.url}/healthz`)).toMatchObject({ status: 200, body: '{"ok":true}' });
    const app = await get(`${server.url}/app/`);
    expect(app.status).toBe(200);
    expect(app.body).toContain('<link rel="manifest"');
    const enrol = await fetchJson(`${server.url}/v1/servers/${server.sid}/enrolments`, server.apiKey);
    expect(enrol.data).toMatch(new RegExp(`^${server.url}/e/`));
  });

  it('does not answer plain HTTP on the TLS port, and refuses an untrusted client-side check', async () => {
    await expect(fetch(server.url.replace('https:', 'http:') + '/healthz')).rejects.toThrow();
    // Without the throwaway CA the certificate does not verify.
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
  });

  it('needs both --tls-cert and --tls-key, and says so', async () => {
    const run = exec(process.execPath, [TAPIN_CLI, 'serve', '--db', ':memory:', '--port', '0', '--tls-cert', join(dir.path, 'cert.pem')]);
    await expect(run).rejects.toMatchObject({ stderr: expect.stringContaining('--tls-cert and --tls-key go together') });
    const missing = exec(process.execPath, [TAPIN_CLI, 'serve', '--db', ':memory:', '--port', '0', '--tls-cert', join(dir.path, 'nope.pem'), '--tls-key', join(dir.path, 'key.pem')]);
    await expect(missing).rejects.toMatchObject({ stderr: expect.stringContaining('cannot read the TLS certificate') });
  });
});

function fetchJson(url: string, apiKey: string): Promise<{ data: string }> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ name: 'tls phone' });
    const req = request(url, { method: 'POST', ca, headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve(JSON.parse(text) as { data: string }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
