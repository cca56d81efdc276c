import { TapinClient, generateNonce } from '@tapin/client';
import { FileStore } from '@tapin/mobile-sdk/node';
import { type StoredAccount, TapinSDK, type TapinSession, type WebSocketConstructor } from '@tapin/mobile-sdk';
import WebSocket from 'ws';
import type { ProvokeResponse } from '@tapin/protocol';
import { type RunningServer, startServer } from '@tapin/server';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebPushReceiver } from '../../packages/server/src/test-support/web-push-receiver.js';
import { DEVICE_CLI, device, tempDir } from '../support/processes.js';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Watcher } from '../support/watcher.js';

/**
 * Push login (DESIGN §8) end to end: a real server, the business API over HTTP, the browser socket, and the phone
 * as the SDK (pull, dedup, number matching) and as `tapin-device listen`.
 */
let server: RunningServer;
let client: TapinClient;
let sid: string;
let apiKey: string;
let phoneDir: { path: string; remove(): Promise<void> };
let account: StoredAccount;

async function provoke(path: string, nonce: string): Promise<{ status: number; body: ProvokeResponse & { error?: { code: string } }; retryAfter: string | null }> {
  const res = await fetch(`${server.url}/v1/servers/${sid}${path}`, {
    method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'x-nonce': nonce, 'content-type': 'application/json' },
    body: JSON.stringify({ announceinfo: { info: { site: 'Push demo' } } }),
  });
  return { status: res.status, body: (await res.json()) as ProvokeResponse & { error?: { code: string } }, retryAfter: res.headers.get('retry-after') };
}

/** A login page that exists and is watched. */
async function page(): Promise<{ nonce: string; hsid: string; watcher: Watcher }> {
  const nonce = generateNonce();
  const { hsid } = await client.getQr(nonce);
  const watcher = await Watcher.connect(server.url);
  watcher.send(`REGISTER ${hsid} ${sid}`);
  await watcher.next('WAITING');
  return { nonce, hsid, watcher };
}

