import {
  type DeviceSession, REQUEST_WINDOW_MS, deriveHsid, devicePaths, hashAnnounceinfo, loginStatement, randomId, sign, toBase64url,
} from '@tapin/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Harness, Phone, business, enrolPhone, errorOf, generateNonce, snapshot, startHarness } from '../test-support/harness.js';

/**
 * Bad input to the device API: signatures, challenges, the PIN, blocked accounts, enrol tokens and signed-request
 * replays. Every refusal has its stable code and leaves the session and account as they were.
 */

let h: Harness;
let call: ReturnType<typeof business>;
beforeEach(async () => {
  h = await startHarness();
  call = business(h.app, h.a.sid, h.a.apiKey);
});
afterEach(async () => {
  await h.close();
});

/** A session made the way a business back-end makes one: getSession with a fresh nonce. */
async function newSession(): Promise<{ nonce: string; hsid: string }> {
  const nonce = generateNonce();
  const res = await call('GET', '/session', { nonce });
  expect(res.statusCode).toBe(200);
  return { nonce, hsid: deriveHsid(h.a.sid, nonce) };
}

const state = async (hsid: string) => (await h.ctx.store.getSession(h.a.sid, hsid))?.state;

describe('login answers', () => {
  let phone: Phone;
  let hsid: string;
  let session: DeviceSession;
  beforeEach(async () => {
    phone = await enrolPhone(h);
    ({ hsid } = await newSession());
    session = await phone.fetch(hsid);
    expect(session).toMatchObject({ state: 'scanned', pinRequired: true, accountid: phone.accountid });
  });

  it('approves with the right keys (the happy path the refusals below are measured against)', async () => {
    const res = await phone.answer(session, 'approve');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ hsid, state: 'loggedin' });
    expect(await h.ctx.store.getSession(h.a.sid, hsid)).toMatchObject({ state: 'loggedin', accountid: phone.accountid, challenge: null });
  });

  it('refuses a signature over another statement (401 bad_signature) and keeps the challenge usable', async () => {
    const before = await snapshot(h.ctx, h.a.sid, [hsid]);
    // Signed "decline", sent as "approve".
    const declined = await phone.answerBody(session, 'decline');
    expect(errorOf(await phone.answerRaw(hsid, { ...declined, decision: 'approve' }))).toMatchObject({ status: 401, code: 'bad_signature' });
    // Signed over what the phone did not show.
    const other = loginStatement({
      sid: h.a.sid, hsid, accountid: phone.accountid, challenge: session.challenge, decision: 'approve',
      announceinfo: hashAnnounceinfo({ info: { amount: '1000 EUR' } }),
    });
    const good = await phone.answerBody(session, 'approve');
    expect(errorOf(await phone.answerRaw(hsid, { ...good, signature: await sign(phone.keys.privateKey, other) }))).toMatchObject({ status: 401, code: 'bad_signature' });
    // A valid signature for another session handle.
    const other2 = await newSession();
    const forOther = await phone.answerBody({ ...session, hsid: other2.hsid }, 'approve');
    expect(errorOf(await phone.answerRaw(hsid, forOther))).toMatchObject({ status: 401, code: 'bad_signature' });
    expect(await snapshot(h.ctx, h.a.sid, [hsid])).toEqual(before);
    expect((await phone.answer(session, 'approve')).statusCode).toBe(200);
  });

  it('refuses malformed signatures: not base64url or too long (400 bad_request), wrong length (401 bad_signature)', async () => {
    const before = await snapshot(h.ctx, h.a.sid, [hsid]);
    const good = await phone.answerBody(session, 'approve');
    const malformed = [good.signature.slice(0, 40) + '+/' + good.signature.slice(42), `${good.signature}==`, '', 'A'.repeat(101), 'sig with spaces'];
    for (const signature of malformed) {
      expect(errorOf(await phone.answerRaw(hsid, { ...good, signature })), signature).toMatchObject({ status: 400, code: 'bad_request' });
    }
    const wrongLength = [good.signature.slice(0, 84), toBase64url(new Uint8Array(65)), 'AAAA', toBase64url(new Uint8Array(64))];
    for (const signature of wrongLength) {
      expect(errorOf(await phone.answerRaw(hsid, { ...good, signature })), signature).toMatchObject({ status: 401, code: 'bad_signature' });
    }
    // The PIN signature is checked the same way.
    expect(errorOf(await phone.answerRaw(hsid, { ...good, pinsignature: 'not+b64' }))).toMatchObject({ status: 400, code: 'bad_request' });
    expect(await snapshot(h.ctx, h.a.sid, [hsid])).toEqual(before);
  });

  it("refuses a signature made with another account's key (401 bad_signature)", async () => {
    const thief = await enrolPhone(h);
    const before = await snapshot(h.ctx, h.a.sid, [hsid]);
    const statement = loginStatement({ sid: h.a.sid, hsid, accountid: phone.accountid, challenge: session.challenge, decision: 'approve', announceinfo: hashAnnounceinfo(null) });
    const body = { ...(await phone.answerBody(session, 'approve')), signature: await sign(thief.keys.privateKey, statement) };
    expect(errorOf(await thief.answerRaw(hsid, body))).toMatchObject({ status: 401, code: 'bad_signature' });
    // And its own account with the challenge issued to another account: the challenge is not its to use.
    const own = await thief.answerBody(session, 'approve');
    expect(errorOf(await thief.answerRaw(hsid, own))).toMatchObject({ status: 409, code: 'challenge_replayed' });
    expect(await snapshot(h.ctx, h.a.sid, [hsid])).toEqual(before);
  });

  it('refuses a replayed challenge (409 challenge_replayed) and keeps the login as it was', async () => {
    const body = await phone.answerBody(session, 'approve');
    expect((await phone.answerRaw(hsid, body)).statusCode).toBe(200);
    const after = await snapshot(h.ctx, h.a.sid, [hsid]);
    expect(errorOf(await phone.answerRaw(hsid, body))).toMatchObject({ status: 409, code: 'challenge_replayed' });
    // A decline replayed over the approved login cannot cancel it either.
    expect(errorOf(await phone.answer(session, 'decline'))).toMatchObject({ status: 409, code: 'challenge_replayed' });
    expect(await snapshot(h.ctx, h.a.sid, [hsid])).toEqual(after);
    expect(await state(hsid)).toBe('loggedin');
  });

  it('refuses the challenge of an earlier fetch once the phone fetched again (409 challenge_replayed)', async () => {
    const second = await phone.fetch(hsid);
    expect(second.challenge).not.toBe(session.challenge);
    const before = await snapshot(h.ctx, h.a.sid, [hsid]);
    expect(errorOf(await phone.answer(session, 'approve'))).toMatchObject({ status: 409, code: 'challenge_replayed' });
    expect(await snapshot(h.ctx, h.a.sid, [hsid])).toEqual(before);
    expect((await phone.answer(second, 'approve')).statusCode).toBe(200);
  });

  it('refuses an answer after a decline, with the same challenge (409 challenge_replayed)', async () => {
    expect((await phone.answer(session, 'decline', false)).json()).toMatchObject({ hsid, state: 'cancelled' });
    expect(errorOf(await phone.answer(session, 'approve'))).toMatchObject({ status: 409, code: 'challenge_replayed' });
    expect(await state(hsid)).toBe('cancelled');
  });

  it('refuses an expired challenge (410 challenge_expired)', async () => {
    h.clock.advance(h.ctx.lifetimes.challengeMs);
    const before = await snapshot(h.ctx, h.a.sid, [hsid]);
    expect(errorOf(await phone.answer(session, 'approve'))).toMatchObject({ status: 410, code: 'challenge_expired' });
    expect(await snapshot(h.ctx, h.a.sid, [hsid])).toEqual(before);
  });

  it('refuses answers to an expired session (410 session_expired)', async () => {
    h.clock.advance(h.ctx.lifetimes.sessionMs);
    expect(errorOf(await phone.answer(session, 'approve'))).toMatchObject({ status: 410, code: 'session_expired' });
    expect(errorOf(await phone.fetchRaw(hsid))).toMatchObject({ status: 410, code: 'session_expired' });
    expect(await state(hsid)).toBe('scanned');
  });

  it('refuses an unknown account (404 account_not_found) and an unknown session (404 session_not_found)', async () => {
    const body = await phone.answerBody(session, 'approve');
    expect(errorOf(await phone.answerRaw(hsid, { ...body, accountid: randomId(16) }))).toMatchObject({ status: 404, code: 'account_not_found' });
    const unknown = deriveHsid(h.a.sid, generateNonce());
    expect(errorOf(await phone.answerRaw(unknown, body))).toMatchObject({ status: 404, code: 'session_not_found' });
    expect(errorOf(await phone.fetchRaw(unknown))).toMatchObject({ status: 404, code: 'session_not_found' });
    expect(await h.ctx.store.getSession(h.a.sid, unknown)).toBeUndefined();
    expect(await state(hsid)).toBe('scanned');
  });

  it('refuses bad answer bodies: extra property, invalid JSON, wrong types, too large, malformed hsid (400/413)', async () => {
    const before = await snapshot(h.ctx, h.a.sid, [hsid]);
    const body = await phone.answerBody(session, 'approve');
    const bad: unknown[] = [
      { ...body, extra: 1 },
      { ...body, decision: 'maybe' },
      { ...body, accountid: 42 },
      { accountid: body.accountid, decision: 'approve', challenge: body.challenge },
      '{"accountid":',
      `{"__proto__":{"admin":true},${JSON.stringify(body).slice(1)}`,
      '[]',
      'null',
    ];
    for (const b of bad) expect(errorOf(await phone.answerRaw(hsid, b)), JSON.stringify(b)).toMatchObject({ status: 400, code: 'bad_request' });
    const empty = await h.app.inject({ method: 'POST', url: devicePaths.answer(h.a.sid, hsid) });
    expect(errorOf(empty)).toMatchObject({ status: 400, code: 'bad_request' });
    const huge = await phone.answerRaw(hsid, JSON.stringify({ ...body, padding: 'x'.repeat(70_000) }));
    expect(errorOf(huge)).toMatchObject({ status: 413, code: 'payload_too_large' });
    const wrongType = await h.app.inject({ method: 'POST', url: devicePaths.answer(h.a.sid, hsid), payload: 'approve', headers: { 'content-type': 'text/plain' } });
    expect(errorOf(wrongType)).toMatchObject({ status: 400, code: 'bad_request' });
    expect(errorOf(await phone.answerRaw('not-an-hsid', body))).toMatchObject({ status: 400, code: 'bad_request' });
    expect(await snapshot(h.ctx, h.a.sid, [hsid])).toEqual(before);
    // A JSON content type with parameters is still JSON.
    const res = await h.app.inject({ method: 'POST', url: devicePaths.answer(h.a.sid, hsid), payload: JSON.stringify(body), headers: { 'content-type': 'application/json; charset=utf-8' } });
    expect(res.statusCode).toBe(200);
  });
});

