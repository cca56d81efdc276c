import { type AddressInfo } from 'node:net';
import { type Server, createServer } from 'node:http';
import { TapinError } from '@tapin/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceHttp } from './device-http.js';

const http = (fetch: typeof globalThis.fetch, timeoutMs = 1000) => new DeviceHttp({ fetch, timeoutMs, now: Date.now });

describe('DeviceHttp error mapping', () => {
  it('a network failure is connection_error (UserErrorMessage 70)', async () => {
    const err = await http(async () => { throw new TypeError('fetch failed'); }).call('http://x', 'GET', '/').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TapinError);
    expect((err as TapinError).code).toBe('connection_error');
    expect((err as TapinError).userError).toBe(70);
  });

  it('a server that does not answer in time is server_timeout (50)', async () => {
    const slow: typeof globalThis.fetch = (_url, init) =>
      new Promise((_res, rej) => init?.signal?.addEventListener('abort', () => rej(init.signal!.reason as Error)));
    const err = (await http(slow, 50).call('http://x', 'GET', '/').catch((e: unknown) => e)) as TapinError;
    expect(err.code).toBe('server_timeout');
    expect(err.userError).toBe(50);
  });

  it("the server's error code and details come back as a TapinError", async () => {
    const body = JSON.stringify({ error: { code: 'pin_wrong', message: 'Wrong PIN.', details: { attemptsLeft: 3 } } });
    const err = (await http(async () => new Response(body, { status: 403 })).call('http://x', 'POST', '/', {}).catch((e: unknown) => e)) as TapinError;
    expect(err.code).toBe('pin_wrong');
    expect(err.details).toEqual({ attemptsLeft: 3 });
  });

  it('a non-Tapin error page is server_error / server_unknown', async () => {
    const e500 = (await http(async () => new Response('<html>oops', { status: 502 })).call('http://x', 'GET', '/').catch((e: unknown) => e)) as TapinError;
    expect(e500.code).toBe('server_error');
    const e404 = (await http(async () => new Response('nope', { status: 404 })).call('http://x', 'GET', '/').catch((e: unknown) => e)) as TapinError;
    expect(e404.code).toBe('server_unknown');
  });
});

describe('DeviceHttp against a real HTTP server that misbehaves', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/stall-body') {
        // Headers first, then part of the body, then nothing: fetch has resolved; only reading the body hangs.
        res.writeHead(200, { 'content-type': 'application/json' });
        res.flushHeaders();
        setTimeout(() => res.write('{"hsid":'), 50);
      } else if (req.url === '/cut-body') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
        res.write('{"hsid":', () => res.destroy());
      } else if (req.url === '/portal') {
        res.writeHead(200, { 'content-type': 'text/html' }).end('<html>Welcome to the hotel Wi-Fi</html>');
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  it('headers sent, body stalled: server_timeout (50), not a server error', async () => {
    const err = (await http(globalThis.fetch, 200).call(base, 'GET', '/stall-body').catch((e: unknown) => e)) as TapinError;
    expect(err).toBeInstanceOf(TapinError);
    expect(err.code).toBe('server_timeout');
    expect(err.userError).toBe(50);
  });

  it('connection cut in the middle of the body: connection_error (70)', async () => {
    const err = (await http(globalThis.fetch, 2000).call(base, 'GET', '/cut-body').catch((e: unknown) => e)) as TapinError;
    expect(err).toBeInstanceOf(TapinError);
    expect(err.code).toBe('connection_error');
  });

  it('a 200 page that is not JSON (captive portal) is server_unknown (51)', async () => {
    const err = (await http(globalThis.fetch).call(base, 'GET', '/portal').catch((e: unknown) => e)) as TapinError;
    expect(err.code).toBe('server_unknown');
    expect(err.userError).toBe(51);
  });
});
