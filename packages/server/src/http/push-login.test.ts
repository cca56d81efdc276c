import { type DeviceSession, type PendingPush, type ProvokeResponse, deriveHsid, devicePaths } from '@tapin/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, type Phone, business, enrolPhone, errorOf, generateNonce, startHarness } from '../test-support/harness.js';
import { Socket } from '../test-support/ws-client.js';

/** Push login (DESIGN §8) through the business API, the device pull and the browser WebSocket. */

let h: Harness;
let url: string;
let call: ReturnType<typeof business>;
const sockets: Socket[] = [];
let users = 0;

beforeAll(async () => {
  h = await startHarness({ ipFailuresPerMinute: 1_000_000, ipPushesPerMinute: 1_000_000 });
  call = business(h.app, h.a.sid, h.a.apiKey);
  await h.app.listen({ port: 0, host: '127.0.0.1' });
  const address = h.app.server.address();
  if (typeof address !== 'object' || address === null) throw new Error('not listening');
  url = `ws://127.0.0.1:${address.port}/v1/ws`;
});
afterEach(() => {
  for (const s of sockets.splice(0)) s.ws.terminate();
});
afterAll(async () => {
  await h.close();
});

async function watch(hsid: string): Promise<Socket> {
  const s = await Socket.open(url);
  sockets.push(s);
  s.send(`REGISTER ${hsid} ${h.a.sid}`);
  return s;
}

function newSession(): { nonce: string; hsid: string } {
  const nonce = generateNonce();
  return { nonce, hsid: deriveHsid(h.a.sid, nonce) };
}

/** A session that exists (watchers can only register existing sessions). */
async function startedSession(): Promise<{ nonce: string; hsid: string }> {
  const session = newSession();
  expect((await call('GET', '/session', { nonce: session.nonce })).statusCode).toBe(200);
  return session;
}

async function pull(phone: Phone): Promise<PendingPush[]> {
  const path = devicePaths.pushes(h.a.sid);
  const res = await h.app.inject({ method: 'GET', url: path, headers: await phone.signedHeaders('GET', path) });
  expect(res.statusCode).toBe(200);
  return res.json<{ items: PendingPush[] }>().items;
}

/** A fresh user with `n` phones, so that every test has its own back-off. */
async function user(n = 1): Promise<{ userid: string; phones: Phone[] }> {
  const userid = `user${++users}`;
  const phones: Phone[] = [];
  for (let i = 0; i < n; i++) phones.push(await enrolPhone(h, { userid }));
  return { userid, phones };
}

