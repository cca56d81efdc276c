import {
  type LoginStatus, deriveHsid, derivePinKey, devicePaths, pinChangeStatement, randomBytes, signWithPinKey,
} from '@tapin/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, type Phone, business, enrolPhone, errorOf, generateNonce, startHarness } from '../test-support/harness.js';

/**
 * PIN change (tapin/pin/1 signed by the current and the new second-factor key, in a request signed by the account
 * key) and the phone deleting its own account.
 */
let h: Harness;
let call: ReturnType<typeof business>;

beforeAll(async () => {
  h = await startHarness({ ipFailuresPerMinute: 1_000_000 });
  call = business(h.app, h.a.sid, h.a.apiKey);
});
afterAll(async () => {
  await h.close();
});

/** A change request from `oldPin` (null: headless) to `newPin`; `oldPin` may be wrong on purpose. */
async function changeBody(phone: Phone, oldPin: string | null, newPin: string, oldpinpk: string | null) {
  const next = await derivePinKey(newPin, randomBytes(32));
  const statement = pinChangeStatement({ sid: phone.sid, accountid: phone.accountid, oldpinpk, pinpk: next.publicKey });
  return {
    next,
    body: {
      pinpk: next.publicKey,
      newpinsignature: signWithPinKey(next.secretKey, statement),
      ...(oldPin === null ? {} : { pinsignature: signWithPinKey((await phone.pinKey(oldPin)).secretKey, statement) }),
    } as Record<string, string>,
  };
}

async function post(phone: Phone, url: string, body: unknown, method: 'POST' | 'DELETE' = 'POST') {
  const raw = body === undefined ? '' : JSON.stringify(body);
  const headers = { ...(raw ? { 'content-type': 'application/json' } : {}), ...(await phone.signedHeaders(method, url, raw)) };
  return h.app.inject({ method, url, headers, ...(raw ? { payload: raw } : {}) });
}

const pinpkOf = async (phone: Phone) => (await h.ctx.store.getAccount(phone.sid, phone.accountid))!.pin_pk;