describe('the PIN (second factor)', () => {
  let phone: Phone;
  let hsid: string;
  let session: DeviceSession;
  beforeEach(async () => {
    phone = await enrolPhone(h, { pin: '2468' });
    ({ hsid } = await newSession());
    session = await phone.fetch(hsid);
  });
  const account = async () => h.ctx.store.getAccount(h.a.sid, phone.accountid);

  it('refuses a wrong PIN (403 pin_wrong, attemptsLeft 4); the session stays scanned', async () => {
    const res = await phone.answer(session, 'approve', '1357');
    expect(errorOf(res)).toEqual({ status: 403, code: 'pin_wrong', message: expect.any(String), details: { attemptsLeft: 4 } });
    expect(await h.ctx.store.getSession(h.a.sid, hsid)).toMatchObject({ state: 'scanned', accountid: null, proof: null, challenge: session.challenge });
    expect(await account()).toMatchObject({ pin_failures: 1, blocked: 0 });
    // The right PIN still works, and forgives the mistake.
    expect((await phone.answer(session, 'approve')).statusCode).toBe(200);
    expect(await account()).toMatchObject({ pin_failures: 0, blocked: 0 });
  });

  it('blocks the account after 5 wrong PINs in a row; then even the right PIN is refused (account_blocked)', async () => {
    for (const left of [4, 3, 2, 1]) {
      const err = errorOf(await phone.answer(session, 'approve', '0000'));
      expect(err).toMatchObject({ status: 403, code: 'pin_wrong', details: { attemptsLeft: left } });
    }
    const fifth = errorOf(await phone.answer(session, 'approve', '0000'));
    expect(fifth).toMatchObject({ status: 403, code: 'account_blocked', details: { attemptsLeft: 0 } });
    expect(await account()).toMatchObject({ pin_failures: 5, blocked: 1 });
    const before = await snapshot(h.ctx, h.a.sid, [hsid]);

    expect(errorOf(await phone.answer(session, 'approve'))).toMatchObject({ status: 403, code: 'account_blocked' });
    expect(errorOf(await phone.fetchRaw(hsid))).toMatchObject({ status: 403, code: 'account_blocked' });
    expect(await snapshot(h.ctx, h.a.sid, [hsid])).toEqual(before);
    expect(await state(hsid)).toBe('scanned');

    // The business sees it blocked; unblocking forgives the count and the phone can log in again.
    const view = await call('GET', `/accounts/${phone.accountid}`);
    expect(view.json()).toMatchObject({ blocked: true });
    expect((await call('PUT', `/accounts/${phone.accountid}`, { body: { blocked: false } })).json()).toMatchObject({ blocked: false });
    expect(await account()).toMatchObject({ pin_failures: 0, blocked: 0 });
    expect((await phone.answer(await phone.fetch(hsid), 'approve')).statusCode).toBe(200);
  });

  it('refuses an approve without the PIN when the server asks for it (403 pin_required)', async () => {
    expect(session.pinRequired).toBe(true);
    const before = await snapshot(h.ctx, h.a.sid, [hsid]);
    expect(errorOf(await phone.answer(session, 'approve', false))).toMatchObject({ status: 403, code: 'pin_required' });
    expect(await snapshot(h.ctx, h.a.sid, [hsid])).toEqual(before);
    // Declining needs no PIN.
    expect((await phone.answer(session, 'decline', false)).json()).toMatchObject({ state: 'cancelled' });
  });

  it('pinTimeout N asks again only once the last PIN is more than N minutes old', async () => {
    expect((await call('PUT', '/', { body: { pinTimeout: 5 } })).statusCode).toBe(200);
    // The fetch in beforeEach came before the setting; a fresh fetch is measured against the PIN of the enrolment.
    h.clock.advance(5 * 60_000 + 1);
    const first = await phone.fetch(hsid);
    expect(first.pinRequired).toBe(true);
    expect((await phone.answer(first, 'approve')).statusCode).toBe(200);
    expect(await account()).toMatchObject({ lastpin: h.clock.now() });

    h.clock.advance(5 * 60_000 - 1);
    const within = await newSession();
    const noPin = await phone.fetch(within.hsid);
    expect(noPin.pinRequired).toBe(false);
    // Within the timeout an approval without the PIN is accepted, and does not move the PIN's time.
    expect((await phone.answer(noPin, 'approve', false)).statusCode).toBe(200);
    expect(await account()).toMatchObject({ lastpin: h.clock.now() - (5 * 60_000 - 1) });

    h.clock.advance(2);
    const after = await newSession();
    const again = await phone.fetch(after.hsid);
    expect(again.pinRequired).toBe(true);
    expect(errorOf(await phone.answer(again, 'approve', false))).toMatchObject({ status: 403, code: 'pin_required' });
    expect((await phone.answer(again, 'approve')).statusCode).toBe(200);
  });

  it('checks a PIN signature that is sent even when the server would not ask', async () => {
    expect((await call('PUT', '/', { body: { pinTimeout: -1 } })).statusCode).toBe(200);
    const fresh = await phone.fetch(hsid);
    expect(fresh.pinRequired).toBe(false);
    expect(errorOf(await phone.answer(fresh, 'approve', '9999'))).toMatchObject({ status: 403, code: 'pin_wrong' });
    expect((await phone.answer(fresh, 'approve', false)).statusCode).toBe(200);
  });
});