describe('provoke a user', () => {
  it('pushes to every account; the phone pulls, fetches with numbers, picks the right one → LOGIN', async () => {
    const { userid, phones } = await user(2);
    const { nonce, hsid } = newSession();
    expect((await call('GET', '/session', { nonce })).json().canprovoke).toBe(false);
    const page = await watch(hsid);
    expect(await page.next()).toBe(`WAITING ${hsid} ${h.a.sid}`);

    const res = await call('POST', `/users/${userid}/provokelogin`, { nonce, body: { announceinfo: { info: { Login: 'shop' } } } });
    expect(res.statusCode).toBe(200);
    const provoked = res.json<ProvokeResponse>();
    expect(provoked).toMatchObject({ hsid, state: 'provoked', accounts: 2 });
    expect(provoked.number).toBeGreaterThanOrEqual(10);
    expect(provoked.number).toBeLessThanOrEqual(99);
    expect(await page.next()).toBe(`CONFIRMPROVOKE ${hsid} ${h.a.sid} ${provoked.number}`);

    for (const phone of phones) expect((await pull(phone)).map((p) => p.hsid)).toEqual([hsid]);
    const phone = phones[0]!;
    const session = await phone.fetch(hsid);
    expect(session.state).toBe('provoked');
    expect(session.announceinfo).toEqual({ info: { Login: 'shop' } });
    expect(session.numbers).toHaveLength(3);
    expect(new Set(session.numbers).size).toBe(3);
    expect(session.numbers).toContain(provoked.number);
    await page.quiet(100); // no CONFIRMSCAN for a pushed session

    const answer = await phone.answerRaw(hsid, { ...(await phone.answerBody(session, 'approve')), number: provoked.number });
    expect(answer.statusCode).toBe(200);
    expect(await page.next()).toBe(`LOGIN ${hsid} ${h.a.sid}`);
    const status = (await call('GET', '/session', { nonce })).json();
    expect(status).toMatchObject({ loggedin: true, accountid: phone.accountid, userid });
    for (const p of phones) expect(await pull(p)).toEqual([]);
  });

  it('a wrong number cancels the login', async () => {
    const { userid, phones } = await user();
    const phone = phones[0]!;
    const { nonce, hsid } = await startedSession();
    const page = await watch(hsid);
    await page.next();
    const { number } = (await call('POST', `/users/${userid}/provokelogin`, { nonce })).json<ProvokeResponse>();
    await page.next();
    const session = await phone.fetch(hsid);
    const wrong = session.numbers!.find((n) => n !== number)!;
    const res = await phone.answerRaw(hsid, { ...(await phone.answerBody(session, 'approve')), number: wrong });
    expect(errorOf(res).code).toBe('number_wrong');
    expect(await page.next()).toBe(`CANCEL ${hsid} ${h.a.sid}`);
    expect((await call('GET', '/session', { nonce })).json()).toMatchObject({ loggedin: false, state: 'cancelled' });
    // Approving without a number is a wrong pick too.
    const { nonce: n2, hsid: h2 } = newSession();
    h.clock.advance(10_000);
    expect((await call('POST', `/users/${userid}/provokelogin`, { nonce: n2 })).statusCode).toBe(200);
    const s2 = await phone.fetch(h2);
    expect(errorOf(await phone.answer(s2, 'approve')).code).toBe('number_wrong');
  });

  it('without number matching (NO_NUMBER_MATCHING) the phone just approves', async () => {
    expect((await call('PUT', '/', { body: { serverFlags: ['NO_NUMBER_MATCHING'] } })).statusCode).toBe(200);
    try {
      const { userid, phones } = await user();
      const { nonce, hsid } = newSession();
      const res = (await call('POST', `/users/${userid}/provokelogin`, { nonce })).json<ProvokeResponse>();
      expect(res.number).toBeNull();
      const session: DeviceSession = await phones[0]!.fetch(hsid);
      expect(session.numbers).toBeUndefined();
      expect((await phones[0]!.answer(session, 'approve')).statusCode).toBe(200);
    } finally {
      await call('PUT', '/', { body: { serverFlags: [] } });
    }
  });

  it('backs off repeated provokes for one user: 10 s, doubling, with Retry-After; one pending push per user', async () => {
    const { userid, phones } = await user();
    const first = newSession();
    expect((await call('POST', `/users/${userid}/provokelogin`, { nonce: first.nonce })).statusCode).toBe(200);
    const second = newSession();
    let res = await call('POST', `/users/${userid}/provokelogin`, { nonce: second.nonce });
    expect(res.statusCode).toBe(429);
    expect(errorOf(res).code).toBe('push_rate_limited');
    expect(res.headers['retry-after']).toBe('10');
    h.clock.advance(10_000);
    expect((await call('POST', `/users/${userid}/provokelogin`, { nonce: second.nonce })).statusCode).toBe(200);
    // The newer push replaced the older one.
    expect((await pull(phones[0]!)).map((p) => p.hsid)).toEqual([second.hsid]);
    res = await call('POST', `/users/${userid}/provokelogin`, { nonce: newSession().nonce });
    expect(res.headers['retry-after']).toBe('20');
    h.clock.advance(20_000);
    expect((await call('POST', `/users/${userid}/provokelogin`, { nonce: newSession().nonce })).statusCode).toBe(200);
    res = await call('POST', `/users/${userid}/provokelogin`, { nonce: newSession().nonce });
    expect(res.headers['retry-after']).toBe('40');
  });

  it('NOACCOUNTS when the user has no active account; a blocked account gets no push', async () => {
    const { userid, phones } = await user();
    const { nonce, hsid } = await startedSession();
    const page = await watch(hsid);
    await page.next();
    expect((await call('PUT', `/accounts/${phones[0]!.accountid}`, { body: { blocked: true } })).statusCode).toBe(200);
    const res = await call('POST', `/users/${userid}/provokelogin`, { nonce });
    expect(res.statusCode).toBe(409);
    expect(errorOf(res).code).toBe('push_no_accounts');
    expect(await page.next()).toBe(`NOACCOUNTS ${hsid} ${h.a.sid}`);
    expect(errorOf(await call('POST', `/accounts/${phones[0]!.accountid}/provokelogin`, { nonce })).code).toBe('push_no_accounts');
    expect((await h.ctx.store.push.listPendingForAccount(h.a.sid, phones[0]!.accountid, h.clock.now()))).toEqual([]);
    expect(errorOf(await call('POST', '/users/nobody-here/provokelogin', { nonce })).code).toBe('user_not_found');
  });
});

