import { type AnswerResponse, type DeviceSessionState, type LoginStatus, deriveHsid } from '@tapin/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../server.js';
import { logoutOverdue } from '../services/sessions.js';
import { Clock, type Harness, Phone, business, enrolPhone, errorOf, generateNonce, snapshot, startHarness } from '../test-support/harness.js';
import { Socket } from '../test-support/ws-client.js';

/**
 * Continuous authentication: a logged-in session lives while its phone pings (every pingTime s, ending 2 × pingTime
 * after the last one), the phone can log it out, and blocking or deleting the account ends it. The page hears
 * LOGOUT on a real WebSocket; the clock moves by hand and the sweep runs when the test says so.
 */

const PING_TIME = 30;
const DEADLINE_MS = 2 * PING_TIME * 1000;

let h: Harness;
let call: ReturnType<typeof business>;
let wsUrl: string;
const sockets: Socket[] = [];

beforeAll(async () => {
  h = await startHarness({ ipFailuresPerMinute: 1_000_000 });
  call = business(h.app, h.a.sid, h.a.apiKey);
  await h.app.listen({ port: 0, host: '127.0.0.1' });
  const address = h.app.server.address();
  if (typeof address !== 'object' || address === null) throw new Error('not listening');
  wsUrl = `ws://127.0.0.1:${address.port}/v1/ws`;
  await setPingTime(PING_TIME);
});
afterEach(async () => {
  for (const s of sockets.splice(0)) s.ws.terminate();
  // Every test starts from pings every 30 s.
  await setPingTime(PING_TIME);
});
afterAll(async () => {
  await h.close();
});

async function setPingTime(pingTime: number): Promise<void> {
  expect((await call('PUT', '/', { body: { pingTime } })).statusCode).toBe(200);
}

/** A session with a page watching it on a real socket (the first frame, WAITING, already taken). */
async function watchedSession(sid = h.a.sid, api = call): Promise<{ nonce: string; hsid: string; watcher: Socket }> {
  const nonce = generateNonce();
  expect((await api('GET', '/session', { nonce })).statusCode).toBe(200);
  const hsid = deriveHsid(sid, nonce);
  const watcher = await Socket.open(wsUrl);
  sockets.push(watcher);
  watcher.send(`REGISTER ${hsid} ${sid}`);
  expect(await watcher.next()).toBe(`WAITING ${hsid} ${sid}`);
  return { nonce, hsid, watcher };
}

/** The phone logs the session in; the watcher's CONFIRMSCAN and LOGIN are taken. Returns the answer. */
async function loggedIn(phone: Phone, s: { hsid: string; watcher: Socket }): Promise<AnswerResponse> {
  const res = await phone.answer(await phone.fetch(s.hsid), 'approve');
  expect(res.statusCode).toBe(200);
  expect(await s.watcher.take(2)).toEqual([`CONFIRMSCAN ${s.hsid} ${h.a.sid}`, `LOGIN ${s.hsid} ${h.a.sid}`]);
  return res.json<AnswerResponse>();
}

const status = async (nonce: string) => (await call('GET', '/session', { nonce })).json<LoginStatus>();
const pinged = async (phone: Phone, hsid: string) => {
  const res = await phone.ping(hsid);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<DeviceSessionState>();
};

