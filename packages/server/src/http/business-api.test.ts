import { type LoginStatus, deriveHsid, hashAnnounceinfo, loginStatement, sign } from '@tapin/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Harness, business, enrolPhone, errorOf, generateNonce, startHarness } from '../test-support/harness.js';

/** The business API's happy paths, through inject, with the database checked behind them. */

let h: Harness;
let call: ReturnType<typeof business>;
beforeEach(async () => {
  h = await startHarness();
  call = business(h.app, h.a.sid, h.a.apiKey);
});
afterEach(async () => {
  await h.close();
});

describe('sessions', () => {
  it('getSession creates an idle session on first use and returns the same one afterwards', async () => {
    const nonce = generateNonce();
    const hsid = deriveHsid(h.a.sid, nonce);
    expect(await h.ctx.store.getSession(h.a.sid, hsid)).toBeUndefined();
    const res = await call('GET', '/session', { nonce });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const status = res.json<LoginStatus>();
    expect(status).toEqual({
      loggedin: false, accountid: null, userid: null, otplogin: false, canprovoke: false, hsid,
      loginqrdata: `http://localhost/q/${h.a.sid}/${hsid}`, state: 'idle', expires: h.clock.now() + 10 * 60_000,
    });
    const row = await h.ctx.store.getSession(h.a.sid, hsid);
    expect(row).toMatchObject({ state: 'idle', created: h.clock.now(), expires: h.clock.now() + 600_000 });
    // The nonce itself is stored nowhere.
    expect(JSON.stringify(row)).not.toContain(nonce);

    h.clock.advance(1000);
    expect((await call('GET', '/session', { nonce })).json()).toEqual(status);
    expect((await h.ctx.store.getSession(h.a.sid, hsid))?.created).toBe(row?.created);
    // The same nonce on another virtual server is another session.
    const other = await business(h.app, h.b.sid, h.b.apiKey)('GET', '/session', { nonce });
    expect(other.json<LoginStatus>().hsid).toBe(deriveHsid(h.b.sid, nonce));
    expect(other.json<LoginStatus>().hsid).not.toBe(hsid);
  });

  it('reports an idle session as expired after 10 minutes', async () => {
    const nonce = generateNonce();
    await call('GET', '/session', { nonce });
    h.clock.advance(10 * 60_000);
    expect((await call('GET', '/session', { nonce })).json()).toMatchObject({ state: 'expired', loggedin: false });
    expect(errorOf(await call('PUT', '/session/context', { nonce, body: { sessioninfo: {} } }))).toMatchObject({ status: 410, code: 'session_expired' });
  });

  it('setContext stores announceinfo and sessioninfo; the phone sees and signs what was announced', async () => {
    const nonce = generateNonce();
    const hsid = deriveHsid(h.a.sid, nonce);
    const announceinfo = { info: { action: 'Log in to Example', amount: '0 EUR' }, ip: '192.0.2.1', useragent: 'Firefox' };
    const sessioninfo = { info: { site: 'example.com' } };
    const res = await call('PUT', '/session/context', { nonce, body: { announceinfo, sessioninfo } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ hsid, state: 'idle' });
    const row = await h.ctx.store.getSession(h.a.sid, hsid);
    expect(JSON.parse(row!.announceinfo!)).toEqual(announceinfo);
    expect(JSON.parse(row!.sessioninfo!)).toEqual(sessioninfo);

    const phone = await enrolPhone(h, { pin: null });
    const session = await phone.fetch(hsid);
    expect(session.announceinfo).toEqual(announceinfo);

    // Once scanned, what the user approves is fixed; sessioninfo may still change.
    expect(errorOf(await call('PUT', '/session/context', { nonce, body: { announceinfo: { info: { amount: '999 EUR' } } } }))).toMatchObject({ status: 409, code: 'session_state' });
    expect((await call('PUT', '/session/context', { nonce, body: { sessioninfo: { info: { site: 'changed' } } } })).statusCode).toBe(200);

    expect((await phone.answer(session, 'approve')).statusCode).toBe(200);
    const proof = JSON.parse((await h.ctx.store.getSession(h.a.sid, hsid))!.proof!) as { statement: string };
    expect(proof.statement).toContain(hashAnnounceinfo(announceinfo));
  });

  it('runs a whole login: scan, approve, registerUser, logout', async () => {
    const nonce = generateNonce();
    const hsid = deriveHsid(h.a.sid, nonce);
    await call('GET', '/session', { nonce });
    const phone = await enrolPhone(h);
    expect(errorOf(await call('POST', '/session/logout', { nonce }))).toMatchObject({ status: 409, code: 'not_logged_in' });
    expect(errorOf(await call('POST', '/session/registeruser', { nonce, body: { userid: 'alice' } }))).toMatchObject({ status: 409, code: 'not_logged_in' });
    await phone.login(hsid);
    expect((await call('GET', '/session', { nonce })).json()).toMatchObject({ loggedin: true, state: 'loggedin', accountid: phone.accountid, userid: null, expires: null });

    const registered = await call('POST', '/session/registeruser', { nonce, body: { userid: 'alice' } });
    expect(registered.json()).toMatchObject({ loggedin: true, userid: 'alice' });
    expect(await h.ctx.store.getAccount(h.a.sid, phone.accountid)).toMatchObject({ userid: 'alice', lastlogin: h.clock.now() });

    expect((await call('POST', '/session/logout', { nonce })).json()).toMatchObject({ loggedin: false, state: 'loggedout' });
    expect(errorOf(await call('POST', '/session/logout', { nonce }))).toMatchObject({ status: 409, code: 'not_logged_in' });
    // A logged-in or finished session cannot be scanned again.
    expect(errorOf(await phone.fetchRaw(hsid))).toMatchObject({ status: 409, code: 'session_state' });
  });

  it('enrolment with a userid assigns the new account to that user', async () => {
    const phone = await enrolPhone(h, { pin: null, userid: 'bob' });
    expect(phone.enrolment).toMatchObject({ userid: 'bob', accountid: phone.accountid });
    expect((await call('GET', '/users/bob')).json()).toMatchObject({ userid: 'bob', accounts: 1 });
  });
});