describe('push limits and answers, more', () => {
  it('NOACCOUNTS for a user with no accounts at all', async () => {
    const { userid } = await user();
    expect((await call('DELETE', `/users/${userid}/accounts`)).statusCode).toBe(204);
    expect((await call('GET', `/users/${userid}`)).json()).toMatchObject({ userid, accounts: 0 });
    const { nonce, hsid } = await startedSession();
    const page = await watch(hsid);
    await page.next();
    const res = await call('POST', `/users/${userid}/provokelogin`, { nonce });
    expect(res.statusCode).toBe(409);
    expect(errorOf(res).code).toBe('push_no_accounts');
    expect(await page.next()).toBe(`NOACCOUNTS ${hsid} ${h.a.sid}`);
    expect((await call('GET', '/session', { nonce })).json().state).toBe('idle');
  });

  it('of one active and one blocked account, only the active one is pushed to', async () => {
    const { userid, phones } = await user(2);
    const [active, blocked] = phones as [Phone, Phone];
    expect((await call('PUT', `/accounts/${blocked.accountid}`, { body: { blocked: true } })).statusCode).toBe(200);
    const { nonce, hsid } = newSession();
    const res = await call('POST', `/users/${userid}/provokelogin`, { nonce });
    expect(res.json<ProvokeResponse>()).toMatchObject({ accounts: 1 });
    expect((await pull(active)).map((p) => p.hsid)).toEqual([hsid]);
    expect(await h.ctx.store.push.listPendingForAccount(h.a.sid, blocked.accountid, h.clock.now())).toEqual([]);
  });

  it('the back-off doubles up to 1 h and stays there; an hour of quiet starts it over', async () => {
    const { userid } = await user();
    const waits: number[] = [];
    for (let i = 0; i < 11; i++) {
      expect((await call('POST', `/users/${userid}/provokelogin`, { nonce: newSession().nonce })).statusCode).toBe(200);
      const res = await call('POST', `/users/${userid}/provokelogin`, { nonce: newSession().nonce });
      expect(errorOf(res).code).toBe('push_rate_limited');
      const wait = Number(res.headers['retry-after']);
      waits.push(wait);
      h.clock.advance(wait * 1000);
    }
    // 10 s · 2^n: 10, 20, … 2560, then the 1 h cap.
    expect(waits).toEqual([10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600]);
    h.clock.advance(3600_000); // quiet for an hour after the last provoke
    expect((await call('POST', `/users/${userid}/provokelogin`, { nonce: newSession().nonce })).statusCode).toBe(200);
    expect((await call('POST', `/users/${userid}/provokelogin`, { nonce: newSession().nonce })).headers['retry-after']).toBe('10');
  });

  it('a login resets the back-off', async () => {
    const { userid, phones } = await user();
    const phone = phones[0]!;
    for (const wait of [10, 20, 40]) {
      expect((await call('POST', `/users/${userid}/provokelogin`, { nonce: newSession().nonce })).statusCode).toBe(200);
      h.clock.advance(wait * 1000);
    }
    const { nonce, hsid } = newSession();
    const { number } = (await call('POST', `/users/${userid}/provokelogin`, { nonce })).json<ProvokeResponse>();
    expect((await call('POST', `/users/${userid}/provokelogin`, { nonce: newSession().nonce })).headers['retry-after']).toBe('80');
    const session = await phone.fetch(hsid);
    expect((await phone.answerRaw(hsid, { ...(await phone.answerBody(session, 'approve')), number })).statusCode).toBe(200);
    // Logged in: the next push may go at once, and the back-off starts again from 10 s.
    expect((await call('POST', `/users/${userid}/provokelogin`, { nonce: newSession().nonce })).statusCode).toBe(200);
    expect((await call('POST', `/users/${userid}/provokelogin`, { nonce: newSession().nonce })).headers['retry-after']).toBe('10');
  });
});

