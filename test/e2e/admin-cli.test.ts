import { execFile } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TapinClient, generateNonce } from '@tapin/client';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TAPIN_CLI, startServerProcess, tempDir } from '../support/processes.js';

const exec = promisify(execFile);
const tapin = async (...args: string[]) => JSON.parse((await exec(process.execPath, [TAPIN_CLI, ...args])).stdout) as Record<string, string>;

describe('tapin admin commands share the database with tapin serve', () => {
  let dir: { path: string; remove(): Promise<void> };
  let db: string;
  beforeAll(async () => {
    dir = await tempDir('tapin-admin-');
    db = join(dir.path, 'tapin.db');
  });
  afterAll(async () => dir.remove());

  it('creates a server and a second API key; both keys work against serve, and only hashes are stored', async () => {
    const created = await tapin('server', 'create', '--name', 'Acme', '--db', db, '--json');
    expect(created).toMatchObject({ name: 'Acme' });
    const second = await tapin('apikey', 'create', '--sid', created['sid']!, '--db', db, '--json');
    expect(second['apiKey']).not.toBe(created['apiKey']);
    // The master key was made beside the database, owner-only.
    expect((await readFile(join(dir.path, 'tapin.key'), 'utf8')).trim()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await stat(join(dir.path, 'tapin.key'))).mode & 0o777).toBe(0o600);

    const server = await startServerProcess(db);
    try {
      // The database was not empty, so serve created nothing.
      expect(server.sid).toBeNull();
      for (const apiKey of [created['apiKey']!, second['apiKey']!]) {
        const client = new TapinClient({ url: server.url, sid: created['sid']!, apiKey });
        expect((await client.getSession(generateNonce())).state).toBe('idle');
        expect((await client.getSettings()).name).toBe('Acme');
      }
    } finally {
      await server.stop();
    }
    const sqlite = new Database(db, { readonly: true });
    const dump = JSON.stringify(sqlite.prepare('select * from api_keys').all());
    sqlite.close();
    for (const key of [created['apiKey']!, second['apiKey']!]) expect(dump).not.toContain(key.split('.')[2]);
  });

  it('lists and revokes API keys; a running server refuses a revoked key within a second, the others keep working', async () => {
    const created = await tapin('server', 'create', '--name', 'Rotating', '--db', db, '--json');
    const sid = created['sid']!;
    const other = await tapin('server', 'create', '--name', 'Other', '--db', db, '--json');
    const second = (await tapin('apikey', 'create', '--sid', sid, '--db', db, '--json'))['apiKey']!;
    const keyidOf = (key: string) => key.split('.')[1]!;
    const list = async () => JSON.parse((await exec(process.execPath, [TAPIN_CLI, 'apikey', 'list', '--sid', sid, '--db', db, '--json'])).stdout) as { keyid: string; revoked: string | null }[];
    const listed = await list();
    expect(listed.map((k) => k.keyid).sort()).toEqual([keyidOf(created['apiKey']!), keyidOf(second)].sort());
    expect(listed.every((k) => k.revoked === null)).toBe(true);
    // The listing never shows a secret.
    expect(JSON.stringify(listed)).not.toContain(second.split('.')[2]);

    const server = await startServerProcess(db);
    try {
      const first = new TapinClient({ url: server.url, sid, apiKey: created['apiKey']! });
      const leaked = new TapinClient({ url: server.url, sid, apiKey: second });
      expect((await leaked.getSession(generateNonce())).state).toBe('idle');
      // Revoked by pasting the whole key, as one would a leaked one.
      const revoked = await tapin('apikey', 'revoke', second, '--sid', sid, '--db', db, '--json');
      expect(revoked).toEqual({ sid, revoked: keyidOf(second), keysLeft: 1 });
      const revokedAt = Date.now();
      let refused: unknown;
      while (!refused && Date.now() - revokedAt < 5_000) {
        refused = await leaked.getSession(generateNonce()).then(() => undefined, (err: unknown) => err);
        if (!refused) await new Promise((r) => setTimeout(r, 100));
      }
      expect(refused).toMatchObject({ code: 'api_key_revoked', status: 401 });
      expect(Date.now() - revokedAt).toBeLessThan(2_000);
      // A back-end that still sends the old key is no guesser: 40 refusals (the per-IP limit is 30 failures a
      // minute) leave the current key working from the same address.
      for (let i = 0; i < 40; i++) await expect(leaked.getSession(generateNonce())).rejects.toMatchObject({ code: 'api_key_revoked' });
      expect((await first.getSession(generateNonce())).state).toBe('idle');
    } finally {
      await server.stop();
    }
    expect((await list()).find((k) => k.keyid === keyidOf(second))?.revoked).toMatch(/^\d{4}-\d\d-\d\dT/);

    const fails = async (...args: string[]) => ((await exec(process.execPath, [TAPIN_CLI, 'apikey', 'revoke', ...args, '--db', db]).catch((e: unknown) => e)) as { stderr: string; code: number });
    // Revoking again, or a key through another server, says what is wrong; so does something that is not a key.
    for (const attempt of [await fails(keyidOf(second), '--sid', sid), await fails(keyidOf(created['apiKey']!), '--sid', other['sid']!)]) {
      expect(attempt.code).toBe(1);
      expect(attempt.stderr.trim()).toBe('tapin: This virtual server has no such API key, or it is revoked already. (api_key_not_found)');
    }
    // A key id may begin with '-' (base64url): it is still taken as the key id, not as an unknown option.
    expect((await fails(`-${'A'.repeat(15)}`, '--sid', sid)).stderr).toContain('(api_key_not_found)');
    const mangled = await fails(`Bearer ${created['apiKey']!}x`, '--sid', sid);
    expect(mangled.code).toBe(1);
    expect(mangled.stderr).toContain('(bad_request)');
    expect(mangled.stderr).not.toContain(created['apiKey']!.split('.')[2]);
    // `-` reads the key from stdin, so that it shows neither in shell history nor in ps.
    const piped = execFile(process.execPath, [TAPIN_CLI, 'apikey', 'revoke', '-', '--sid', sid, '--db', db]);
    piped.stdin!.end(`${created['apiKey']!}\n`);
    const text = await new Promise<string>((resolve, reject) => {
      let stdout = '';
      piped.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
      piped.once('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`exit ${code}`))));
    });
    expect(text).toContain(`Revoked API key ${keyidOf(created['apiKey']!)}`);
    expect(text).toContain(`has no valid API key left: create one with tapin apikey create --sid ${sid}`);
  });

  it('says clearly what is wrong instead of a stack trace', async () => {
    const err = (await exec(process.execPath, [TAPIN_CLI, 'apikey', 'create', '--sid', 'nosuchserver', '--db', db]).catch((e: unknown) => e)) as { stderr: string; code: number };
    expect(err.code).toBe(1);
    expect(err.stderr.trim()).toBe('tapin: No such virtual server. (server_not_found)');
    // With --json the error is JSON on stderr, in the API's shape.
    const json = (await exec(process.execPath, [TAPIN_CLI, 'apikey', 'create', '--sid', 'nosuchserver', '--db', db, '--json']).catch((e: unknown) => e)) as { stderr: string; code: number };
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stderr)).toEqual({ error: { code: 'server_not_found', message: 'No such virtual server.' } });
    // A database that cannot be reached is named as such, not as a failed migration.
    const down = (await exec(process.execPath, [TAPIN_CLI, 'server', 'list', '--db', 'postgres://postgres@127.0.0.1:1/none']).catch((e: unknown) => e)) as { stderr: string; code: number };
    expect(down.code).toBe(1);
    expect(down.stderr.trim()).toMatch(/^tapin: cannot open the database: connect ECONNREFUSED/);
  });
});