describe('pings', () => {
  it('keep a session alive; without one for 2 × pingTime it ends, the page gets LOGOUT and the phone learns it', async () => {
    const phone = await enrolPhone(h);
    const s = await watchedSession();
    expect(await loggedIn(phone, s)).toMatchObject({ state: 'loggedin', pingTime: PING_TIME });
    expect((await h.ctx.store.getSession(h.a.sid, s.hsid))?.ping_deadline).toBe(h.clock.t + DEADLINE_MS);

    // Ten pings, each just inside the deadline: five minutes logged in.
    for (let i = 0; i < 10; i++) {
      h.clock.advance(DEADLINE_MS - 1);
      expect(await logoutOverdue(h.ctx)).toBe(0);
      expect(await pinged(phone, s.hsid)).toEqual({ hsid: s.hsid, state: 'loggedin', pingTime: PING_TIME });
      expect((await h.ctx.store.getSession(h.a.sid, s.hsid))?.ping_deadline).toBe(h.clock.t + DEADLINE_MS);
    }
    expect(await status(s.nonce)).toMatchObject({ loggedin: true, state: 'loggedin' });
    await s.watcher.quiet(50);

    // Then the phone goes quiet. One millisecond short of the deadline it is still logged in; at the deadline the
    // session is over for getSession at once, and the sweep tells the page.
    h.clock.advance(DEADLINE_MS - 1);
    expect(await status(s.nonce)).toMatchObject({ loggedin: true });
    h.clock.advance(1);
    expect(await status(s.nonce)).toMatchObject({ loggedin: false, state: 'loggedout' });
    expect(await logoutOverdue(h.ctx)).toBe(1);
    // Logged out, the session may be pushed to again (an account logged in on it): the page hears CANPROVOKE too.
    expect(await s.watcher.take(2)).toEqual([`LOGOUT ${s.hsid} ${h.a.sid}`, `CANPROVOKE ${s.hsid} ${h.a.sid}`]);
    expect(await logoutOverdue(h.ctx)).toBe(0);
    expect(await h.ctx.store.getSession(h.a.sid, s.hsid)).toMatchObject({ state: 'loggedout', updated: h.clock.t });

    // The phone's next ping is answered (200) with the state, and pingTime 0: stop pinging.
    expect(await pinged(phone, s.hsid)).toEqual({ hsid: s.hsid, state: 'loggedout', pingTime: 0 });
    // The business can no longer log it out; it already is.
    expect(errorOf(await call('POST', '/session/logout', { nonce: s.nonce }))).toMatchObject({ status: 409, code: 'not_logged_in' });
    await s.watcher.quiet(50);
  });

  it('a late ping does not revive a session whose deadline has passed, even before the sweep', async () => {
    const phone = await enrolPhone(h);
    const s = await watchedSession();
    await loggedIn(phone, s);
    h.clock.advance(DEADLINE_MS);
    expect(await pinged(phone, s.hsid)).toEqual({ hsid: s.hsid, state: 'loggedout', pingTime: 0 });
    expect((await h.ctx.store.getSession(h.a.sid, s.hsid))?.ping_deadline).toBe(h.clock.t);
    expect(await logoutOverdue(h.ctx)).toBe(1);
    expect(await s.watcher.next()).toBe(`LOGOUT ${s.hsid} ${h.a.sid}`);
  });

  it('pingTime 0 makes one-shot logins: no deadline, nothing ever expires, a ping says pingTime 0', async () => {
    await setPingTime(0);
    const phone = await enrolPhone(h);
    const s = await watchedSession();
    expect(await loggedIn(phone, s)).toMatchObject({ state: 'loggedin', pingTime: 0 });
    expect((await h.ctx.store.getSession(h.a.sid, s.hsid))?.ping_deadline).toBeNull();
    h.clock.advance(30 * 24 * 3600_000);
    expect(await logoutOverdue(h.ctx)).toBe(0);
    expect(await status(s.nonce)).toMatchObject({ loggedin: true });
    expect(await pinged(phone, s.hsid)).toEqual({ hsid: s.hsid, state: 'loggedin', pingTime: 0 });
    // Switching pings on later does not put a deadline on a one-shot login.
    await setPingTime(PING_TIME);
    expect(await pinged(phone, s.hsid)).toEqual({ hsid: s.hsid, state: 'loggedin', pingTime: 0 });
    h.clock.advance(DEADLINE_MS * 10);
    expect(await logoutOverdue(h.ctx)).toBe(0);
    await s.watcher.quiet(50);
  });

  it('switching pingTime to 0 turns a pinged session one-shot at its next ping', async () => {
    const phone = await enrolPhone(h);
    const s = await watchedSession();
    await loggedIn(phone, s);
    await setPingTime(0);
    expect(await pinged(phone, s.hsid)).toEqual({ hsid: s.hsid, state: 'loggedin', pingTime: 0 });
    h.clock.advance(DEADLINE_MS * 10);
    expect(await logoutOverdue(h.ctx)).toBe(0);
    expect(await status(s.nonce)).toMatchObject({ loggedin: true });
  });

  it('a business logout ends it: the page gets LOGOUT and the next ping answers loggedout', async () => {
    const phone = await enrolPhone(h);
    const s = await watchedSession();
    await loggedIn(phone, s);
    expect((await call('POST', '/session/logout', { nonce: s.nonce })).json()).toMatchObject({ state: 'loggedout' });
    // Logged out, the session may be pushed to again (an account logged in on it): the page hears CANPROVOKE too.
    expect(await s.watcher.take(2)).toEqual([`LOGOUT ${s.hsid} ${h.a.sid}`, `CANPROVOKE ${s.hsid} ${h.a.sid}`]);
    expect(await pinged(phone, s.hsid)).toEqual({ hsid: s.hsid, state: 'loggedout', pingTime: 0 });
    h.clock.advance(DEADLINE_MS);
    expect(await logoutOverdue(h.ctx)).toBe(0);
    await s.watcher.quiet(50);
  });

  it('only the account that logged a session in may ping or end it; to others it does not exist', async () => {
    const phone = await enrolPhone(h);
    const other = await enrolPhone(h);
    const s = await watchedSession();
    const pending = await watchedSession();
    await loggedIn(phone, s);
    const before = await snapshot(h.ctx, h.a.sid, [s.hsid, pending.hsid]);
    for (const res of [await other.ping(s.hsid), await other.logout(s.hsid), await phone.ping(pending.hsid), await phone.logout(pending.hsid),
      await phone.ping(deriveHsid(h.a.sid, generateNonce()))]) {
      expect(errorOf(res)).toMatchObject({ status: 404, code: 'session_not_found' });
    }
    // The same account on another virtual server is another account.
    const elsewhere = await enrolPhone(h, { server: 'b' });
    expect(errorOf(await elsewhere.ping(s.hsid))).toMatchObject({ status: 404, code: 'session_not_found' });
    expect(await snapshot(h.ctx, h.a.sid, [s.hsid, pending.hsid])).toEqual(before);
    await s.watcher.quiet(50);
  });

  it('refuses unsigned, replayed and forged pings without moving the deadline', async () => {
    const phone = await enrolPhone(h);
    const s = await watchedSession();
    await loggedIn(phone, s);
    const url = `/v1/device/${h.a.sid}/sessions/${s.hsid}/ping`;
    const before = await snapshot(h.ctx, h.a.sid, [s.hsid]);
    h.clock.advance(1000);
    expect(errorOf(await h.app.inject({ method: 'POST', url }))).toMatchObject({ status: 401, code: 'bad_signature' });
    const headers = await phone.signedHeaders('POST', url);
    expect((await h.app.inject({ method: 'POST', url, headers })).statusCode).toBe(200);
    const afterOne = await snapshot(h.ctx, h.a.sid, [s.hsid]);
    expect(afterOne).not.toEqual(before);
    h.clock.advance(1000);
    expect(errorOf(await h.app.inject({ method: 'POST', url, headers }))).toMatchObject({ status: 409, code: 'request_replayed' });
    // Signed for the logout path, sent to the ping path.
    const forLogout = await phone.signedHeaders('POST', `/v1/device/${h.a.sid}/sessions/${s.hsid}/logout`);
    expect(errorOf(await h.app.inject({ method: 'POST', url, headers: forLogout }))).toMatchObject({ status: 401, code: 'bad_signature' });
    expect(errorOf(await h.app.inject({ method: 'POST', url: `/v1/device/${h.a.sid}/sessions/not-an-hsid/ping`, headers }))).toMatchObject({ status: 400 });
    expect(await snapshot(h.ctx, h.a.sid, [s.hsid])).toEqual(afterOne);
  });
});