describe('a newer push supersedes the older one', () => {
  it('cancels the older session: its watchers get CANCEL and the phone cannot answer it, with or without a number', async () => {
    const { userid, phones } = await user();
    const phone = phones[0]!;
    const a = await startedSession();
    const pageA = await watch(a.hsid);
    await pageA.next();
    const provokedA = (await call('POST', `/users/${userid}/provokelogin`, { nonce: a.nonce })).json<ProvokeResponse>();
    expect(await pageA.next()).toBe(`CONFIRMPROVOKE ${a.hsid} ${h.a.sid} ${provokedA.number}`);
    // The phone opened A before B arrived: it holds a challenge for A.
    const sessionA = await phone.fetch(a.hsid);
    expect(sessionA.numbers).toContain(provokedA.number);

    h.clock.advance(10_000);
    const b = newSession();
    expect((await call('POST', `/users/${userid}/provokelogin`, { nonce: b.nonce })).statusCode).toBe(200);
    expect(await pageA.next()).toBe(`CANCEL ${a.hsid} ${h.a.sid}`);
    expect((await call('GET', '/session', { nonce: a.nonce })).json()).toMatchObject({ state: 'cancelled', loggedin: false });

    for (const number of [undefined, provokedA.number, 11]) {
      const body = { ...(await phone.answerBody(sessionA, 'approve')), ...(number === undefined ? {} : { number }) };
      expect((await phone.answerRaw(a.hsid, body)).statusCode).not.toBe(200);
    }
    expect((await phone.fetchRaw(a.hsid)).statusCode).toBe(409);
    expect((await call('GET', '/session', { nonce: a.nonce })).json().loggedin).toBe(false);
    expect((await pull(phone)).map((p) => p.hsid)).toEqual([b.hsid]);
  });

  it('a provoked session always needs the number the page shows, whichever phone answers it', async () => {
    const { userid } = await user();
    const stranger = await enrolPhone(h); // not pushed to: it came by the QR code
    const { nonce, hsid } = newSession();
    const { number } = (await call('POST', `/users/${userid}/provokelogin`, { nonce })).json<ProvokeResponse>();
    const session = await stranger.fetch(hsid);
    expect(session.numbers).toContain(number);
    expect(errorOf(await stranger.answer(session, 'approve')).code).toBe('number_wrong');
    expect((await call('GET', '/session', { nonce })).json()).toMatchObject({ state: 'cancelled', loggedin: false });
  });
});

describe('the device pull', () => {
  it('needs a signed request of an active account', async () => {
    const { phones } = await user();
    const path = devicePaths.pushes(h.a.sid);
    expect(errorOf(await h.app.inject({ method: 'GET', url: path })).code).toBe('bad_signature');
    const headers = await phones[0]!.signedHeaders('GET', path);
    expect((await h.app.inject({ method: 'GET', url: path, headers })).statusCode).toBe(200);
    expect(errorOf(await h.app.inject({ method: 'GET', url: path, headers })).code).toBe('request_replayed');
  });
});

