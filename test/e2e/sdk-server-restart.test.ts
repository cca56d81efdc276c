import { join } from 'node:path';
import { TapinClient, generateNonce } from '@tapin/client';
import { TapinSDK, type TapinSession, type UserError } from '@tapin/mobile-sdk';
import { FileStore } from '@tapin/mobile-sdk/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerProcess, startServerProcess, tempDir } from '../support/processes.js';

/**
 * The phone and a server that goes away: a real `tapin serve` process on a SQLite file is stopped while the phone
 * scans, so the SDK reports 70 and keeps trying; the process is started again on the same file and port, and the
 * same login goes through.
 */
describe('SDK through a server restart', () => {
  let dir: { path: string; remove(): Promise<void> };
  let server: ServerProcess;
  let port: string;
  let db: string;

  beforeAll(async () => {
    dir = await tempDir('tapin-restart-');
    db = join(dir.path, 'tapin.db');
    server = await startServerProcess(db);
    port = new URL(server.url).port;
  });
  afterAll(async () => {
    await server?.stop();
    await dir?.remove();
  });

  it('STARTING with the server down: UserErrorMessage 70 once, retries, and recovers into USER_INTERACTION when it is back', async () => {
    const client = new TapinClient({ url: server.url, sid: server.sid, apiKey: server.apiKey });
    const store = new FileStore(join(dir.path, 'phone'));
    const enrolled = new TapinSDK({ storage: store, keys: store, callbacks: { ConfirmEnrol: (s) => void s.enrol() } });
    const enrolment = await enrolled.processQR((await client.enrol({ name: 'phone', userid: 'gina' })).data);
    await until(() => enrolment.ended);
    expect(enrolment.state).toBe('DONE');

    const nonce = generateNonce();
    const qr = await client.getQr(nonce);
    await server.stop();

    const events: string[] = [];
    const errors: UserError[] = [];
    let stopped!: (s: TapinSession) => void;
    const stop = new Promise<TapinSession>((r) => (stopped = r));
    const sdk = new TapinSDK({
      storage: store, keys: store, backoff: { baseMs: 200, factor: 2, capMs: 800, maxAttempts: 40 },
      callbacks: {
        ConfirmLogin: (s) => { events.push(`ConfirmLogin ${s.state}`); void s.approve(); },
        UserErrorMessage: (_s, e) => { errors.push(e); events.push(`UserErrorMessage ${e.errorCode}`); },
        SessionStop: (s) => { events.push(`SessionStop ${s.state}`); stopped(s); },
      },
    });
    const session = await sdk.processQR(qr.data);
    await until(() => session.connectionError);
    expect(session.state).toBe('STARTING');
    expect(errors).toEqual([expect.objectContaining({ errorCode: 70, code: 'connection_error' })]);
    // A while of failed retries, quietly.
    await new Promise((r) => setTimeout(r, 1500));
    expect(session.state).toBe('STARTING');
    expect(errors).toHaveLength(1);

    server = await startServerProcess(db, {}, ['--port', port]);
    expect(server.url).toBe(`http://127.0.0.1:${port}`);
    expect(server.sid).toBeNull(); // not a fresh database: the virtual server, the account and the session survived
    expect((await stop).state).toBe('DONE');
    expect(session.connectionError).toBe(false);
    expect(events).toEqual(['UserErrorMessage 70', 'ConfirmLogin USER_INTERACTION', 'SessionStop DONE']);
    expect(await client.getSession(nonce)).toMatchObject({ loggedin: true, userid: 'gina', accountid: session.account?.accountid });
  }, 40_000);
});

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
