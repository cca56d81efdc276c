import { TapinClient, generateNonce } from '@tapin/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerProcess, device, startServerProcess, tempDir } from '../support/processes.js';
import { Watcher } from '../support/watcher.js';

/**
 * The offline fallback over real processes: the phone computes the code with the server down, the site submits
 * it through otpLogin once the server is back, and the login is marked otplogin.
 */
const SECRET = { TAPIN_SECRET_KEY: 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8' };

describe('offline OTP fallback', () => {
  let dir: { path: string; remove(): Promise<void> };
  let server: ServerProcess;
  let db: string;

  beforeAll(async () => {
    dir = await tempDir('tapin-otp-');
    db = `${dir.path}/tapin.db`;
    server = await startServerProcess(db, SECRET);
  });
  afterAll(async () => {
    await server?.stop();
    await dir?.remove();
  });

  async function otpLogin(url: string, sid: string, apiKey: string, nonce: string, otp: string) {
    const res = await fetch(`${url}/v1/servers/${sid}/session/otp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'x-nonce': nonce, 'content-type': 'application/json' },
      body: JSON.stringify({ otp }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  it('the phone makes the code with the server unreachable; otpLogin accepts it once; getSession says otplogin', async () => {
    const { sid, apiKey } = server;
    let client = new TapinClient({ url: server.url, sid, apiKey });
    const phone = `${dir.path}/phone`;
    expect((await device(phone, 'enrol', (await client.enrol({ name: 'p', userid: 'erin' })).data, '--pin', '1234')).ok).toBe(true);

    const nonce = generateNonce();
    const qr = await client.getQr(nonce);
    // Without ENABLE_OTP the phone refuses to make a code and the server refuses to take one.
    expect((await device(phone, 'otp', qr.data)).error?.code).toBe('otp_disabled');
    expect((await otpLogin(server.url, sid, apiKey, nonce, '0000000000AA')).body).toMatchObject({ error: { code: 'otp_disabled' } });
    await client.updateSettings({ serverFlags: ['ENABLE_OTP'] });
    // The phone learns the flag the next time it talks to the server (here: a declined scan of another session).
    await device(phone, 'login', (await client.getQr(generateNonce())).data, '--decline');

    // The server goes away; the phone still makes the code.
    await server.stop();
    const made = await device<{ otp: string }>(phone, 'otp', qr.data);
    expect(made.error).toBeUndefined();
    expect(made.json.otp).toMatch(/^[0-9A-Z]{6} [0-9A-Z]{6}$/);

    server = await startServerProcess(db, SECRET);
    client = new TapinClient({ url: server.url, sid, apiKey });
    const watcher = await Watcher.connect(server.url);
    watcher.send(`REGISTER ${qr.hsid} ${sid}`);
    await watcher.next('WAITING');
    // Typed the way people type: lower case, a hyphen instead of the space.
    const typed = made.json.otp.toLowerCase().replace(' ', '-');
    const ok = await otpLogin(server.url, sid, apiKey, nonce, typed);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ loggedin: true, otplogin: true, userid: 'erin' });
    await watcher.next('LOGIN');
    expect(await client.getSession(nonce)).toMatchObject({ loggedin: true, otplogin: true });
    // A code works once.
    expect((await otpLogin(server.url, sid, apiKey, nonce, typed)).status).toBeGreaterThanOrEqual(400);
    const history = await device<Array<{ hsid: string; otp: boolean }>>(phone, 'sessions');
    expect(history.json.find((h) => h.hsid === qr.hsid)?.otp).toBe(true);
    watcher.close();
  }, 30_000);
});