describe('blocked accounts', () => {
  it('refuses a blocked account fetching a session (403 account_blocked) and leaves the session idle', async () => {
    const phone = await enrolPhone(h, { pin: null });
    const { hsid } = await newSession();
    expect((await call('PUT', `/accounts/${phone.accountid}`, { body: { blocked: true } })).json()).toMatchObject({ blocked: true });
    const before = await snapshot(h.ctx, h.a.sid, [hsid]);
    expect(errorOf(await phone.fetchRaw(hsid))).toMatchObject({ status: 403, code: 'account_blocked' });
    const url = devicePaths.account(h.a.sid);
    expect(errorOf(await h.app.inject({ method: 'GET', url, headers: await phone.signedHeaders('GET', url) }))).toMatchObject({ status: 403, code: 'account_blocked' });
    expect(await snapshot(h.ctx, h.a.sid, [hsid])).toEqual(before);
    expect(await state(hsid)).toBe('idle');
  });

  it('refuses a deleted account (404 account_not_found)', async () => {
    const phone = await enrolPhone(h, { pin: null });
    const { hsid } = await newSession();
    expect((await call('DELETE', `/accounts/${phone.accountid}`)).statusCode).toBe(204);
    expect(errorOf(await phone.fetchRaw(hsid))).toMatchObject({ status: 404, code: 'account_not_found' });
    expect(await state(hsid)).toBe('idle');
  });
});

