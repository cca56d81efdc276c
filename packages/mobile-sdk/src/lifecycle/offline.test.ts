import { buildLoginUrl, generateOtp, fromBase64url, parseOtp } from '@tapin/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { HistoryItem } from '../history.js';
import type { StoredAccount } from '../platform.js';
import type { UserError } from './callbacks.js';
import { TapinSDK } from './sdk.js';
import type { TapinSession } from './session.js';
import { memoryPlatform as realPruning, makeAccount } from '../test-support/memory-platform.js';

/**
 * The SDK when the network is down: reported at once (70), retried with exponential back-off and jitter, recovered
 * when the server answers again — and the offline code works throughout. Platform parts are in-memory stand-ins;
 * the network is a fetch that fails until told otherwise. (The same lifecycle runs against a real server in
 * test/e2e/sdk-lifecycle.test.ts.)
 */
const SID = 'offlineTestServer00001';
const HSID = 'AbCdEfGhIjKlMnOpQrStUv';
const BASE = 'https://tapin.example';

const account: StoredAccount = {
  accountid: 'acct-offline-0000000001', sid: SID, base: BASE, otpref: 123456, otpkey: 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8',
  userid: 'alice', description: 'phone', pinSalt: null, pinIterations: 1000, created: 0,
  server: { sid: SID, name: 'Bank', logo: '', publicUrl: BASE, serverpk: 'x', pingTime: 0, pinTimeout: -1, serverFlags: ['ENABLE_OTP'], issued: 0 },
};

function memoryPlatform() {
  const history: HistoryItem[] = [];
  return {
    history,
    storage: {
      list: async () => [account],
      save: async () => undefined,
      remove: async () => undefined,
      listHistory: async () => [...history],
      saveHistory: async (item: HistoryItem) => {
        const i = history.findIndex((h) => h.id === item.id);
        if (i >= 0) history[i] = item;
        else history.push(item);
      },
      pruneHistory: async () => undefined,
    },
    keys: { create: async () => 'pk', sign: async () => 'c2ln', rename: async () => undefined, remove: async () => undefined },
  };
}