describe('the session state read', () => {
  const stateOf = async (phone: Phone, hsid: string, sid = h.a.sid) => {
    const url = `/v1/device/${sid}/sessions/${hsid}`;
    return h.app.inject({ method: 'GET', url, headers: await phone.signedHeaders('GET', url) });
  };

  it('says where a session stands without keeping it alive; to other accounts the session does not exist', async () => {
    const phone = await enrolPhone(h);
    const other = await enrolPhone(h);
    const s = await watchedSession();
    await loggedIn(phone, s);
    const before = await snapshot(h.ctx, h.a.sid, [s.hsid]);
    h.clock.advance(DEADLINE_MS - 1000);
    const read = await stateOf(phone, s.hsid);
    expect(read.json<DeviceSessionState>()).toEqual({ hsid: s.hsid, state: 'loggedin', pingTime: PING_TIME });
    // Nothing moved: the deadline is where the approval put it, so the session still ends on time.
    expect(await snapshot(h.ctx, h.a.sid, [s.hsid])).toEqual(before);
    h.clock.advance(1000);
    expect((await stateOf(phone, s.hsid)).json<DeviceSessionState>()).toMatchObject({ state: 'loggedout', pingTime: 0 });

    expect(errorOf(await stateOf(other, s.hsid))).toMatchObject({ status: 404, code: 'session_not_found' });
    expect(errorOf(await stateOf(phone, deriveHsid(h.a.sid, generateNonce())))).toMatchObject({ status: 404, code: 'session_not_found' });
    const url = `/v1/device/${h.a.sid}/sessions/${s.hsid}`;
    expect(errorOf(await h.app.inject({ method: 'GET', url }))).toMatchObject({ status: 401, code: 'bad_signature' });
    await s.watcher.quiet(50);
  });
});