describe('enrol tokens', () => {
  async function enrolLink(userid?: string): Promise<string> {
    const res = await call('POST', '/enrolments', { body: { name: 'Phone', ...(userid ? { userid } : {}) } });
    expect(res.statusCode).toBe(200);
    return res.json<{ data: string }>().data;
  }
  const tokenOf = (link: string) => link.split('/').pop()!;

  it('has the lifetimes of DESIGN §2 by default: enrol tokens 10 minutes, challenges 2, sessions 10', async () => {
    expect(h.ctx.lifetimes).toMatchObject({ enrolTokenMs: 600_000, challengeMs: 120_000, sessionMs: 600_000 });
    const res = await call('POST', '/enrolments', { body: { name: 'Phone' } });
    expect(res.json()).toMatchObject({ expires: h.clock.now() + 600_000 });
  });

  it('refuses an expired enrol token (410 enrol_token_invalid) and creates no account', async () => {
    const link = await enrolLink('alice');
    h.clock.advance(h.ctx.lifetimes.enrolTokenMs - 1);
    expect((await h.app.inject({ method: 'GET', url: devicePaths.enrolInfo(h.a.sid, tokenOf(link)) })).statusCode).toBe(200);
    h.clock.advance(1);
    const before = await snapshot(h.ctx, h.a.sid);
    expect(errorOf(await h.app.inject({ method: 'GET', url: devicePaths.enrolInfo(h.a.sid, tokenOf(link)) }))).toMatchObject({ status: 410, code: 'enrol_token_invalid' });
    const phone = await Phone.create(h.app, h.a.sid, h.clock.now);
    expect(errorOf(await phone.enrol(link))).toMatchObject({ status: 410, code: 'enrol_token_invalid' });
    expect(await snapshot(h.ctx, h.a.sid)).toEqual(before);
  });

  it('refuses an expired token with a 1 ms lifetime', async () => {
    await h.close();
    h = await startHarness({ lifetimes: { enrolTokenMs: 1 } });
    call = business(h.app, h.a.sid, h.a.apiKey);
    const link = await enrolLink();
    h.clock.advance(1);
    const phone = await Phone.create(h.app, h.a.sid, h.clock.now, null);
    expect(errorOf(await phone.enrol(link))).toMatchObject({ status: 410, code: 'enrol_token_invalid' });
    expect((await h.ctx.store.listAccounts(h.a.sid, { limit: 10 })).items).toEqual([]);
  });

  it('refuses a reused enrol token (410 enrol_token_invalid): one token, one account', async () => {
    const link = await enrolLink();
    const first = await Phone.create(h.app, h.a.sid, h.clock.now);
    expect((await first.enrol(link)).statusCode).toBe(200);
    const before = await snapshot(h.ctx, h.a.sid);
    const second = await Phone.create(h.app, h.a.sid, h.clock.now);
    expect(errorOf(await second.enrol(link))).toMatchObject({ status: 410, code: 'enrol_token_invalid' });
    // The very same request again is refused as well.
    const again = await h.app.inject({ method: 'POST', url: devicePaths.enrol(h.a.sid), payload: await first.enrolBody(tokenOf(link)) });
    expect(errorOf(again)).toMatchObject({ status: 410, code: 'enrol_token_invalid' });
    expect(errorOf(await h.app.inject({ method: 'GET', url: devicePaths.enrolInfo(h.a.sid, tokenOf(link)) }))).toMatchObject({ status: 410, code: 'enrol_token_invalid' });
    expect(await snapshot(h.ctx, h.a.sid)).toEqual(before);
    expect((await h.ctx.store.listAccounts(h.a.sid, { limit: 10 })).items).toHaveLength(1);
  });

  it('lets only one of two concurrent enrolments with one token win', async () => {
    const link = await enrolLink();
    const phones = await Promise.all([Phone.create(h.app, h.a.sid, h.clock.now, null), Phone.create(h.app, h.a.sid, h.clock.now, null)]);
    const results = await Promise.all(phones.map((p) => p.enrol(link)));
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 410]);
    expect((await h.ctx.store.listAccounts(h.a.sid, { limit: 10 })).items).toHaveLength(1);
  });

  it("refuses a token at another virtual server's device path (410 enrol_token_invalid)", async () => {
    const link = await enrolLink();
    const phone = await Phone.create(h.app, h.b.sid, h.clock.now, null);
    const res = await h.app.inject({ method: 'POST', url: devicePaths.enrol(h.b.sid), payload: await phone.enrolBody(tokenOf(link)) });
    expect(errorOf(res)).toMatchObject({ status: 410, code: 'enrol_token_invalid' });
    expect((await h.ctx.store.listAccounts(h.b.sid, { limit: 10 })).items).toEqual([]);
  });

  it('refuses enrolments with bad keys or signatures, without using up the token', async () => {
    const link = await enrolLink();
    const phone = await Phone.create(h.app, h.a.sid, h.clock.now);
    const body = await phone.enrolBody(tokenOf(link));
    const post = (payload: Record<string, unknown>) => h.app.inject({ method: 'POST', url: devicePaths.enrol(h.a.sid), payload });
    const other = await Phone.create(h.app, h.a.sid, h.clock.now);
    expect(errorOf(await post({ ...body, authpk: other.authpk }))).toMatchObject({ status: 401, code: 'bad_signature' });
    expect(errorOf(await post({ ...body, description: 'Changed' }))).toMatchObject({ status: 401, code: 'bad_signature' });
    expect(errorOf(await post({ ...body, pinsignature: body['signature'] }))).toMatchObject({ status: 401, code: 'bad_signature' });
    const withoutPinSig = { ...body };
    delete withoutPinSig['pinsignature'];
    expect(errorOf(await post(withoutPinSig))).toMatchObject({ status: 401, code: 'bad_signature' });
    expect(errorOf(await post({ ...body, authpk: toBase64url(new Uint8Array(65).fill(4)) }))).toMatchObject({ status: 400, code: 'bad_request' });
    expect(errorOf(await post({ ...body, extra: true }))).toMatchObject({ status: 400, code: 'bad_request' });
    expect((await h.ctx.store.listAccounts(h.a.sid, { limit: 10 })).items).toEqual([]);
    expect((await post(body)).statusCode).toBe(200);
  });
});