describe('the SDK with the network down', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] }));
  afterEach(() => vi.useRealTimers());

  it('reports 70 at once, backs off exponentially with jitter, and recovers when the server answers', async () => {
    let online = false;
    const calls: number[] = [];
    const fetch = vi.fn(async () => {
      calls.push(Date.now());
      if (!online) throw new TypeError('fetch failed');
      return new Response(JSON.stringify({
        sid: SID, hsid: HSID, accountid: account.accountid, state: 'scanned', announceinfo: { info: { site: 'Bank' } },
        challenge: 'challenge-challenge-0001', challengeExpires: Date.now() + 120_000, pinRequired: false, expires: Date.now() + 600_000,
        sessioninfo: null, serverFlags: ['ENABLE_OTP'], pingTime: 0,
      }), { status: 200 });
    });
    const events: string[] = [];
    const errors: UserError[] = [];
    const p = memoryPlatform();
    const sdk = new TapinSDK({
      ...p, fetch, random: () => 1, backoff: { baseMs: 1000, factor: 2, capMs: 5000, maxAttempts: 10 },
      callbacks: {
        OTPAvailable: (s) => events.push(`OTPAvailable ${s.state}`),
        UserErrorMessage: (_s, e) => errors.push(e),
        ConfirmLogin: (s) => events.push(`ConfirmLogin ${s.state}`),
      },
    });
    const start = Date.now();
    const session = await sdk.processQR(buildLoginUrl(BASE, SID, HSID));
    // OTPAvailable comes first, in STARTING, before any network answer.
    expect(events).toEqual(['OTPAvailable STARTING']);
    expect(session.otpAvailable).toBe(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(errors).toEqual([expect.objectContaining({ errorCode: 70, code: 'connection_error' })]);
    expect(session.connectionError).toBe(true);
    expect(session.state).toBe('STARTING');

    // random() = 1 gives the ceiling of each jitter window: 1 s, 2 s, 4 s, then the 5 s cap.
    await vi.advanceTimersByTimeAsync(1000 + 2000 + 4000 + 5000);
    expect(calls.map((t) => t - start)).toEqual([0, 1000, 3000, 7000, 12000]);
    expect(errors).toHaveLength(1);

    online = true;
    await vi.advanceTimersByTimeAsync(5000);
    expect(session.connectionError).toBe(false);
    expect(session.state).toBe('USER_INTERACTION');
    expect(events).toEqual(['OTPAvailable STARTING', 'ConfirmLogin USER_INTERACTION']);
  });

  it('gives up after maxAttempts: ERROR, SessionStop, history ERROR', async () => {
    const p = memoryPlatform();
    const stops: TapinSession[] = [];
    const sdk = new TapinSDK({
      ...p, fetch: async () => { throw new TypeError('fetch failed'); }, random: () => 0.5,
      backoff: { baseMs: 100, factor: 2, capMs: 1000, maxAttempts: 3 }, callbacks: { SessionStop: (s) => stops.push(s) },
    });
    const session = await sdk.processQR(buildLoginUrl(BASE, SID, HSID));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(session.state).toBe('ERROR');
    expect(session.error?.code).toBe('connection_error');
    expect(stops).toEqual([session]);
    expect(p.history[0]).toMatchObject({ hsid: HSID, status: 'ERROR', error: 'connection_error' });
  });

  it('generateOTP works offline, matches the protocol, ends the session and stops the retries', async () => {
    const fetch = vi.fn(async () => { throw new TypeError('fetch failed'); });
    const p = memoryPlatform();
    const stops: string[] = [];
    const sdk = new TapinSDK({ ...p, fetch, callbacks: { SessionStop: (s) => stops.push(s.state) } });
    const session = await sdk.processQR(buildLoginUrl(BASE, SID, HSID));
    await vi.advanceTimersByTimeAsync(0);
    const otp = await sdk.generateOTP(session);
    expect(otp).toMatch(/^[0-9A-HJKMNP-TV-Z]{6} [0-9A-HJKMNP-TV-Z]{6}$/);
    expect(otp).toBe(generateOtp(fromBase64url(account.otpkey), account.otpref, SID, HSID, Date.now()));
    expect(parseOtp(otp)?.otpref).toBe(account.otpref);
    expect(session.state).toBe('DONE');
    expect(stops).toEqual(['DONE']);
    expect(p.history[0]).toMatchObject({ status: 'ABORTED', otp: true });
    const callsAfter = fetch.mock.calls.length;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(fetch.mock.calls.length).toBe(callsAfter);
  });

  it('refuses an OTP where the server does not allow it (otp_disabled), and reports bad QR data (32, 33)', async () => {
    const p = memoryPlatform();
    const errors: UserError[] = [];
    const sdk = new TapinSDK({ ...p, fetch: async () => { throw new TypeError('offline'); }, callbacks: { UserErrorMessage: (_s, e) => errors.push(e) } });
    const session = await sdk.processQR(buildLoginUrl(BASE, SID, HSID));
    const noOtp = { ...account, server: { ...account.server, serverFlags: [] } };
    await expect(sdk.generateOTP(session, noOtp)).rejects.toMatchObject({ code: 'otp_disabled' });
    await expect(sdk.processQR('hello world')).rejects.toMatchObject({ code: 'qr_parse_error' });
    await expect(sdk.processQR(`${BASE}/z/${SID}/${HSID}`)).rejects.toMatchObject({ code: 'qr_unknown_type' });
    expect(errors.map((e) => e.errorCode)).toEqual(expect.arrayContaining([32, 33]));
  });

  it('no account for the server → UserErrorMessage 34 and ERROR', async () => {
    const p = memoryPlatform();
    const errors: UserError[] = [];
    const sdk = new TapinSDK({ ...p, storage: { ...p.storage, list: async () => [] }, fetch: async () => new Response('{}'), callbacks: { UserErrorMessage: (_s, e) => errors.push(e) } });
    const session = await sdk.processQR(buildLoginUrl(BASE, SID, HSID));
    await vi.advanceTimersByTimeAsync(0);
    expect(session.state).toBe('ERROR');
    expect(errors[0]?.errorCode).toBe(34);
  });

  describe('history retention', () => {
    const DAY = 24 * 3600_000;
    const item = (hsid: string, updated: number): HistoryItem => ({
      id: `${SID}/${hsid}`, sid: SID, hsid, base: BASE, accountid: account.accountid, serverName: 'Bank', announceinfo: null, sessioninfo: null,
      status: 'LOGGED_OUT', otp: false, started: updated - 1000, updated,
    });

    it('keeps 90 days by default: older items leave history()', async () => {
      const p = realPruning([makeAccount(account.accountid)]);
      const now = Date.now();
      for (const [hsid, age] of [['keptHsid0000000000000a', 89 * DAY], ['edgeHsid0000000000000b', 90 * DAY], ['goneHsid0000000000000c', 90 * DAY + 1]] as const) {
        await p.storage.saveHistory(item(hsid, now - age));
      }
      const sdk = new TapinSDK({ ...p, fetch: async () => { throw new TypeError('offline'); } });
      expect((await sdk.history()).map((h) => h.hsid)).toEqual(['keptHsid0000000000000a', 'edgeHsid0000000000000b']);
      expect(p.history).toHaveLength(2);
    });

    it('a custom historyRetentionMs prunes on history() and whenever a session is recorded', async () => {
      const p = realPruning([makeAccount(account.accountid)]);
      const now = Date.now();
      await p.storage.saveHistory(item('oldHsid00000000000000a', now - 2 * 3600_000));
      await p.storage.saveHistory(item('newHsid00000000000000b', now - 30 * 60_000));
      const sdk = new TapinSDK({ ...p, historyRetentionMs: 3600_000, fetch: async () => { throw new TypeError('offline'); } });
      // Recording a session (here: an offline code) prunes too, before anyone lists the history.
      await sdk.generateOTP(await sdk.processQR(buildLoginUrl(BASE, SID, HSID)));
      expect(p.history.map((h) => h.hsid).sort()).toEqual([HSID, 'newHsid00000000000000b'].sort());
      vi.advanceTimersByTime(31 * 60_000);
      expect((await sdk.history()).map((h) => h.hsid)).toEqual([HSID]);
    });
  });
});