/** Runs `tapin-device --json` with `input` on its stdin (a pipe that ends after it, not a terminal). */
function deviceWithStdin(home: string, input: string, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [DEVICE_CLI, '--home', home, '--json', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

const pgUrl = process.env['TAPIN_TEST_POSTGRES_URL'];

const backends: Array<{ name: string; skip: boolean; setup: () => Promise<{ db: string; teardown(): Promise<void> }> }> = [
  { name: 'SQLite', skip: false, setup: async () => ({ db: ':memory:', teardown: async () => undefined }) },
  {
    name: 'PostgreSQL',
    skip: !pgUrl,
    setup: async () => {
      const name = `tapin_push_${process.pid}_${Date.now()}`;
      const admin = new pg.Client({ connectionString: pgUrl });
      await admin.connect();
      await admin.query(`CREATE DATABASE ${name}`);
      await admin.end();
      const url = new URL(pgUrl!);
      url.pathname = `/${name}`;
      return {
        db: url.toString(),
        teardown: async () => {
          const c = new pg.Client({ connectionString: pgUrl });
          await c.connect();
          await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
          await c.end();
        },
      };
    },
  },
];
let teardown: (() => Promise<void>) | undefined;
let keyFile = '';

for (const backend of backends) {
  describe.skipIf(backend.skip)(`push login on ${backend.name}`, () => {
    beforeAll(async () => {
      const setup = await backend.setup();
      teardown = setup.teardown;
      // The master key of a PostgreSQL run goes to a temporary file, not to ./tapin.key.
      keyFile = join(tmpdir(), `tapin-push-${process.pid}-${Date.now()}.key`);
      server = await startServer({ db: setup.db, port: 0, host: '127.0.0.1', logger: false, keyFile });
      // The VAPID key pair exists from the first start on.
      expect(await server.ctx.store.push.getVapid()).toMatchObject({ id: 'default' });
      sid = server.created!.sid;
      apiKey = server.created!.apiKey;
      client = new TapinClient({ url: server.url, sid, apiKey });
      phoneDir = await tempDir('tapin-push-');
      const enrolled = await device<{ accountid: string }>(phoneDir.path, 'enrol', (await client.enrol({ name: 'x', userid: 'dora' })).data, '--pin', '1234');
      expect(enrolled.ok).toBe(true);
      account = (await new FileStore(phoneDir.path).list())[0]!;
    });

    afterAll(async () => {
      await server?.close();
      await phoneDir?.remove();
      await teardown?.();
      await rm(keyFile, { force: true });
    });

    it('SDK: pull after the app was closed, deduplicated, number matching right → LOGIN', async () => {
      const { nonce, hsid, watcher } = await page();
      const pushed = await provoke('/users/dora/provokelogin', nonce);
      expect(pushed.status).toBe(200);
      const confirm = await watcher.next('CONFIRMPROVOKE');
      expect(confirm).toBe(`CONFIRMPROVOKE ${hsid} ${sid} ${pushed.body.number}`);

      const store = new FileStore(phoneDir.path);
      const asked: number[][] = [];
      let stop!: (s: TapinSession) => void;
      const stopped = new Promise<TapinSession>((r) => (stop = r));
      const sdk = new TapinSDK({
        storage: store, keys: store,
        callbacks: {
          ConfirmLogin: (s, r) => {
            expect(r.push).toBe(true);
            asked.push(r.numbers!);
            // Approving without picking a number is refused on the phone, and the session waits for a pick.
            void s.approve({ pin: '1234' }).then(() => { throw new Error('approved without a number'); }, (e: { code?: string }) => {
              expect(e.code).toBe('bad_request');
              expect(s.state).toBe('USER_INTERACTION');
              void s.approve({ pin: '1234', number: pushed.body.number! });
            });
          },
          SessionStop: (s) => stop(s),
        },
      });
      // The app opens: the pull finds the push; a second pull (or the same push by another channel) adds nothing.
      const [first, second] = await Promise.all([sdk.pull(), sdk.pull()]);
      expect([...first!, ...second!]).toHaveLength(1);
      expect(sdk.receivePush(account, { pushid: 'x'.repeat(22), sid, hsid })).toBeUndefined();
      const session = await stopped;
      expect(session.state).toBe('DONE');
      expect(asked[0]).toContain(pushed.body.number);
      await watcher.next('LOGIN');
      expect(await client.getSession(nonce)).toMatchObject({ loggedin: true, accountid: account.accountid, userid: 'dora' });
      expect(await sdk.pull()).toEqual([]);
      sdk.dispose();
      watcher.close();
    });

    it('SDK: the device socket delivers a push at once while the app is open; pull then finds nothing new', async () => {
      const store = new FileStore(phoneDir.path);
      let confirm!: (s: TapinSession) => void;
      const confirmed = new Promise<TapinSession>((r) => (confirm = r));
      let number = 0;
      const sdk = new TapinSDK({
        storage: store, keys: store, WebSocket: WebSocket as unknown as WebSocketConstructor,
        callbacks: { ConfirmLogin: (s) => confirm(s) },
      });
      const close = sdk.connect();
      try {
        const { nonce, hsid, watcher } = await page();
        // Whether the push comes before or after the socket has authenticated, the socket delivers it (pending
        // pushes are sent on authentication): this SDK never pulls.
        const sent = await provoke(`/accounts/${account.accountid}/provokelogin`, nonce);
        expect(sent.status).toBe(200);
        number = sent.body.number!;
        const session = await confirmed;
        expect(session.hsid).toBe(hsid);
        expect(session.numbers).toContain(number);
        expect(await sdk.pull()).toEqual([]); // the same push by pull: deduplicated
        await session.approve({ pin: '1234', number });
        await watcher.next('LOGIN');
        watcher.close();
      } finally {
        close();
        sdk.dispose();
      }
    });

    it('SDK: Web Push — subscribes with the VAPID key, the push service delivers ids, receiveWebPush starts the login', async () => {
      process.env['TAPIN_WEBPUSH_ALLOW_HTTP'] = '1';
      const receiver = await WebPushReceiver.start();
      const store = new FileStore(phoneDir.path);
      let confirm!: (s: TapinSession) => void;
      const confirmed = new Promise<TapinSession>((r) => (confirm = r));
      const sdk = new TapinSDK({ storage: store, keys: store, callbacks: { ConfirmLogin: (s) => confirm(s) } });
      try {
        const vapid = await sdk.vapidKey(account);
        await sdk.subscribeWebPush(receiver.subscription());
        const { nonce, hsid, watcher } = await page();
        const sent = await provoke(`/accounts/${account.accountid}/provokelogin`, nonce);
        expect(sent.status).toBe(200);
        const push = await receiver.next();
        expect(push.vapidKey).toBe(vapid);
        const session = await sdk.receiveWebPush(push.payload);
        expect(session?.hsid).toBe(hsid);
        expect(await sdk.receiveWebPush(push.payload)).toBeUndefined(); // a second delivery is a duplicate
        expect(await sdk.pull()).toEqual([]);
        await confirmed;
        await session!.approve({ pin: '1234', number: sent.body.number! });
        await watcher.next('LOGIN');
        watcher.close();
      } finally {
        sdk.dispose();
        await receiver.close();
        delete process.env['TAPIN_WEBPUSH_ALLOW_HTTP'];
      }
    });

    it('the device socket closes on a bad or missing signature', async () => {
      const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/v1/device/${sid}/ws`);
      await new Promise((r) => ws.once('open', r));
      ws.send(JSON.stringify({ account: account.accountid, time: String(Date.now()), reqid: 'r'.repeat(20), signature: 'AAAA' }));
      const [code, reason] = await new Promise<[number, Buffer]>((r) => ws.once('close', (c, why) => r([c, why])));
      // 1008 with the error code: the phone learns that trying again will not help.
      expect(code).toBe(1008);
      expect(reason.toString()).toBe('bad_signature');
    });

    it('tapin-device listen: wrong number → CANCEL; right number → LOGIN; --decline → CANCEL', async () => {
      // Each provoke for dora must wait out the back-off; use her account directly with a fresh clock window.
      const wrong = await page();
      let pushed = await provoke(`/accounts/${account.accountid}/provokelogin`, wrong.nonce);
      if (pushed.status === 429) {
        await new Promise((r) => setTimeout(r, Number(pushed.retryAfter) * 1000));
        pushed = await provoke(`/accounts/${account.accountid}/provokelogin`, wrong.nonce);
      }
      expect(pushed.status).toBe(200);
      const other = pushed.body.number === 10 ? 11 : 10;
      const res = await device(phoneDir.path, 'listen', '--approve', '--pin', '1234', '--number', String(other), '--once', '--interval', '0.2');
      expect(res.error?.code).toBe('number_wrong');
      await wrong.watcher.next('CANCEL');
      expect((await client.getSession(wrong.nonce)).state).toBe('cancelled');
      wrong.watcher.close();

      // Another push to dora so soon waits: 429 push_rate_limited with Retry-After.
      const again = await provoke('/users/dora/provokelogin', generateNonce());
      expect(again.status).toBe(429);
      expect(again.body.error?.code).toBe('push_rate_limited');
      expect(Number(again.retryAfter)).toBeGreaterThan(0);

      // Phones of other users: one approves with the right number, one declines.
      for (const [userid, decision] of [['erin', 'approve'], ['fred', 'decline']] as const) {
        const home = await tempDir('tapin-push-');
        try {
          expect((await device(home.path, 'enrol', (await client.enrol({ name: 'x', userid })).data)).ok).toBe(true);
          const p = await page();
          const sent = await provoke(`/users/${userid}/provokelogin`, p.nonce);
          expect(sent.status).toBe(200);
          const args = decision === 'approve' ? ['--approve', '--number', String(sent.body.number)] : ['--decline'];
          const res = await device<{ hsid: string; state: string; numbers: number[] }>(home.path, 'listen', ...args, '--once', '--interval', '0.2');
          expect(res.error).toBeUndefined();
          expect(res.json).toMatchObject({ hsid: p.hsid, state: decision === 'approve' ? 'loggedin' : 'cancelled' });
          expect(res.json.numbers).toContain(sent.body.number);
          await p.watcher.next(decision === 'approve' ? 'LOGIN' : 'CANCEL');
          expect(await client.getSession(p.nonce)).toMatchObject({ loggedin: decision === 'approve', userid: decision === 'approve' ? userid : null });
          p.watcher.close();
        } finally {
          await home.remove();
        }
      }
    }, 30_000);

    it('tapin-device listen without --number: the number piped on stdin; no number and no terminal is a clear error', async () => {
      const home = await tempDir('tapin-push-');
      const other = await tempDir('tapin-push-');
      try {
        expect((await device(home.path, 'enrol', (await client.enrol({ name: 'x', userid: 'ida' })).data)).ok).toBe(true);
        const p = await page();
        const sent = await provoke('/users/ida/provokelogin', p.nonce);
        expect(sent.status).toBe(200);
        const piped = await deviceWithStdin(home.path, `${sent.body.number}\n`, 'listen', '--approve', '--once', '--interval', '0.2');
        expect(piped.code).toBe(0);
        expect(JSON.parse(piped.stdout)).toMatchObject({ hsid: p.hsid, state: 'loggedin' });
        await p.watcher.next('LOGIN');
        p.watcher.close();

        // Nothing on stdin (it ends at once, as /dev/null does) and no terminal: the clear error, and the push waits.
        expect((await device(other.path, 'enrol', (await client.enrol({ name: 'x', userid: 'jon' })).data)).ok).toBe(true);
        const q = await page();
        const again = await provoke('/users/jon/provokelogin', q.nonce);
        expect(again.status).toBe(200);
        const empty = await deviceWithStdin(other.path, '', 'listen', '--approve', '--once', '--interval', '0.2');
        expect(empty.code).toBe(1);
        const error = (JSON.parse(empty.stderr) as { error: { code: string; message: string } }).error;
        expect(error.code).toBe('bad_request');
        expect(error.message).toContain('--number');
        expect(error.message).toContain(String(again.body.number));
        expect((await client.getSession(q.nonce)).state).toBe('provoked');
        q.watcher.close();
      } finally {
        await home.remove();
        await other.remove();
      }
    }, 30_000);

    it.skipIf(!existsSync('/usr/bin/script'))('tapin-device listen at a terminal asks for the number, and asks again for one it did not offer', async () => {
      const home = await tempDir('tapin-push-');
      try {
        expect((await device(home.path, 'enrol', (await client.enrol({ name: 'x', userid: 'kim' })).data)).ok).toBe(true);
        const p = await page();
        const sent = await provoke('/users/kim/provokelogin', p.nonce);
        expect(sent.status).toBe(200);
        // script(1) runs the CLI on a pseudo-terminal, so stdin is a TTY as when a person runs it.
        const command = [process.execPath, DEVICE_CLI, '--home', home.path, 'listen', '--approve', '--once', '--interval', '0.2'].map((a) => `'${a}'`).join(' ');
        const child = spawn('/usr/bin/script', ['-qec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
        let output = '';
        child.stdout.on('data', (d: Buffer) => (output += d.toString()));
        const asked = async (text: string) => {
          for (let i = 0; i < 100 && !output.includes(text); i++) await new Promise((r) => setTimeout(r, 100));
          expect(output).toContain(text);
        };
        await asked('Which number does the login page show?');
        child.stdin.write('123\r');
        await asked('Type one of');
        child.stdin.write(`${sent.body.number}\r`);
        const code = await new Promise<number | null>((r) => child.once('close', r));
        expect(code).toBe(0);
        expect(output).toContain(`Push login ${p.hsid}: loggedin`);
        await p.watcher.next('LOGIN');
        p.watcher.close();
      } finally {
        await home.remove();
      }
    }, 30_000);

    it('tapin-device listen --not-me: CANCEL, no more pushes to that user, an audit event', async () => {
      const home = await tempDir('tapin-push-');
      try {
        expect((await device(home.path, 'enrol', (await client.enrol({ name: 'x', userid: 'hal' })).data)).ok).toBe(true);
        const p = await page();
        expect((await provoke('/users/hal/provokelogin', p.nonce)).status).toBe(200);
        const res = await device<{ state: string }>(home.path, 'listen', '--not-me', '--once', '--interval', '0.2');
        expect(res.json).toMatchObject({ hsid: p.hsid, state: 'cancelled' });
        await p.watcher.next('CANCEL');
        p.watcher.close();
        const again = await provoke('/users/hal/provokelogin', generateNonce());
        expect(again.body.error?.code).toBe('push_rate_limited');
        expect(Number(again.retryAfter)).toBeGreaterThan(3000);
        const audit = await fetch(`${server.url}/v1/servers/${sid}/audit`, { headers: { authorization: `Bearer ${apiKey}` } });
        expect((await audit.json() as { items: unknown[] }).items[0]).toMatchObject({ type: 'push_declined_notme', userid: 'hal', hsid: p.hsid });
      } finally {
        await home.remove();
      }
    });

    it('NOACCOUNTS for a user without accounts; a blocked account gets no push', async () => {
      const home = await tempDir('tapin-push-');
      try {
        const enrolled = await device<{ accountid: string }>(home.path, 'enrol', (await client.enrol({ name: 'x', userid: 'gus' })).data);
        await client.blockAccount(enrolled.json.accountid);
        const p = await page();
        const sent = await provoke('/users/gus/provokelogin', p.nonce);
        expect(sent.status).toBe(409);
        expect(sent.body.error?.code).toBe('push_no_accounts');
        await p.watcher.next('NOACCOUNTS');
        p.watcher.close();
        // Nor does the blocked phone see anything when it pulls.
        const pulled = await device(home.path, 'listen', '--once', '--interval', '0.2');
        expect(pulled.error?.code).toBe('account_blocked');
      } finally {
        await home.remove();
      }
    });
  });
}