describe('provoke the session (canprovoke)', () => {
  it('after a login and logout the page gets CANPROVOKE, sends PROVOKE, and the same account gets the push', async () => {
    const { phones } = await user();
    const phone = phones[0]!;
    const { nonce, hsid } = newSession();
    expect(errorOf(await call('POST', '/session/provoke', { nonce })).code).toBe('push_not_allowed');
    await phone.login(hsid);
    expect((await call('POST', '/session/logout', { nonce })).statusCode).toBe(200);
    expect((await call('GET', '/session', { nonce })).json().canprovoke).toBe(true);

    const page = await watch(hsid);
    expect(await page.take(2)).toEqual([`LOGOUT ${hsid} ${h.a.sid}`, `CANPROVOKE ${hsid} ${h.a.sid}`]);
    page.send(`PROVOKE ${hsid} ${h.a.sid}`);
    const confirm = (await page.next()).split(' ');
    expect(confirm.slice(0, 3)).toEqual(['CONFIRMPROVOKE', hsid, h.a.sid]);
    const number = Number(confirm[3]);
    expect((await pull(phone)).map((p) => p.hsid)).toEqual([hsid]);
    const session = await phone.fetch(hsid);
    expect(session.announceinfo).toBeNull();
    expect((await phone.answerRaw(hsid, { ...(await phone.answerBody(session, 'approve')), number })).statusCode).toBe(200);
    expect(await page.next()).toBe(`LOGIN ${hsid} ${h.a.sid}`);
    // A logged-in session cannot be provoked.
    page.send(`PROVOKE ${hsid} ${h.a.sid}`);
    expect(await page.next()).toBe(`ERROR ${hsid} ${h.a.sid} push_not_allowed`);
  });

  it('a registered watcher gets CANPROVOKE when the session becomes provokable again (LOGOUT, CANCEL); a rate-limited PROVOKE gets the wait', async () => {
    const { phones } = await user();
    const phone = phones[0]!;
    const { nonce, hsid } = await startedSession();
    const page = await watch(hsid);
    expect(await page.next()).toBe(`WAITING ${hsid} ${h.a.sid}`);
    await phone.login(hsid);
    expect(await page.take(2)).toEqual([`CONFIRMSCAN ${hsid} ${h.a.sid}`, `LOGIN ${hsid} ${h.a.sid}`]);
    expect((await call('POST', '/session/logout', { nonce })).statusCode).toBe(200);
    expect(await page.take(2)).toEqual([`LOGOUT ${hsid} ${h.a.sid}`, `CANPROVOKE ${hsid} ${h.a.sid}`]);

    page.send(`PROVOKE ${hsid} ${h.a.sid}`);
    expect((await page.next()).startsWith(`CONFIRMPROVOKE ${hsid} ${h.a.sid} `)).toBe(true);
    expect((await phone.answer(await phone.fetch(hsid), 'decline')).statusCode).toBe(200);
    expect(await page.take(2)).toEqual([`CANCEL ${hsid} ${h.a.sid}`, `CANPROVOKE ${hsid} ${h.a.sid}`]);

    // The user's back-off: the ERROR frame carries the seconds to wait, like Retry-After.
    h.clock.advance(4_000);
    page.send(`PROVOKE ${hsid} ${h.a.sid}`);
    expect(await page.next()).toBe(`ERROR ${hsid} ${h.a.sid} push_rate_limited 6`);
    await page.quiet(100);
  });

  it('the decline answer cancels the pushed session', async () => {
    const { phones } = await user();
    const phone = phones[0]!;
    const { nonce, hsid } = newSession();
    expect((await call('POST', `/accounts/${phone.accountid}/provokelogin`, { nonce })).statusCode).toBe(200);
    const session = await phone.fetch(hsid);
    expect((await phone.answer(session, 'decline')).statusCode).toBe(200);
    expect((await call('GET', '/session', { nonce })).json()).toMatchObject({ state: 'cancelled', loggedin: false, canprovoke: false });
    expect(await pull(phone)).toEqual([]);
  });
});

