import { TapinApiError, TapinClient, generateNonce } from '@tapin/client';
import { execFile } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEVICE_CLI, type ServerProcess, device, startServerProcess, tempDir } from '../support/processes.js';
import { Watcher } from '../support/watcher.js';

/**
 * The foundation flow over real processes: a `tapin serve` process, the `tapin-device` CLI as the phone, a real
 * WebSocket as the browser and @tapin/client as the business back-end. Runs on SQLite, and on PostgreSQL when
 * TAPIN_TEST_POSTGRES_URL is set (in a database of its own, dropped afterwards).
 */
const execFileAsync = promisify(execFile);
const pgUrl = process.env['TAPIN_TEST_POSTGRES_URL'];
if (!pgUrl) console.warn('[qr-login] TAPIN_TEST_POSTGRES_URL is not set: the PostgreSQL run is skipped (.ci/run sets it).');

const backends: Array<{ name: string; skip: boolean; setup: () => Promise<{ db: string; teardown(): Promise<void> }> }> = [
  { name: 'SQLite', skip: false, setup: async () => ({ db: ':memory:', teardown: async () => undefined }) },
  {
    name: 'PostgreSQL',
    skip: !pgUrl,
    setup: async () => {
      const name = `tapin_e2e_${process.pid}_${Date.now()}`;
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

for (const backend of backends) {
  describe.skipIf(backend.skip)(`QR login end to end on ${backend.name}`, () => {
    let server: ServerProcess;
    let client: TapinClient;
    let phone: { path: string; remove(): Promise<void> };
    let teardown: () => Promise<void>;
    let accountid: string;

    beforeAll(async () => {
      const setup = await backend.setup();
      teardown = setup.teardown;
      phone = await tempDir('tapin-phone-');
      server = await startServerProcess(setup.db, { TAPIN_SECRET_KEY: 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8' });
      client = new TapinClient({ url: server.url, sid: server.sid, apiKey: server.apiKey });
      const enrolment = await client.enrol({ name: 'Test phone', userid: 'alice' });
      const enrolled = await device<{ accountid: string; userid: string }>(phone.path, 'enrol', enrolment.data, '--pin', '1234');
      expect(enrolled.error).toBeUndefined();
      expect(enrolled.json.userid).toBe('alice');
      accountid = enrolled.json.accountid;
    });

    afterAll(async () => {
      await server?.stop();
      await phone?.remove();
      await teardown?.();
    });

    async function newSession() {
      const nonce = generateNonce();
      await client.setContext(nonce, { announceinfo: { info: { site: 'Demo shop' }, ip: '203.0.113.7', useragent: 'Firefox' }, sessioninfo: { info: { note: 'e2e' } } });
      const qr = await client.getQr(nonce);
      const watcher = await Watcher.connect(server.url);
      watcher.send(`REGISTER ${qr.hsid} ${server.sid}`);
      expect(await watcher.next('WAITING')).toBe(`WAITING ${qr.hsid} ${server.sid}`);
      return { nonce, qr, watcher };
    }

    it('enrols, logs in with the PIN, and logs out; the watcher sees every step', async () => {
      const { nonce, qr, watcher } = await newSession();
      const poll = client.getSession(nonce, { wait: 10 });
      const login = await device<{ state: string; announceinfo: { info: { site: string } } }>(phone.path, 'login', qr.data, '--pin', '1234');
      expect(login.error).toBeUndefined();
      expect(login.json.state).toBe('loggedin');
      expect(login.json.announceinfo.info.site).toBe('Demo shop');
      expect(await watcher.next('CONFIRMSCAN')).toBe(`CONFIRMSCAN ${qr.hsid} ${server.sid}`);
      expect(await watcher.next('LOGIN')).toBe(`LOGIN ${qr.hsid} ${server.sid}`);
      // The long-poll started before the scan and came back as soon as something happened.
      expect(['scanned', 'loggedin']).toContain((await poll).state);

      const status = await client.getSession(nonce);
      expect(status).toMatchObject({ loggedin: true, accountid, userid: 'alice', otplogin: false, state: 'loggedin' });

      const out = await client.logout(nonce);
      expect(out.state).toBe('loggedout');
      expect(await watcher.next('LOGOUT')).toBe(`LOGOUT ${qr.hsid} ${server.sid}`);
      expect((await client.getSession(nonce)).loggedin).toBe(false);
      watcher.close();
    });

    it('tapin-device accounts lists the enrolment; every file under --home is private (0600, folders 0700)', async () => {
      const listed = await device<{ sid: string; accountid: string; userid: string | null }[]>(phone.path, 'accounts');
      expect(listed.error).toBeUndefined();
      expect(listed.json).toEqual([expect.objectContaining({ sid: server.sid, accountid, userid: 'alice' })]);
      const text = await execFileAsync(process.execPath, [DEVICE_CLI, '--home', phone.path, 'accounts']);
      expect(text.stdout).toContain(accountid);

      const modes: string[] = [];
      const walk = async (dir: string): Promise<void> => {
        for (const entry of await readdir(dir, { withFileTypes: true })) {
          const path = join(dir, entry.name);
          const mode = (await stat(path)).mode & 0o777;
          modes.push(`${entry.isDirectory() ? 'dir' : 'file'} ${entry.name} ${mode.toString(8)}`);
          if (entry.isDirectory()) await walk(path);
        }
      };
      expect(((await stat(phone.path)).mode & 0o777).toString(8)).toBe('700');
      await walk(phone.path);
      expect(modes.length).toBeGreaterThan(0);
      for (const m of modes) expect(m).toMatch(m.startsWith('dir') ? / 700$/ : / 600$/);
    });

    it('a decline reaches the watcher as CANCEL and nobody is logged in', async () => {
      const { nonce, qr, watcher } = await newSession();
      const declined = await device<{ state: string }>(phone.path, 'login', qr.data, '--decline');
      expect(declined.json.state).toBe('cancelled');
      await watcher.next('CONFIRMSCAN');
      expect(await watcher.next('CANCEL')).toBe(`CANCEL ${qr.hsid} ${server.sid}`);
      expect(await client.getSession(nonce)).toMatchObject({ loggedin: false, state: 'cancelled', accountid: null });
      watcher.close();
    });

    it('registerUser assigns the logged-in account to a user', async () => {
      const extra = await tempDir('tapin-phone2-');
      try {
        const enrolled = await device<{ accountid: string; userid: string | null }>(extra.path, 'enrol', (await client.enrol({ name: 'Second' })).data);
        expect(enrolled.json.userid).toBeNull();
        const { nonce, qr, watcher } = await newSession();
        // A headless account (enrolled without --pin) approves with the device key alone.
        expect((await device<{ state: string }>(extra.path, 'login', qr.data)).json.state).toBe('loggedin');
        await watcher.next('LOGIN');
        expect((await client.registerUser(nonce, 'bob')).userid).toBe('bob');
        expect(await client.getAccount(enrolled.json.accountid)).toMatchObject({ userid: 'bob', headless: true });
        expect((await client.getUser('bob')).accounts).toBe(1);
        watcher.close();
      } finally {
        await extra.remove();
      }
    });

    it('five wrong PINs in a row block the account; then even the right PIN is refused', async () => {
      const { nonce, qr, watcher } = await newSession();
      for (let i = 1; i <= 5; i++) {
        const wrong = await device(phone.path, 'login', qr.data, '--pin', '0000');
        expect(wrong.ok).toBe(false);
        expect(wrong.error?.code).toBe(i < 5 ? 'pin_wrong' : 'account_blocked');
        expect(wrong.error?.details?.['attemptsLeft']).toBe(5 - i);
      }
      expect((await client.getAccount(accountid)).blocked).toBe(true);
      const right = await device(phone.path, 'login', qr.data, '--pin', '1234');
      expect(right.error?.code).toBe('account_blocked');
      expect((await client.getSession(nonce)).loggedin).toBe(false);

      // The business unblocks; the right PIN works again.
      await client.unblockAccount(accountid);
      expect((await device<{ state: string }>(phone.path, 'login', qr.data, '--pin', '1234')).json.state).toBe('loggedin');
      await watcher.next('LOGIN');
      watcher.close();
      // Seven CLI processes in a row: give a busy CI machine room.
    }, 60_000);

    it('the business API refuses what it should, with stable codes', async () => {
      const other = new TapinClient({ url: server.url, sid: server.sid, apiKey: `${server.apiKey.slice(0, -4)}AAAA` });
      await expect(other.getSession(generateNonce())).rejects.toMatchObject({ code: 'unauthorized', status: 401 });
      await expect(client.getSession('too-short')).rejects.toBeInstanceOf(TapinApiError);
      const watcher = await Watcher.connect(server.url);
      watcher.send(`REGISTER AAAAAAAAAAAAAAAAAAAAAA ${server.sid}`);
      expect(await watcher.next('ERROR')).toBe(`ERROR AAAAAAAAAAAAAAAAAAAAAA ${server.sid} session_not_found`);
      watcher.close();
    });
  });
}