describe('POST /v1/device/{sid}/pin', () => {
  it('changes the PIN: the old one stops working, the new one logs in', async () => {
    const phone = await enrolPhone(h);
    const { body, next } = await changeBody(phone, '1234', '8642', await pinpkOf(phone));
    const res = await post(phone, devicePaths.pin(h.a.sid), body);
    expect(res.statusCode, res.body).toBe(200);
    expect(await pinpkOf(phone)).toBe(next.publicKey);

    const nonce = generateNonce();
    await call('GET', '/session', { nonce });
    const hsid = deriveHsid(h.a.sid, nonce);
    // The harness phone signs with its old PIN key: refused now.
    expect(errorOf(await phone.answer(await phone.fetch(hsid), 'approve'))).toMatchObject({ code: 'pin_wrong', details: { attemptsLeft: 4 } });
  });

  it('counts a wrong current PIN as a wrong PIN and blocks at the fifth', async () => {
    const phone = await enrolPhone(h);
    const oldpinpk = await pinpkOf(phone);
    for (let left = 4; left >= 1; left--) {
      const { body } = await changeBody(phone, '0000', '5555', oldpinpk);
      expect(errorOf(await post(phone, devicePaths.pin(h.a.sid), body))).toMatchObject({ status: 403, code: 'pin_wrong', details: { attemptsLeft: left } });
    }
    const { body } = await changeBody(phone, '0000', '5555', oldpinpk);
    expect(errorOf(await post(phone, devicePaths.pin(h.a.sid), body))).toMatchObject({ code: 'account_blocked', details: { attemptsLeft: 0 } });
    expect(await pinpkOf(phone)).toBe(oldpinpk);
    // Blocked: even the right PIN cannot change it now.
    const right = await changeBody(phone, '1234', '5555', oldpinpk);
    expect(errorOf(await post(phone, devicePaths.pin(h.a.sid), right.body))).toMatchObject({ code: 'account_blocked' });
  });

  it('a right PIN after wrong ones resets the count', async () => {
    const phone = await enrolPhone(h);
    const oldpinpk = await pinpkOf(phone);
    const wrong = await changeBody(phone, '0000', '5555', oldpinpk);
    expect(errorOf(await post(phone, devicePaths.pin(h.a.sid), wrong.body)).details).toEqual({ attemptsLeft: 4 });
    const right = await changeBody(phone, '1234', '5555', oldpinpk);
    expect((await post(phone, devicePaths.pin(h.a.sid), right.body)).statusCode).toBe(200);
    expect((await h.ctx.store.getAccount(phone.sid, phone.accountid))!.pin_failures).toBe(0);
  });

  it('refuses a missing current PIN, a new key that did not sign, a replay, a statement for another account, bad input', async () => {
    const phone = await enrolPhone(h);
    const oldpinpk = await pinpkOf(phone);
    const url = devicePaths.pin(h.a.sid);
    const { body } = await changeBody(phone, '1234', '5555', oldpinpk);

    const noOld = { ...body };
    delete noOld['pinsignature'];
    expect(errorOf(await post(phone, url, noOld))).toMatchObject({ code: 'pin_required' });
    const other = await changeBody(phone, '1234', '7777', oldpinpk);
    expect(errorOf(await post(phone, url, { ...body, newpinsignature: other.body['newpinsignature'] }))).toMatchObject({ code: 'bad_signature' });
    // The statement names the account: one made for another account does not verify (and counts as a wrong PIN).
    const stranger = await enrolPhone(h);
    const foreign = await changeBody(stranger, '1234', '5555', await pinpkOf(stranger));
    expect(errorOf(await post(phone, url, foreign.body))).toMatchObject({ code: 'pin_wrong' });
    for (const bad of [{}, { ...body, extra: 1 }, { ...body, pinpk: 'not base64url!' }, { ...body, pinpk: 'A'.repeat(500) }]) {
      expect(errorOf(await post(phone, url, bad))).toMatchObject({ status: 400, code: 'bad_request' });
    }
    expect(await pinpkOf(phone)).toBe(oldpinpk);

    // The same signed request twice: the second is a replay.
    const raw = JSON.stringify(body);
    const headers = { 'content-type': 'application/json', ...(await phone.signedHeaders('POST', url, raw)) };
    expect((await h.app.inject({ method: 'POST', url, payload: raw, headers })).statusCode).toBe(200);
    expect(errorOf(await h.app.inject({ method: 'POST', url, payload: raw, headers }))).toMatchObject({ code: 'request_replayed' });
    // The same change statement in a fresh request: its old key is gone, so it no longer verifies.
    expect(errorOf(await post(phone, url, body))).toMatchObject({ code: 'pin_wrong' });
    // Unsigned: refused before anything else.
    expect(errorOf(await h.app.inject({ method: 'POST', url, payload: body }))).toMatchObject({ status: 401, code: 'bad_signature' });
  });

  it('lets a headless account set its first PIN, which logins then ask for', async () => {
    const phone = await enrolPhone(h, { pin: null });
    const { body, next } = await changeBody(phone, null, '2468', null);
    expect((await post(phone, devicePaths.pin(h.a.sid), body)).statusCode).toBe(200);
    expect(await pinpkOf(phone)).toBe(next.publicKey);
    const nonce = generateNonce();
    await call('GET', '/session', { nonce });
    const session = await phone.fetch(deriveHsid(h.a.sid, nonce));
    expect(session.pinRequired).toBe(true);
  });
});

describe('DELETE /v1/device/{sid}/account', () => {
  it('removes the account and ends its sessions; afterwards its key opens nothing', async () => {
    const phone = await enrolPhone(h);
    const nonce = generateNonce();
    await call('GET', '/session', { nonce });
    await phone.login(deriveHsid(h.a.sid, nonce));
    expect((await call('GET', '/session', { nonce })).json<LoginStatus>().loggedin).toBe(true);

    const url = devicePaths.account(h.a.sid);
    expect(errorOf(await h.app.inject({ method: 'DELETE', url }))).toMatchObject({ code: 'bad_signature' });
    const res = await post(phone, url, undefined, 'DELETE');
    expect(res.statusCode, res.body).toBe(200);
    expect((await call('GET', '/session', { nonce })).json<LoginStatus>()).toMatchObject({ loggedin: false, state: 'loggedout' });
    expect(errorOf(await call('GET', `/accounts/${phone.accountid}`))).toMatchObject({ code: 'account_not_found' });
    expect(errorOf(await post(phone, url, undefined, 'DELETE'))).toMatchObject({ code: 'account_not_found' });
  });
});
