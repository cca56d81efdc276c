import { spawn } from 'node:child_process';
import { TapinClient, generateNonce } from '@tapin/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEVICE_CLI, type ServerProcess, device, startServerProcess, tempDir } from '../support/processes.js';
import { Watcher } from '../support/watcher.js';

/**
 * Continuous authentication over real processes: `tapin-device login` keeps the session alive while pingTime asks
 * for it; when the phone process dies, the page gets LOGOUT within 2 × pingTime.
 */
const PING_TIME = 1;
/** The server's sweep runs this often here (default 1 s), so the LOGOUT comes at most one tick after the deadline. */
const SWEEP_MS = 100;
/** Allowed on top of the sweep tick: the LOGOUT frame's way to the page on a busy, shared 2-core machine. */
const DELIVERY_MS = 250;

describe('continuous authentication', () => {
  let server: ServerProcess;
  let client: TapinClient;
  let phone: { path: string; remove(): Promise<void> };

  beforeAll(async () => {
    server = await startServerProcess(':memory:', {}, ['--sweep-interval', String(SWEEP_MS)]);
    client = new TapinClient({ url: server.url, sid: server.sid, apiKey: server.apiKey });
    await client.updateSettings({ pingTime: PING_TIME });
    phone = await tempDir('tapin-ping-');
    expect((await device(phone.path, 'enrol', (await client.enrol({ name: 'p', userid: 'dave' })).data, '--pin', '1234')).ok).toBe(true);
  });
  afterAll(async () => {
    await server?.stop();
    await phone?.remove();
  });

  it('killing the phone process logs the browser out within 2 × pingTime', async () => {
    const nonce = generateNonce();
    const qr = await client.getQr(nonce);
    const watcher = await Watcher.connect(server.url);
    watcher.send(`REGISTER ${qr.hsid} ${server.sid}`);
    await watcher.next('WAITING');

    const child = spawn(process.execPath, [DEVICE_CLI, '--home', phone.path, '--json', 'login', qr.data, '--pin', '1234'], { stdio: ['ignore', 'pipe', 'pipe'] });
    await watcher.next('LOGIN');
    // The phone keeps pinging: still logged in after 3 × pingTime.
    await new Promise((r) => setTimeout(r, 3 * PING_TIME * 1000));
    expect((await client.getSession(nonce)).loggedin).toBe(true);
    expect(child.exitCode).toBeNull();

    const killedAt = Date.now();
    child.kill('SIGKILL');
    await watcher.next('LOGOUT', 4 * PING_TIME * 1000);
    const elapsed = Date.now() - killedAt;
    // The deadline is 2 × pingTime after the last ping, which came at most one pingTime before the kill; the
    // sweep ends the session within one tick of the deadline.
    expect(elapsed).toBeGreaterThanOrEqual(PING_TIME * 1000 - DELIVERY_MS);
    expect(elapsed).toBeLessThanOrEqual(2 * PING_TIME * 1000 + SWEEP_MS + DELIVERY_MS);
    expect((await client.getSession(nonce)).state).toBe('loggedout');
    watcher.close();
  }, 20_000);

  it('Ctrl-C on `tapin-device login` logs out; --once exits at once and leaves the session to expire', async () => {
    const nonce = generateNonce();
    const qr = await client.getQr(nonce);
    const watcher = await Watcher.connect(server.url);
    watcher.send(`REGISTER ${qr.hsid} ${server.sid}`);
    await watcher.next('WAITING');
    const child = spawn(process.execPath, [DEVICE_CLI, '--home', phone.path, 'login', qr.data, '--pin', '1234'], { stdio: ['ignore', 'pipe', 'pipe'] });
    await watcher.next('LOGIN');
    // Wait until the phone says it is keeping the session alive (its Ctrl-C handler is in place by then).
    await new Promise<void>((resolve) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('Keeping the session alive')) resolve();
      });
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGINT');
    await watcher.next('LOGOUT', 3000);
    expect(await exited).toBe(0);

    const once = await device<{ state: string; pingTime: number }>(phone.path, 'login', (await client.getQr(generateNonce())).data, '--pin', '1234', '--once');
    expect(once.json).toMatchObject({ state: 'loggedin', pingTime: PING_TIME });
    const history = await device<Array<{ hsid: string; status: string }>>(phone.path, 'sessions');
    expect(history.json.find((h) => h.hsid === qr.hsid)?.status).toBe('LOGGED_OUT');
    watcher.close();
  }, 20_000);

  it('`login --once` exits and the session expires after 2 × pingTime; `tapin-device logout <hsid>` ends pinged and one-shot sessions at once', async () => {
    const page = async () => {
      const nonce = generateNonce();
      const qr = await client.getQr(nonce);
      const watcher = await Watcher.connect(server.url);
      watcher.send(`REGISTER ${qr.hsid} ${server.sid}`);
      await watcher.next('WAITING');
      return { nonce, qr, watcher };
    };
    // 1. --once: nobody pings, so the server ends the session 2 × pingTime after the approval.
    const expiring = await page();
    const once = await device<{ state: string; hsid: string }>(phone.path, 'login', expiring.qr.data, '--pin', '1234', '--once');
    expect(once.json).toMatchObject({ state: 'loggedin', hsid: expiring.qr.hsid });
    const exitedAt = Date.now();
    await expiring.watcher.next('LOGIN');
    await expiring.watcher.next('LOGOUT', 4 * PING_TIME * 1000);
    expect(Date.now() - exitedAt).toBeLessThanOrEqual(2 * PING_TIME * 1000 + SWEEP_MS + DELIVERY_MS);
    expect((await client.getSession(expiring.nonce)).state).toBe('loggedout');
    expiring.watcher.close();

    // 2. logout <hsid> from another process, long before a 2 × 5 s deadline, and for a one-shot login (pingTime 0),
    // which history holds as LOGGED_IN_ONE_SHOT.
    const ended: string[] = [];
    for (const pingTime of [5, 0]) {
      await client.updateSettings({ pingTime });
      try {
        const p = await page();
        expect((await device(phone.path, 'login', p.qr.data, '--pin', '1234', '--once')).ok).toBe(true);
        await p.watcher.next('LOGIN');
        const startedAt = Date.now();
        expect((await device(phone.path, 'logout', p.qr.hsid)).json).toEqual({ hsid: p.qr.hsid, state: 'loggedout' });
        await p.watcher.next('LOGOUT', 3000);
        expect(Date.now() - startedAt).toBeLessThan(2 * 5000);
        expect((await client.getSession(p.nonce)).state).toBe('loggedout');
        ended.push(p.qr.hsid);
        p.watcher.close();
      } finally {
        await client.updateSettings({ pingTime: PING_TIME });
      }
    }
    const history = (await device<Array<{ hsid: string; status: string }>>(phone.path, 'sessions')).json;
    expect(ended.map((hsid) => history.find((h) => h.hsid === hsid)?.status)).toEqual(['LOGGED_OUT', 'LOGGED_OUT']);
    // Nothing left to log out.
    expect((await device(phone.path, 'logout', ended[1]!)).error).toMatchObject({ code: 'session_not_found' });
    // A handle may begin with '-' (base64url): it is still taken as the handle, not as an unknown option.
    expect((await device(phone.path, 'logout', `-${'A'.repeat(21)}`)).error).toMatchObject({ code: 'session_not_found' });
  }, 40_000);
});