describe('signed device requests', () => {
  let phone: Phone;
  let hsid: string;
  beforeEach(async () => {
    phone = await enrolPhone(h, { pin: null });
    ({ hsid } = await newSession());
  });

  it('refuses a replayed signed request (409 request_replayed) and keeps the first challenge', async () => {
    const url = devicePaths.fetchSession(h.a.sid, hsid);
    const headers = await phone.signedHeaders('POST', url);
    const first = await phone.fetchRaw(hsid, headers);
    expect(first.statusCode).toBe(200);
    const before = await snapshot(h.ctx, h.a.sid, [hsid]);
    expect(errorOf(await phone.fetchRaw(hsid, headers))).toMatchObject({ status: 409, code: 'request_replayed' });
    expect(await snapshot(h.ctx, h.a.sid, [hsid])).toEqual(before);
    expect((await h.ctx.store.getSession(h.a.sid, hsid))?.challenge).toBe(first.json<DeviceSession>().challenge);

    const accountUrl = devicePaths.account(h.a.sid);
    const accountHeaders = await phone.signedHeaders('GET', accountUrl);
    expect((await h.app.inject({ method: 'GET', url: accountUrl, headers: accountHeaders })).statusCode).toBe(200);
    expect(errorOf(await h.app.inject({ method: 'GET', url: accountUrl, headers: accountHeaders }))).toMatchObject({ status: 409, code: 'request_replayed' });
  });

  it('refuses a request with a stale or future time (401 request_expired)', async () => {
    const url = devicePaths.fetchSession(h.a.sid, hsid);
    const before = await snapshot(h.ctx, h.a.sid, [hsid]);
    for (const time of [h.clock.now() - REQUEST_WINDOW_MS - 1, h.clock.now() + REQUEST_WINDOW_MS + 1, 0]) {
      const headers = await phone.signedHeaders('POST', url, '', { time });
      expect(errorOf(await phone.fetchRaw(hsid, headers)), String(time)).toMatchObject({ status: 401, code: 'request_expired' });
    }
    // Signed at the right time, delivered too late.
    const headers = await phone.signedHeaders('POST', url);
    h.clock.advance(REQUEST_WINDOW_MS + 1);
    expect(errorOf(await phone.fetchRaw(hsid, headers))).toMatchObject({ status: 401, code: 'request_expired' });
    expect(await snapshot(h.ctx, h.a.sid, [hsid])).toEqual(before);
  });

  it('accepts a time at the edge of the window', async () => {
    const url = devicePaths.fetchSession(h.a.sid, hsid);
    const headers = await phone.signedHeaders('POST', url, '', { time: h.clock.now() - REQUEST_WINDOW_MS });
    expect((await phone.fetchRaw(hsid, headers)).statusCode).toBe(200);
  });

  it('refuses missing, malformed or misapplied signed headers (401 bad_signature)', async () => {
    const url = devicePaths.fetchSession(h.a.sid, hsid);
    const before = await snapshot(h.ctx, h.a.sid, [hsid]);
    const good = await phone.signedHeaders('POST', url);
    const other = await newSession();
    const cases: Array<[string, Record<string, string>]> = [
      ['no headers', {}],
      ['no signature', { ...good, 'tapin-signature': '' }],
      ['short request id', { ...(await phone.signedHeaders('POST', url, '', { reqid: 'short' })) }],
      ['time not a number', { ...good, 'tapin-time': 'yesterday' }],
      ['signature of another request', { ...good, 'tapin-signature': (await phone.signedHeaders('POST', url))['tapin-signature']! }],
      ['signed for another path', await phone.signedHeaders('POST', devicePaths.fetchSession(h.a.sid, other.hsid))],
      ['signed for another method', await phone.signedHeaders('GET', url)],
      ['signed over a body that was not sent', await phone.signedHeaders('POST', url, '{"x":1}')],
      ['garbage signature', { ...(await phone.signedHeaders('POST', url)), 'tapin-signature': 'A'.repeat(86) }],
    ];
    for (const [name, headers] of cases) {
      expect(errorOf(await phone.fetchRaw(hsid, headers)), name).toMatchObject({ status: 401, code: 'bad_signature' });
    }
    const stranger = { ...(await phone.signedHeaders('POST', url)), 'tapin-account': randomId(16) };
    expect(errorOf(await phone.fetchRaw(hsid, stranger))).toMatchObject({ status: 404, code: 'account_not_found' });
    expect(await snapshot(h.ctx, h.a.sid, [hsid])).toEqual(before);
    expect(await h.ctx.store.getSession(h.a.sid, other.hsid)).toMatchObject({ state: 'idle' });
  });

  it("signs the path as sent: a phone of server A cannot use server B's path", async () => {
    const url = devicePaths.fetchSession(h.b.sid, hsid);
    const res = await h.app.inject({ method: 'POST', url, headers: await phone.signedHeaders('POST', url) });
    expect(errorOf(res)).toMatchObject({ status: 404, code: 'account_not_found' });
  });
});