describe('logout from the phone', () => {
  it('ends the session: the page gets LOGOUT, getSession says loggedout; a second logout is answered, not repeated', async () => {
    const phone = await enrolPhone(h);
    const s = await watchedSession();
    await loggedIn(phone, s);
    const res = await phone.logout(s.hsid);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ hsid: s.hsid, state: 'loggedout', pingTime: 0 });
    // Logged out, the session may be pushed to again (an account logged in on it): the page hears CANPROVOKE too.
    expect(await s.watcher.take(2)).toEqual([`LOGOUT ${s.hsid} ${h.a.sid}`, `CANPROVOKE ${s.hsid} ${h.a.sid}`]);
    expect(await status(s.nonce)).toMatchObject({ loggedin: false, state: 'loggedout', accountid: phone.accountid });
    expect((await phone.logout(s.hsid)).json()).toEqual({ hsid: s.hsid, state: 'loggedout', pingTime: 0 });
    expect(await pinged(phone, s.hsid)).toMatchObject({ state: 'loggedout' });
    await s.watcher.quiet(50);
  });

  it('also ends a one-shot (pingTime 0) session', async () => {
    await setPingTime(0);
    const phone = await enrolPhone(h);
    const s = await watchedSession();
    await loggedIn(phone, s);
    expect((await phone.logout(s.hsid)).json()).toEqual({ hsid: s.hsid, state: 'loggedout', pingTime: 0 });
    expect(await s.watcher.next()).toBe(`LOGOUT ${s.hsid} ${h.a.sid}`);
  });
});

