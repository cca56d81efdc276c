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

describe('continuous authentication', () => {
  let server: ServerProcess;
  let client: TapinClient;
  let phone: { path: string; remove(): Promise<void> };

  beforeAll(async () => {
    server = await startServerProcess();
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
    // 2 × pingTime after the last ping, plus up to one tick of the server's sweeper (1 s).
    expect(elapsed).toBeLessThanOrEqual(2 * PING_TIME * 1000 + 1_200);
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
});
