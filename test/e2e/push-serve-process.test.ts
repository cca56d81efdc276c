import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TapinClient, TapinApiError, generateNonce } from '@tapin/client';
import { type StoredAccount, TapinSDK, type TapinSession, type UserError, type WebSocketConstructor, type WebSocketLike } from '@tapin/mobile-sdk';
import { FileStore } from '@tapin/mobile-sdk/node';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerProcess, TAPIN_CLI, device, startServerProcess, tempDir } from '../support/processes.js';

/**
 * Push login against a real `tapin serve` process (its command-line options, and what survives a restart).
 */
const exec = promisify(execFile);

describe('push login on a tapin serve process', () => {
  let dir: { path: string; remove(): Promise<void> };
  let db: string;
  beforeAll(async () => {
    dir = await tempDir('tapin-push-serve-');
    db = join(dir.path, 'tapin.db');
  });
  afterAll(async () => dir.remove());

  it('--push-block sets how long "I did not try to log in" stops pushes to the user', async () => {
    const server = await startServerProcess(db, {}, ['--push-block', '120']);
    const home = await tempDir('tapin-push-phone-');
    try {
      const client = new TapinClient({ url: server.url, sid: server.sid, apiKey: server.apiKey });
      expect((await device(home.path, 'enrol', (await client.enrol({ name: 'x', userid: 'ivy' })).data)).ok).toBe(true);
      await client.provokeUserLogin(generateNonce(), 'ivy');
      const answered = await device<{ state: string }>(home.path, 'listen', '--not-me', '--once', '--interval', '0.2');
      expect(answered.json).toMatchObject({ state: 'cancelled' });
      const refused = await client.provokeUserLogin(generateNonce(), 'ivy').catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(TapinApiError);
      expect((refused as TapinApiError).code).toBe('push_rate_limited');
      const retry = Number((refused as TapinApiError).details?.['retryAfter']);
      // 120 s, not the default hour.
      expect(retry).toBeGreaterThan(100);
      expect(retry).toBeLessThanOrEqual(120);
    } finally {
      await server.stop();
      await home.remove();
    }
  });

  it('the device socket comes back after the server restarts and a push still arrives; a refused account (1008) is not retried', async () => {
    // The database is not empty any more (the first test): a virtual server of this test's own.
    const { sid, apiKey } = JSON.parse((await exec(process.execPath, [TAPIN_CLI, 'server', 'create', '--name', 'Reconnect', '--db', db, '--json'])).stdout) as { sid: string; apiKey: string };
    const client = (s: ServerProcess) => new TapinClient({ url: s.url, sid, apiKey });
    let server: ServerProcess = await startServerProcess(db);
    const port = new URL(server.url).port;
    const home = await tempDir('tapin-push-phone-');
    let sdk: TapinSDK | undefined;
    let disconnect: (() => void) | undefined;
    try {
      expect((await device(home.path, 'enrol', (await client(server).enrol({ name: 'x', userid: 'joe' })).data)).ok).toBe(true);
      const store = new FileStore(home.path);
      const account: StoredAccount = (await store.list()).find((a) => a.sid === sid)!;
      const opened: WebSocketLike[] = [];
      // The `ws` package's WebSocket, counted, so that the test sees every (re)connection.
      const Counted = class extends (WebSocket as unknown as WebSocketConstructor) {
        constructor(url: string) {
          super(url);
          opened.push(this);
        }
      } as unknown as WebSocketConstructor;
      const confirms: Array<{ session: TapinSession; numbers: number[] }> = [];
      const errors: UserError[] = [];
      const blocked: string[] = [];
      sdk = new TapinSDK({
        storage: store, keys: store, WebSocket: Counted, backoff: { baseMs: 200, capMs: 1000 },
        callbacks: {
          ConfirmLogin: (session, request) => confirms.push({ session, numbers: request.numbers ?? [] }),
          UserErrorMessage: (_s, error) => errors.push(error),
          AccountUpdate: (a, change) => change.blocked && blocked.push(a.accountid),
        },
      });
      const until = async (what: string, ok: () => boolean, ms = 20_000) => {
        for (const end = Date.now() + ms; !ok(); await new Promise((r) => setTimeout(r, 100))) {
          if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
        }
      };
      const pushAndApprove = async (s: ServerProcess, n: number) => {
        const nonce = generateNonce();
        const { number } = await client(s).provokeAccountLogin(nonce, account.accountid);
        await until(`push ${n} over the socket`, () => confirms.length === n);
        const { session } = confirms[n - 1]!;
        await session.approve({ number: number! });
        await until(`login ${n}`, () => session.state === 'DONE' || session.state === 'ACTIVE' || session.state === 'ERROR');
        // Approving logs in, which also resets the user's back-off for the next push.
        expect((await client(s).getSession(nonce)).loggedin).toBe(true);
      };

      disconnect = sdk.connect();
      await pushAndApprove(server, 1);
      expect(opened).toHaveLength(1);

      // The server goes away and comes back on the same database and port: the SDK reconnects by itself.
      await server.stop();
      server = await startServerProcess(db, {}, ['--port', port]);
      await until('a reconnection', () => opened.length >= 2);
      await pushAndApprove(server, 2);
      expect(errors.filter((e) => e.code !== 'connection_error')).toEqual([]);

      // Blocked while the server is down: on reconnecting the server refuses the account (1008 account_blocked).
      await client(server).blockAccount(account.accountid);
      await server.stop();
      server = await startServerProcess(db, {}, ['--port', port]);
      await until('the refusal', () => blocked.length === 1);
      expect(blocked).toEqual([account.accountid]);
      expect(errors.at(-1)).toMatchObject({ code: 'account_blocked', errorCode: 52 });
      const attempts = opened.length;
      await new Promise((r) => setTimeout(r, 2500)); // several back-off periods
      expect(opened.length).toBe(attempts);
    } finally {
      disconnect?.();
      sdk?.dispose();
      await server.stop();
      await home.remove();
    }
  }, 60_000);

  it('refuses a --push-block that is not a whole number of seconds up to 7 days', async () => {
    for (const bad of ['-1', '604801']) {
      const err = (await exec(process.execPath, [TAPIN_CLI, 'serve', '--db', ':memory:', '--push-block', bad]).catch((e: unknown) => e)) as { stderr: string; code: number };
      expect(err.code).toBe(1);
      expect(err.stderr).toContain('--push-block');
      expect(err.stderr).toContain('0 to 604800');
    }
  });
});