describe('"I did not try to log in"', () => {
  it('cancels, stops pushes to the user for pushBlockMs (1 h), and records an audit event the business API lists', async () => {
    const { userid, phones } = await user();
    const phone = phones[0]!;
    const { nonce, hsid } = await startedSession();
    const page = await watch(hsid);
    await page.next();
    expect((await call('POST', `/users/${userid}/provokelogin`, { nonce })).statusCode).toBe(200);
    await page.next();
    const session = await phone.fetch(hsid);
    expect((await phone.answerRaw(hsid, { ...(await phone.answerBody(session, 'decline')), notme: true })).statusCode).toBe(200);
    expect(await page.next()).toBe(`CANCEL ${hsid} ${h.a.sid}`);

    h.clock.advance(60_000); // past any back-off: what remains is the block
    const blocked = await call('POST', `/users/${userid}/provokelogin`, { nonce: newSession().nonce });
    expect(errorOf(blocked).code).toBe('push_rate_limited');
    expect(Number(blocked.headers['retry-after'])).toBe(3600 - 60);

    const audit = await call('GET', '/audit');
    expect(audit.statusCode).toBe(200);
    const events = audit.json<{ items: Array<Record<string, unknown>> }>().items;
    expect(events[0]).toMatchObject({ type: 'push_declined_notme', userid, accountid: phone.accountid, hsid, blockedUntil: h.clock.now() - 60_000 + 3600_000 });
    // Another server's key sees nothing of it.
    expect((await business(h.app, h.b.sid, h.b.apiKey)('GET', '/audit')).json<{ items: unknown[] }>().items).toEqual([]);

    h.clock.advance(3600_000);
    expect((await call('POST', `/users/${userid}/provokelogin`, { nonce: newSession().nonce })).statusCode).toBe(200);
  });

  it('an ordinary decline stops nothing', async () => {
    const { userid, phones } = await user();
    const { nonce, hsid } = newSession();
    expect((await call('POST', `/users/${userid}/provokelogin`, { nonce })).statusCode).toBe(200);
    expect((await phones[0]!.answer(await phones[0]!.fetch(hsid), 'decline')).statusCode).toBe(200);
    h.clock.advance(10_000);
    expect((await call('POST', `/users/${userid}/provokelogin`, { nonce: newSession().nonce })).statusCode).toBe(200);
  });
});

const REDIS_URL = process.env['TAPIN_TEST_REDIS_URL'];

