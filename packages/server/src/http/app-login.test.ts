import { type AppLoginResponse, type DeviceSessionState, type LoginStatus, deriveHsid, devicePaths } from '@tapin/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, type Phone, business, enrolPhone, errorOf, startHarness } from '../test-support/harness.js';

/**
 * In-app login: the phone asks for a fresh session for itself (signed), answers it like any login, and the app's
 * back-end reads it with the nonce. With pingTime the session lives while the app pings, and a ping reporting
 * `idle` at or past inactivityTimeout ends it.
 */
let h: Harness;
let call: ReturnType<typeof business>;
let phone: Phone;

beforeAll(async () => {
  h = await startHarness({ ipFailuresPerMinute: 1_000_000 });
  call = business(h.app, h.a.sid, h.a.apiKey);
  phone = await enrolPhone(h, { userid: 'ivy' });
});
afterAll(async () => {
  await h.close();
});

async function appLogin(body: unknown = {}, who: Phone = phone) {
  const url = devicePaths.appLogin(who.sid);
  const raw = JSON.stringify(body);
  return h.app.inject({ method: 'POST', url, payload: raw, headers: { 'content-type': 'application/json', ...(await who.signedHeaders('POST', url, raw)) } });
}

async function ping(hsid: string, idle?: number) {
  const res = await phone.signedPost(devicePaths.ping(h.a.sid, hsid, idle));
  expect(res.statusCode, res.body).toBe(200);
  return res.json<DeviceSessionState>();
}

const status = async (nonce: string) => (await call('GET', '/session', { nonce })).json<LoginStatus>();

describe('POST /v1/device/{sid}/app-login', () => {
  it('makes a session for the calling account whose nonce the app back-end reads with getSession', async () => {
    const res = await appLogin({ sessioninfo: { info: { app: 'Shop app' } } });
    expect(res.statusCode, res.body).toBe(200);
    const s = res.json<AppLoginResponse>();
    expect(s).toMatchObject({ sid: h.a.sid, accountid: phone.accountid, state: 'scanned', inactivityTimeout: 300, sessioninfo: { info: { app: 'Shop app' } } });
    expect(s.hsid).toBe(deriveHsid(h.a.sid, s.nonce));
    expect(await status(s.nonce)).toMatchObject({ loggedin: false, state: 'scanned' });

    expect((await phone.answer(s, 'approve')).statusCode).toBe(200);
    expect(await status(s.nonce)).toMatchObject({ loggedin: true, accountid: phone.accountid, userid: 'ivy', otplogin: false });
    // Each call is a new session with a new nonce.
    expect((await appLogin()).json<AppLoginResponse>().nonce).not.toBe(s.nonce);
  });

  it('binds the challenge to the calling account: another phone cannot answer it', async () => {
    const s = (await appLogin()).json<AppLoginResponse>();
    const other = await enrolPhone(h);
    const body = await other.answerBody(s, 'approve');
    expect(errorOf(await other.answerRaw(s.hsid, body))).toMatchObject({ code: 'challenge_replayed' });
    expect(await status(s.nonce)).toMatchObject({ loggedin: false });
  });

  it('refuses unsigned, replayed and malformed requests', async () => {
    const url = devicePaths.appLogin(h.a.sid);
    expect(errorOf(await h.app.inject({ method: 'POST', url, payload: {} }))).toMatchObject({ status: 401, code: 'bad_signature' });
    const headers = { 'content-type': 'application/json', ...(await phone.signedHeaders('POST', url, '{}')) };
    expect((await h.app.inject({ method: 'POST', url, payload: '{}', headers })).statusCode).toBe(200);
    expect(errorOf(await h.app.inject({ method: 'POST', url, payload: '{}', headers }))).toMatchObject({ code: 'request_replayed' });
    expect(errorOf(await appLogin({ nonce: 'x'.repeat(30) }))).toMatchObject({ status: 400, code: 'bad_request' });
    const big = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`k${i}`, 'x'.repeat(1000)]));
    expect(errorOf(await appLogin({ announceinfo: { info: big } }))).toMatchObject({ status: 413, code: 'context_too_large' });
  });

  it('refuses a blocked account', async () => {
    const blocked = await enrolPhone(h);
    expect((await call('PUT', `/accounts/${blocked.accountid}`, { body: { blocked: true } })).statusCode).toBe(200);
    expect(errorOf(await appLogin({}, blocked))).toMatchObject({ code: 'account_blocked' });
  });

  it('with pingTime: pings keep it alive while the app is used; idle ≥ inactivityTimeout logs it out', async () => {
    expect((await call('PUT', '/', { body: { pingTime: 30, inactivityTimeout: 120 } })).statusCode).toBe(200);
    try {
      const s = (await appLogin()).json<AppLoginResponse>();
      expect(s.inactivityTimeout).toBe(120);
      expect((await phone.answer(s, 'approve')).json()).toMatchObject({ state: 'loggedin', pingTime: 30 });
      for (const idle of [0, 25, 119]) {
        h.clock.advance(25_000);
        expect(await ping(s.hsid, idle)).toMatchObject({ state: 'loggedin', pingTime: 30 });
      }
      h.clock.advance(25_000);
      expect(await ping(s.hsid, 120)).toMatchObject({ state: 'loggedout', pingTime: 0 });
      expect(await status(s.nonce)).toMatchObject({ loggedin: false, state: 'loggedout' });
      // A later ping does not bring it back.
      expect(await ping(s.hsid, 0)).toMatchObject({ state: 'loggedout' });

      // inactivityTimeout 0: never ends for idleness.
      expect((await call('PUT', '/', { body: { inactivityTimeout: 0 } })).statusCode).toBe(200);
      const t = (await appLogin()).json<AppLoginResponse>();
      await phone.answer(t, 'approve');
      expect(await ping(t.hsid, 10 ** 6)).toMatchObject({ state: 'loggedin' });
    } finally {
      await call('PUT', '/', { body: { pingTime: 0, inactivityTimeout: 300 } });
    }
  });

  it('refuses a malformed idle value', async () => {
    const s = (await appLogin()).json<AppLoginResponse>();
    for (const idle of ['-1', 'abc', '1e99']) {
      const url = `/v1/device/${h.a.sid}/sessions/${s.hsid}/ping?idle=${idle}`;
      expect(errorOf(await h.app.inject({ method: 'POST', url, headers: await phone.signedHeaders('POST', url) })), idle).toMatchObject({ status: 400, code: 'bad_request' });
    }
  });
});