describe('blocking or deleting an account ends its sessions', () => {
  /** A phone logged in on two sessions, and a bystander logged in on a third. */
  async function threeSessions(userid = 'carol') {
    const phone = await enrolPhone(h, { userid });
    const bystander = await enrolPhone(h);
    const one = await watchedSession();
    const two = await watchedSession();
    const third = await watchedSession();
    await loggedIn(phone, one);
    await loggedIn(phone, two);
    await loggedIn(bystander, third);
    return { phone, bystander, one, two, third };
  }

  async function expectEnded(...sessions: Array<{ nonce: string; hsid: string; watcher: Socket }>) {
    for (const s of sessions) {
      expect(await s.watcher.next()).toBe(`LOGOUT ${s.hsid} ${h.a.sid}`);
      expect(await status(s.nonce)).toMatchObject({ loggedin: false, state: 'loggedout' });
    }
  }

  it('PUT /accounts/{id} {blocked: true}: LOGOUT; the phone’s next ping is account_blocked; unblocking revives nothing', async () => {
    const { phone, bystander, one, two, third } = await threeSessions();
    expect((await call('PUT', `/accounts/${phone.accountid}`, { body: { blocked: true } })).statusCode).toBe(200);
    await expectEnded(one, two);
    expect(errorOf(await phone.ping(one.hsid))).toMatchObject({ status: 403, code: 'account_blocked' });
    expect(errorOf(await phone.logout(one.hsid))).toMatchObject({ status: 403, code: 'account_blocked' });
    expect(await status(third.nonce)).toMatchObject({ loggedin: true });
    expect(await pinged(bystander, third.hsid)).toMatchObject({ state: 'loggedin' });
    expect((await call('PUT', `/accounts/${phone.accountid}`, { body: { blocked: false } })).statusCode).toBe(200);
    expect(await pinged(phone, one.hsid)).toEqual({ hsid: one.hsid, state: 'loggedout', pingTime: 0 });
    await third.watcher.quiet(50);
  });

  it('DELETE /accounts/{id}: LOGOUT; the phone’s next ping is account_not_found', async () => {
    const { phone, one, two, third } = await threeSessions();
    expect((await call('DELETE', `/accounts/${phone.accountid}`)).statusCode).toBe(204);
    await expectEnded(one, two);
    expect(errorOf(await phone.ping(one.hsid))).toMatchObject({ status: 404, code: 'account_not_found' });
    expect(await status(third.nonce)).toMatchObject({ loggedin: true });
    await third.watcher.quiet(50);
  });

  it('DELETE /users/{userid}/accounts: LOGOUT for every session of every account of the user', async () => {
    const { phone, one, two, third } = await threeSessions('dora');
    const second = await enrolPhone(h, { userid: 'dora' });
    const four = await watchedSession();
    await loggedIn(second, four);
    expect((await call('DELETE', '/users/dora/accounts')).statusCode).toBe(204);
    await expectEnded(one, two, four);
    expect(errorOf(await phone.ping(one.hsid))).toMatchObject({ code: 'account_not_found' });
    expect(await status(third.nonce)).toMatchObject({ loggedin: true });
  });

  it('the fifth wrong PIN blocks the account and ends its sessions', async () => {
    const { phone, one, two, third } = await threeSessions();
    const s = await watchedSession();
    for (let n = 1; n <= 5; n++) {
      const res = await phone.answer(await phone.fetch(s.hsid), 'approve', '9999');
      expect(errorOf(res).code).toBe(n < 5 ? 'pin_wrong' : 'account_blocked');
    }
    await expectEnded(one, two);
    expect(await status(third.nonce)).toMatchObject({ loggedin: true });
    expect(errorOf(await phone.ping(one.hsid))).toMatchObject({ code: 'account_blocked' });
  });

  it('an OTP login of a blocked account ends too', async () => {
    expect((await call('PUT', '/', { body: { serverFlags: ['ENABLE_OTP'] } })).statusCode).toBe(200);
    const phone = await enrolPhone(h);
    const s = await watchedSession();
    expect((await call('POST', '/session/otp', { nonce: s.nonce, body: { otp: phone.otp(s.hsid) } })).json()).toMatchObject({ otplogin: true, loggedin: true });
    expect(await s.watcher.next()).toBe(`LOGIN ${s.hsid} ${h.a.sid}`);
    expect((await call('PUT', `/accounts/${phone.accountid}`, { body: { blocked: true } })).statusCode).toBe(200);
    await expectEnded(s);
    expect((await call('PUT', '/', { body: { serverFlags: [] } })).statusCode).toBe(200);
  });
});

describe('the sweeper of a running server', () => {
  it('logs out a session whose phone stopped pinging and tells the page', async () => {
    const clock = new Clock();
    const server = await startServer({ db: ':memory:', port: 0, host: '127.0.0.1', now: clock.now, sweepIntervalMs: 10 });
    try {
      const created = server.created!;
      const api = business(server.app, created.sid, created.apiKey);
      expect((await api('PUT', '/', { body: { pingTime: 1 } })).statusCode).toBe(200);
      const enrol = await api('POST', '/enrolments', { body: { name: 'p' } });
      const phone = await Phone.create(server.app, created.sid, clock.now, null);
      expect((await phone.enrol(enrol.json<{ data: string }>().data)).statusCode).toBe(200);

      const nonce = generateNonce();
      const hsid = deriveHsid(created.sid, nonce);
      expect((await api('GET', '/session', { nonce })).statusCode).toBe(200);
      const watcher = await Socket.open(`${server.url.replace('http', 'ws')}/v1/ws`);
      sockets.push(watcher);
      watcher.send(`REGISTER ${hsid} ${created.sid}`);
      expect(await watcher.next()).toBe(`WAITING ${hsid} ${created.sid}`);
      await phone.login(hsid);
      expect(await watcher.take(2)).toEqual([`CONFIRMSCAN ${hsid} ${created.sid}`, `LOGIN ${hsid} ${created.sid}`]);

      clock.advance(1999);
      await watcher.quiet(100);
      clock.advance(1);
      expect(await watcher.next()).toBe(`LOGOUT ${hsid} ${created.sid}`);
      expect((await api('GET', '/session', { nonce })).json()).toMatchObject({ state: 'loggedout' });
    } finally {
      await server.close();
    }
  });
});