describe.each([
  { name: 'the database', redis: undefined },
  ...(REDIS_URL ? [{ name: 'Redis', redis: REDIS_URL }] : []),
])('the per-IP push limit (counters in $name)', ({ redis }) => {
  let lh: Harness;
  let lcall: ReturnType<typeof business>;
  let wsUrl: string;
  beforeAll(async () => {
    lh = await startHarness({
      ipFailuresPerMinute: 1_000_000, ipPushesPerMinute: 3,
      ...(redis ? { redis, redisPrefix: `tapin-test-${process.pid}-${Date.now()}:` } : {}),
    });
    lcall = business(lh.app, lh.a.sid, lh.a.apiKey);
    await lh.app.listen({ port: 0, host: '127.0.0.1' });
    const address = lh.app.server.address();
    if (typeof address !== 'object' || address === null) throw new Error('not listening');
    wsUrl = `ws://127.0.0.1:${address.port}/v1/ws`;
  });
  afterAll(async () => {
    await lh.close();
  });

  it('refuses the 4th provoke a minute from one IP with push_rate_limited and Retry-After; other IPs and later minutes go on', async () => {
    const ip = '198.51.100.7';
    // Distinct users, so that the per-user back-off never gets in the way: what refuses is the IP's count.
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await enrolPhone(lh, { userid: `ipuser${i}` })).accountid);
    const push = (n: number, remoteAddress: string, body?: unknown) =>
      lcall('POST', `/accounts/${ids[n]!}/provokelogin`, { nonce: generateNonce(), remoteAddress, ...(body ? { body } : {}) });
    for (let i = 0; i < 3; i++) expect((await push(i, ip)).statusCode).toBe(200);
    lh.clock.advance(15_000);
    const refused = await push(3, ip);
    expect(refused.statusCode).toBe(429);
    expect(errorOf(refused)).toMatchObject({ code: 'push_rate_limited', message: expect.stringContaining('this address') });
    const retry = Number(refused.headers['retry-after']);
    expect(retry).toBeGreaterThanOrEqual(1);
    expect(retry).toBeLessThanOrEqual(redis ? 60 : 45);
    // Another IP has its own count; so does the visitor a business names in the context.
    expect((await push(3, '198.51.100.8')).statusCode).toBe(200);
    expect((await push(4, ip, { announceinfo: { ip: '203.0.113.9', info: {} } })).statusCode).toBe(200);
    // Something that is not an IP address in the context counts against the caller.
    expect((await push(4, ip, { sessioninfo: { ip: 'not-an-ip', info: {} } })).statusCode).toBe(429);
    if (!redis) {
      // The database counters follow the server's clock: a new minute, a new count.
      lh.clock.advance(45_000);
      expect((await push(4, ip)).statusCode).toBe(200);
    }
  });

  it('counts the browser socket\'s PROVOKE by the page\'s IP, in the same count as the API', async () => {
    lh.clock.advance(61_000); // a fresh minute
    const loggedOut = async (phone: Phone) => {
      const nonce = generateNonce();
      const hsid = deriveHsid(lh.a.sid, nonce);
      expect((await lcall('GET', '/session', { nonce })).statusCode).toBe(200);
      await phone.login(hsid);
      expect((await lcall('POST', '/session/logout', { nonce })).statusCode).toBe(200);
      return hsid;
    };
    const phones = [await enrolPhone(lh, { userid: 'ws-ip-1' }), await enrolPhone(lh, { userid: 'ws-ip-2' })];
    const others = [await enrolPhone(lh, { userid: 'ws-ip-3' }), await enrolPhone(lh, { userid: 'ws-ip-4' }), await enrolPhone(lh, { userid: 'ws-ip-5' })];
    const first = await loggedOut(phones[0]!);
    const second = await loggedOut(phones[1]!);
    const s = await Socket.open(wsUrl); // from 127.0.0.1
    try {
      s.send(`REGISTER ${first} ${lh.a.sid}`);
      expect(await s.take(2)).toEqual([`LOGOUT ${first} ${lh.a.sid}`, `CANPROVOKE ${first} ${lh.a.sid}`]);
      s.send(`PROVOKE ${first} ${lh.a.sid}`);
      expect((await s.next()).startsWith(`CONFIRMPROVOKE ${first} ${lh.a.sid}`)).toBe(true);
      // Two more from the same address through the API use up its three …
      for (const phone of others.slice(0, 2)) {
        expect((await lcall('POST', `/accounts/${phone.accountid}/provokelogin`, { nonce: generateNonce(), remoteAddress: '127.0.0.1' })).statusCode).toBe(200);
      }
      expect((await lcall('POST', `/accounts/${others[2]!.accountid}/provokelogin`, { nonce: generateNonce(), remoteAddress: '127.0.0.1' })).statusCode).toBe(429);
      // … so the page's next PROVOKE (for another user, free of any back-off) is refused.
      s.send(`REGISTER ${second} ${lh.a.sid}`);
      expect(await s.take(2)).toEqual([`LOGOUT ${second} ${lh.a.sid}`, `CANPROVOKE ${second} ${lh.a.sid}`]);
      s.send(`PROVOKE ${second} ${lh.a.sid}`);
      expect((await s.next()).startsWith(`ERROR ${second} ${lh.a.sid} push_rate_limited`)).toBe(true);
    } finally {
      s.ws.terminate();
    }
  });
});