describe('QR codes', () => {
  it('answers JSON, SVG and PNG with their content types', async () => {
    const nonce = generateNonce();
    const hsid = deriveHsid(h.a.sid, nonce);
    const data = `http://localhost/q/${h.a.sid}/${hsid}`;

    const json = await call('GET', '/session/qr', { nonce });
    expect(json.statusCode).toBe(200);
    expect(json.headers['content-type']).toMatch(/^application\/json/);
    expect(json.json()).toEqual({ data, hsid });
    expect(json.headers['cache-control']).toBe('no-store');
    expect((await h.ctx.store.getSession(h.a.sid, hsid))?.state).toBe('idle');
    expect((await call('GET', '/session/qr', { nonce, query: { format: 'json' } })).json()).toEqual({ data, hsid });

    const svg = await call('GET', '/session/qr', { nonce, query: { format: 'svg' } });
    expect(svg.statusCode).toBe(200);
    expect(svg.headers['content-type']).toMatch(/^image\/svg\+xml/);
    expect(svg.body).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);

    const png = await call('GET', '/session/qr', { nonce, query: { format: 'png' } });
    expect(png.statusCode).toBe(200);
    expect(png.headers['content-type']).toBe('image/png');
    expect([...png.rawPayload.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  });
});

describe('settings', () => {
  it('reads and changes the server settings', async () => {
    const res = await call('GET', '/');
    expect(res.statusCode).toBe(200);
    const settings = res.json<Record<string, unknown>>();
    expect(settings).toMatchObject({ sid: h.a.sid, name: 'Test', logo: '', pingTime: 0, pinTimeout: 0, pinTransTimeout: 0, serverFlags: [] });
    expect(settings['serverpk']).toMatch(/^[A-Za-z0-9_-]{87}$/);
    expect(JSON.stringify(settings)).not.toMatch(/private/i);

    const put = await call('PUT', '/', { body: { name: 'Shop', pingTime: 30, pinTimeout: -1, serverFlags: ['ENABLE_OTP', 'ENABLE_OTP'] } });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({ name: 'Shop', pingTime: 30, pinTimeout: -1, pinTransTimeout: 0, serverFlags: ['ENABLE_OTP'] });
    expect((await call('GET', '/')).json()).toEqual(put.json());
    expect(await h.ctx.store.getServer(h.a.sid)).toMatchObject({ name: 'Shop', ping_time: 30, pin_timeout: -1, server_flags: '["ENABLE_OTP"]' });
    // Only what was sent changes; the other server is untouched.
    expect((await call('PUT', '/', { body: { logo: 'https://example.com/logo.png' } })).json()).toMatchObject({ name: 'Shop', logo: 'https://example.com/logo.png' });
    expect((await business(h.app, h.b.sid, h.b.apiKey)('GET', '/')).json()).toMatchObject({ name: 'Test', pingTime: 0 });
  });
});

describe('users and accounts', () => {
  it('lists, reads, assigns, blocks, unblocks and deletes, with pagination', async () => {
    const phones = [];
    for (let i = 0; i < 3; i++) phones.push(await enrolPhone(h, { pin: null, description: `Phone ${i}` }));
    const ids = phones.map((p) => p.accountid).sort();

    // Accounts: pages of 2.
    const p1 = await call('GET', '/accounts', { query: { limit: '2' } });
    expect(p1.statusCode).toBe(200);
    const page1 = p1.json<{ items: Array<{ accountid: string }>; marker: string | null }>();
    expect(page1.items.map((a) => a.accountid)).toEqual(ids.slice(0, 2));
    expect(page1.marker).toBe(ids[1]);
    const page2 = (await call('GET', '/accounts', { query: { limit: '2', marker: page1.marker! } })).json<typeof page1>();
    expect(page2).toEqual({ items: [expect.objectContaining({ accountid: ids[2] })], marker: null });
    // Only this server's accounts, and never a key or secret.
    expect((await business(h.app, h.b.sid, h.b.apiKey)('GET', '/accounts')).json()).toEqual({ items: [], marker: null });
    const one = (await call('GET', `/accounts/${ids[0]}`)).json<Record<string, unknown>>();
    expect(Object.keys(one).sort()).toEqual(['accountid', 'blocked', 'clientVersion', 'created', 'description', 'headless', 'lastlogin', 'userid']);
    expect(one).toMatchObject({ accountid: ids[0], userid: null, blocked: false, headless: true, clientVersion: 'test/1' });
    expect(errorOf(await call('GET', `/accounts/${ids[0]!.slice(0, -2)}xx`))).toMatchObject({ status: 404, code: 'account_not_found' });
    expect(errorOf(await business(h.app, h.b.sid, h.b.apiKey)('GET', `/accounts/${ids[0]}`))).toMatchObject({ status: 404, code: 'account_not_found' });

    // Assign: users spring into being; null unassigns.
    for (const [id, userid] of [[ids[0], 'carol'], [ids[1], 'alice'], [ids[2], 'alice']] as const) {
      const res = await call('PUT', `/accounts/${id}/user`, { body: { userid } });
      expect(res.json()).toMatchObject({ accountid: id, userid });
    }
    const users1 = (await call('GET', '/users', { query: { limit: '1' } })).json<{ items: Array<{ userid: string; accounts: number }>; marker: string | null }>();
    expect(users1).toEqual({ items: [{ userid: 'alice', created: h.clock.now(), attributes: {}, accounts: 2 }], marker: 'alice' });
    const users2 = (await call('GET', '/users', { query: { limit: '1', marker: 'alice' } })).json<typeof users1>();
    expect(users2).toEqual({ items: [expect.objectContaining({ userid: 'carol', accounts: 1 })], marker: null });
    expect((await call('GET', '/users', { query: { search: 'aro' } })).json<typeof users1>().items.map((u) => u.userid)).toEqual(['carol']);
    expect((await call('GET', '/users', { query: { filter: 'ali' } })).json<typeof users1>().items.map((u) => u.userid)).toEqual(['alice']);
    expect((await call('GET', '/users/alice')).json()).toMatchObject({ userid: 'alice', accounts: 2 });
    const aliceAccounts = (await call('GET', '/users/alice/accounts', { query: { limit: '1' } })).json<typeof page1>();
    expect(aliceAccounts.items.map((a) => a.accountid)).toEqual([ids[1]]);
    expect((await call('GET', '/users/alice/accounts', { query: { marker: aliceAccounts.marker! } })).json<typeof page1>().items.map((a) => a.accountid)).toEqual([ids[2]]);
    expect(errorOf(await call('GET', '/users/nobody'))).toMatchObject({ status: 404, code: 'user_not_found' });
    expect(errorOf(await call('GET', '/users/nobody/accounts'))).toMatchObject({ status: 404, code: 'user_not_found' });

    // Attributes.
    expect((await call('PUT', '/users/alice/attributes', { body: { team: 'red', level: '3' } })).json()).toEqual({ team: 'red', level: '3' });
    expect((await call('GET', '/users/alice/attributes')).json()).toEqual({ team: 'red', level: '3' });
    expect(errorOf(await call('PUT', '/users/alice/attributes', { body: { n: { nested: 'x' } } }))).toMatchObject({ status: 400, code: 'bad_request' });
    expect((await call('DELETE', '/users/alice/attributes')).statusCode).toBe(204);
    expect((await call('GET', '/users/alice/attributes')).json()).toEqual({});

    // Block and unblock.
    expect((await call('PUT', `/accounts/${ids[0]}`, { body: { blocked: true } })).json()).toMatchObject({ blocked: true });
    expect((await h.ctx.store.getAccount(h.a.sid, ids[0]!))?.blocked).toBe(1);
    expect((await call('PUT', `/accounts/${ids[0]}`, { body: { blocked: false } })).json()).toMatchObject({ blocked: false });
    expect(errorOf(await call('PUT', `/accounts/${ids[0]}`, { body: { blocked: 'yes' } }))).toMatchObject({ status: 400, code: 'bad_request' });

    // Unassign.
    expect((await call('PUT', `/accounts/${ids[0]}/user`, { body: { userid: null } })).json()).toMatchObject({ userid: null });
    expect((await call('GET', '/users/carol')).json()).toMatchObject({ accounts: 0 });

    // Delete a user: its accounts stay, unassigned.
    expect((await call('DELETE', '/users/carol')).statusCode).toBe(204);
    expect(errorOf(await call('DELETE', '/users/carol'))).toMatchObject({ status: 404, code: 'user_not_found' });
    await call('PUT', `/accounts/${ids[0]}/user`, { body: { userid: 'dave' } });
    expect((await call('DELETE', '/users/dave')).statusCode).toBe(204);
    expect((await call('GET', `/accounts/${ids[0]}`)).json()).toMatchObject({ userid: null });

    // Delete all of a user's accounts: the user stays.
    expect((await call('DELETE', '/users/alice/accounts')).statusCode).toBe(204);
    expect((await call('GET', '/users/alice')).json()).toMatchObject({ accounts: 0 });
    expect(errorOf(await call('GET', `/accounts/${ids[1]}`))).toMatchObject({ status: 404, code: 'account_not_found' });

    // Delete one account.
    expect((await call('DELETE', `/accounts/${ids[0]}`)).statusCode).toBe(204);
    expect(errorOf(await call('DELETE', `/accounts/${ids[0]}`))).toMatchObject({ status: 404, code: 'account_not_found' });
    expect((await call('GET', '/accounts')).json()).toEqual({ items: [], marker: null });
  });
});

describe('long-poll (getSession?wait=N)', () => {
  it('returns the unchanged status after about N seconds', async () => {
    const nonce = generateNonce();
    const first = (await call('GET', '/session', { nonce })).json<LoginStatus>();
    const started = Date.now();
    const res = await call('GET', '/session', { nonce, query: { wait: '1' } });
    const elapsed = Date.now() - started;
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(first);
    expect(elapsed).toBeGreaterThanOrEqual(950);
    expect(elapsed).toBeLessThan(2500);
  });

  it('returns early when a phone fetches the session, and again when it approves', async () => {
    const nonce = generateNonce();
    const hsid = deriveHsid(h.a.sid, nonce);
    await call('GET', '/session', { nonce });
    const phone = await enrolPhone(h, { pin: null });

    const started = Date.now();
    const waiting = call('GET', '/session', { nonce, query: { wait: '10' } });
    await new Promise((r) => setTimeout(r, 100));
    const session = await phone.fetch(hsid);
    const res = await waiting;
    expect(Date.now() - started).toBeLessThan(3000);
    expect(res.json()).toMatchObject({ state: 'scanned', loggedin: false });

    const waiting2 = call('GET', '/session', { nonce, query: { wait: '10' } });
    await new Promise((r) => setTimeout(r, 50));
    const statement = loginStatement({ sid: h.a.sid, hsid, accountid: phone.accountid, challenge: session.challenge, decision: 'approve', announceinfo: hashAnnounceinfo(null) });
    const answer = await phone.answerRaw(hsid, { accountid: phone.accountid, decision: 'approve', challenge: session.challenge, signature: await sign(phone.keys.privateKey, statement) });
    expect(answer.statusCode).toBe(200);
    expect((await waiting2).json()).toMatchObject({ state: 'loggedin', loggedin: true, accountid: phone.accountid });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('does not wait on a finished session', async () => {
    const nonce = generateNonce();
    await call('GET', '/session', { nonce });
    h.clock.advance(10 * 60_000);
    const started = Date.now();
    expect((await call('GET', '/session', { nonce, query: { wait: '5' } })).json()).toMatchObject({ state: 'expired' });
    expect(Date.now() - started).toBeLessThan(500);
  });
});
