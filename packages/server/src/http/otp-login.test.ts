import { readFileSync } from 'node:fs';
import { type LoginStatus, OTP_INTERVAL_SECONDS, deriveHsid, fromHex, otpInterval } from '@tapin/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { otpLogin, checkOtp } from '../services/otp-login.js';
import { type Harness, type Phone, business, enrolPhone, errorOf, generateNonce, snapshot, startHarness } from '../test-support/harness.js';

/**
 * Offline login (DESIGN §6) through the business API: POST /session/otp with the code a phone shows. The harness
 * clock moves by hand, so every interval boundary is exact.
 */

const INTERVAL_MS = OTP_INTERVAL_SECONDS * 1000;
const HOUR = 3_600_000;

let h: Harness;
let call: ReturnType<typeof business>;
beforeEach(async () => {
  h = await startHarness();
  call = business(h.app, h.a.sid, h.a.apiKey);
});
afterEach(async () => {
  await h.close();
});

async function enableOtp(): Promise<void> {
  expect((await call('PUT', '/', { body: { serverFlags: ['ENABLE_OTP'] } })).statusCode).toBe(200);
}

async function newSession(): Promise<{ nonce: string; hsid: string }> {
  const nonce = generateNonce();
  expect((await call('GET', '/session', { nonce })).statusCode).toBe(200);
  return { nonce, hsid: deriveHsid(h.a.sid, nonce) };
}

const login = (nonce: string, otp: string) => call('POST', '/session/otp', { nonce, body: { otp } });
const row = (hsid: string) => h.ctx.store.getSession(h.a.sid, hsid);

/** Puts the clock `ms` into a fresh OTP interval, so that tests can step over boundaries exactly. */
function startOfInterval(ms = 1000): void {
  h.clock.t = (otpInterval(h.clock.t) + 1) * INTERVAL_MS + ms;
}

/** A code of the same account that is surely wrong: the code half of another interval's code. */
function wrongCode(phone: Phone, hsid: string): string {
  const right = phone.otp(hsid);
  for (let k = 5; ; k++) {
    const other = phone.otp(hsid, h.clock.t + k * INTERVAL_MS);
    if (other !== right && other !== phone.otp(hsid, h.clock.t - INTERVAL_MS)) return other;
  }
}

// --- the check against the shared test vectors ---------------------------------------------------------------

interface OtpVector { otpkey: string; sid: string; hsid: string; otpref: number; unixMs: number; T: number; otp: string }
interface AcceptanceVector { name: string; otpkey: string; sid: string; hsid: string; otpref: number; otp: string; serverUnixMs: number; accepted: boolean; matchedT: number | null }
interface ParseVector { input: string; note: string; result: { otpref: number; code: number } | null }

const vectors = JSON.parse(readFileSync(new URL('../../../protocol/vectors.json', import.meta.url), 'utf8')) as {
  otp: OtpVector[]; otpAcceptance: AcceptanceVector[]; otpParse: ParseVector[];
};

describe('the server check against packages/protocol/vectors.json', () => {
  it('accepts every `otp` vector at its own time, in its own interval, and only for its own session and account', () => {
    expect(vectors.otp.length).toBeGreaterThan(0);
    for (const v of vectors.otp) {
      const account = { otpkey: fromHex(v.otpkey), otpref: v.otpref };
      expect(checkOtp(v.otp, account, v.sid, v.hsid, v.unixMs), v.otp).toBe(v.T);
      expect(checkOtp(v.otp, { ...account, otpref: (v.otpref + 1) % 2 ** 30 }, v.sid, v.hsid, v.unixMs)).toBeUndefined();
      expect(checkOtp(v.otp, account, v.sid, `${v.hsid.slice(0, 21)}${v.hsid.endsWith('A') ? 'B' : 'A'}`, v.unixMs)).toBeUndefined();
      expect(checkOtp(v.otp, { ...account, otpkey: fromHex('00'.repeat(32)) }, v.sid, v.hsid, v.unixMs)).toBeUndefined();
    }
  });

  it('decides every `otpAcceptance` vector as the vectors say (T and T−1 only)', () => {
    expect(vectors.otpAcceptance.some((v) => v.accepted) && vectors.otpAcceptance.some((v) => !v.accepted)).toBe(true);
    for (const v of vectors.otpAcceptance) {
      const got = checkOtp(v.otp, { otpkey: fromHex(v.otpkey), otpref: v.otpref }, v.sid, v.hsid, v.serverUnixMs);
      expect(got, v.name).toBe(v.accepted ? v.matchedT : undefined);
    }
  });

  it('reads typed codes as the `otpParse` vectors say (case, spaces, hyphens, look-alikes)', () => {
    const v0 = vectors.otp[0]!;
    const account = { otpkey: fromHex(v0.otpkey), otpref: v0.otpref };
    for (const p of vectors.otpParse) {
      const same = p.result !== null && p.result.otpref === v0.otpref && p.result.code === 930763657;
      expect(checkOtp(p.input, account, v0.sid, v0.hsid, v0.unixMs), p.note).toBe(same ? v0.T : undefined);
    }
  });

  it('logs in through the whole service at each `otpAcceptance` vector’s server time', async () => {
    const first = vectors.otpAcceptance[0]!;
    const template = (await h.ctx.store.getServer(h.a.sid))!;
    await h.ctx.store.createServer({ ...template, sid: first.sid, server_flags: '["ENABLE_OTP"]' });
    const accountid = 'vector-account-1';
    await h.ctx.store.createAccount({
      accountid, sid: first.sid, auth_pk: 'x', pin_pk: null, otpref: first.otpref,
      otp_key_enc: h.ctx.box.seal(fromHex(first.otpkey), `otp-key:${first.sid}:${accountid}`),
      description: 'vectors', client_version: 'test/1', userid: null, created: 0, lastlogin: null, lastpin: null,
      pin_failures: 0, blocked: 0, otp_failures: 0, otp_window: null,
    });
    for (const v of vectors.otpAcceptance) {
      expect([v.sid, v.otpref, v.otpkey]).toEqual([first.sid, first.otpref, first.otpkey]);
      h.clock.t = v.serverUnixMs;
      // A fresh pending session under the vector's handle, for each vector.
      await h.ctx.store.ensureSession({
        sid: v.sid, hsid: v.hsid, state: 'idle', created: 0, expires: 0, updated: 0, accountid: null, userid: null, otplogin: 0,
        challenge: null, challenge_account: null, challenge_expires: null, announceinfo: null, sessioninfo: null, proof: null,
        loggedin_at: null, otp_failures: 0, ping_deadline: null,
      });
      await h.ctx.store.updateSession(v.sid, v.hsid, { state: 'idle', accountid: null, expires: v.serverUnixMs + 60_000, otp_failures: 0 });
      const result = await otpLogin(h.ctx, v.sid, v.hsid, v.otp).then((s) => s.state, (e: { code: string }) => e.code);
      expect(result, v.name).toBe(v.accepted ? 'loggedin' : 'otp_invalid');
    }
  });
});

// --- the business API ----------------------------------------------------------------------------------------

describe('otpLogin (POST /session/otp)', () => {
  let phone: Phone;
  beforeEach(async () => {
    await enableOtp();
    phone = await enrolPhone(h, { userid: 'alice' });
    startOfInterval();
  });

  it('logs in with the current code: loggedin, otplogin, one-shot, no proof; the watchers get LOGIN', async () => {
    // Even with pings on, an OTP login is one-shot: the phone that made the code is offline.
    expect((await call('PUT', '/', { body: { pingTime: 30 } })).statusCode).toBe(200);
    const { nonce, hsid } = await newSession();
    const events: string[] = [];
    h.ctx.bus.subscribe(h.a.sid, hsid, (e) => events.push(e.type));

    const res = await login(nonce, phone.otp(hsid));
    expect(res.statusCode).toBe(200);
    expect(res.json<LoginStatus>()).toMatchObject({ loggedin: true, state: 'loggedin', otplogin: true, accountid: phone.accountid, userid: 'alice', hsid });
    expect(events).toEqual(['LOGIN']);
    expect(await row(hsid)).toMatchObject({ state: 'loggedin', otplogin: 1, proof: null, ping_deadline: null, loggedin_at: h.clock.t });
    expect((await h.ctx.store.getAccount(h.a.sid, phone.accountid))?.lastlogin).toBe(h.clock.t);

    // getSession afterwards says so, and the session does not end without pings.
    h.clock.advance(HOUR);
    const status = (await call('GET', '/session', { nonce })).json<LoginStatus>();
    expect(status).toMatchObject({ loggedin: true, state: 'loggedin', otplogin: true, accountid: phone.accountid, userid: 'alice' });
  });

  it('accepts the code of the previous interval, up to the last millisecond', async () => {
    const a = await newSession();
    const codeA = phone.otp(a.hsid);
    h.clock.advance(INTERVAL_MS);
    expect((await login(a.nonce, codeA)).statusCode).toBe(200);

    const b = await newSession();
    const codeB = phone.otp(b.hsid);
    h.clock.t = (otpInterval(h.clock.t) + 2) * INTERVAL_MS - 1;
    expect((await login(b.nonce, codeB)).statusCode).toBe(200);
  });

  it('refuses a code two intervals old and a code of the next interval (401 otp_invalid)', async () => {
    const { nonce, hsid } = await newSession();
    const old = phone.otp(hsid);
    const future = phone.otp(hsid, h.clock.t + INTERVAL_MS);
    h.clock.t = (otpInterval(h.clock.t) + 2) * INTERVAL_MS;
    expect(errorOf(await login(nonce, old))).toMatchObject({ status: 401, code: 'otp_invalid' });
    h.clock.t -= 2 * INTERVAL_MS;
    expect(errorOf(await login(nonce, future))).toMatchObject({ status: 401, code: 'otp_invalid' });
    expect((await row(hsid))?.state).toBe('idle');
    // The current one still works.
    expect((await login(nonce, phone.otp(hsid))).statusCode).toBe(200);
  });

  it('refuses a code made for another session', async () => {
    const a = await newSession();
    const b = await newSession();
    expect(errorOf(await login(b.nonce, phone.otp(a.hsid)))).toMatchObject({ status: 401, code: 'otp_invalid' });
  });

  it('answers a wrong account reference exactly like a wrong code', async () => {
    const other = await enrolPhone(h);
    const { nonce, hsid } = await newSession();
    const right = phone.otp(hsid);
    const [ref, code] = right.split(' ') as [string, string];
    const otherRef = other.otp(hsid).split(' ')[0]!;
    const unknownRef = ref === 'ZZZZZZ' ? 'ZZZZZY' : 'ZZZZZZ';
    const badRef = await login(nonce, `${otherRef} ${code}`);
    const noRef = await login(nonce, `${unknownRef} ${code}`);
    const badCode = await login(nonce, wrongCode(phone, hsid));
    expect(errorOf(badRef)).toEqual({ status: 401, code: 'otp_invalid', message: errorOf(badCode).message });
    expect(badRef.body).toBe(badCode.body);
    expect(noRef.body).toBe(badCode.body);
    // Each counted against the session.
    expect((await row(hsid))?.otp_failures).toBe(3);
    expect((await login(nonce, right)).statusCode).toBe(200);
  });

  it('creates the session when otpLogin is the first call that names the nonce, and counts its attempt there', async () => {
    const first = generateNonce();
    const firstHsid = deriveHsid(h.a.sid, first);
    expect(errorOf(await login(first, wrongCode(phone, firstHsid)))).toMatchObject({ status: 401, code: 'otp_invalid' });
    expect(await row(firstHsid)).toMatchObject({ state: 'idle', otp_failures: 1 });
    const other = generateNonce();
    const res = await login(other, phone.otp(deriveHsid(h.a.sid, other)));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ loggedin: true, otplogin: true, accountid: phone.accountid });
    expect(await row(deriveHsid(h.a.sid, other))).toMatchObject({ state: 'loggedin', otplogin: 1, otp_failures: 1 });
  });

  it('takes a code once: the same code again, or after logout, meets session_state', async () => {
    const { nonce, hsid } = await newSession();
    const code = phone.otp(hsid);
    expect((await login(nonce, code)).statusCode).toBe(200);
    const after = await snapshot(h.ctx, h.a.sid, [hsid]);
    expect(errorOf(await login(nonce, code))).toMatchObject({ status: 409, code: 'session_state' });
    expect(await snapshot(h.ctx, h.a.sid, [hsid])).toEqual(after);
    expect((await call('POST', '/session/logout', { nonce })).statusCode).toBe(200);
    expect(errorOf(await login(nonce, code))).toMatchObject({ status: 409, code: 'session_state' });
    expect((await row(hsid))?.state).toBe('loggedout');
  });

  it('reads look-alikes (I, L → 1, O → 0), lower case, spaces and hyphens', async () => {
    // Find a session whose code has a 1 and a 0 in it, so that every look-alike is exercised.
    let found: { nonce: string; hsid: string; code: string } | undefined;
    for (let i = 0; i < 400 && !found; i++) {
      const s = await newSession();
      const code = phone.otp(s.hsid);
      if (code.includes('1') && code.includes('0')) found = { ...s, code };
    }
    if (!found) throw new Error('no code with 0 and 1 found');
    let ones = 0;
    const typed = [...found.code.replace(' ', '')]
      .map((c) => (c === '1' ? ['I', 'l', 'L', 'i'][ones++ % 4]! : c === '0' ? 'o' : c.toLowerCase()))
      .join('')
      .replace(/^(...)(...)(...)(...)$/, ' $1-$2  $3 - $4 ');
    expect(typed).not.toContain('1');
    expect(typed).not.toContain('0');
    expect((await login(found.nonce, typed)).json()).toMatchObject({ state: 'loggedin', otplogin: true });

    const plain = await newSession();
    expect((await login(plain.nonce, phone.otp(plain.hsid).toLowerCase().replace(' ', '-'))).statusCode).toBe(200);
  });

  it('refuses what cannot be a code (401 otp_invalid) without counting it, and bad bodies (400)', async () => {
    const { nonce, hsid } = await newSession();
    const before = await snapshot(h.ctx, h.a.sid, [hsid]);
    for (const otp of ['0J6HB7VQMMW', '0J6HB7 VQMMW90', '0J6HB7 VQMMWU', 'hello', ' ', '0J6HB7 VQMMW*', '------------']) {
      expect(errorOf(await login(nonce, otp)), otp).toMatchObject({ status: 401, code: 'otp_invalid' });
    }
    for (const body of [{}, { otp: '' }, { otp: 'A'.repeat(65) }, { otp: 123456789012 }, { otp: phone.otp(hsid), extra: 1 }, null]) {
      expect(errorOf(await call('POST', '/session/otp', { nonce, body })), JSON.stringify(body)).toMatchObject({ status: 400, code: 'bad_request' });
    }
    expect(await snapshot(h.ctx, h.a.sid, [hsid])).toEqual(before);
    expect((await login(nonce, phone.otp(hsid))).statusCode).toBe(200);
  });

  it('locks a session after 5 wrong codes (429 otp_locked); then even the right code is refused', async () => {
    const { nonce, hsid } = await newSession();
    for (let n = 1; n <= 4; n++) expect(errorOf(await login(nonce, wrongCode(phone, hsid))), `wrong #${n}`).toMatchObject({ code: 'otp_invalid' });
    const fifth = errorOf(await login(nonce, wrongCode(phone, hsid)));
    expect(fifth).toMatchObject({ status: 429, code: 'otp_locked' });
    expect(fifth.details).toBeUndefined();
    expect(errorOf(await login(nonce, phone.otp(hsid)))).toMatchObject({ status: 429, code: 'otp_locked' });
    expect(await row(hsid)).toMatchObject({ state: 'idle', otp_failures: 5, accountid: null });
    // The account is not locked by five: another session logs in, and its right code is not counted as wrong.
    const next = await newSession();
    expect((await login(next.nonce, phone.otp(next.hsid))).statusCode).toBe(200);
    expect((await h.ctx.store.getAccount(h.a.sid, phone.accountid))?.otp_failures).toBe(5);
    // The locked session can still be logged in with the phone (QR), which is no guess.
    await phone.login(hsid);
    expect((await row(hsid))?.state).toBe('loggedin');
  });

  it('lets no more than 5 of many simultaneous guesses on one session be checked', async () => {
    const { nonce, hsid } = await newSession();
    const codes = Array.from({ length: 30 }, (_, k) => phone.otp(hsid, h.clock.t + (k + 5) * INTERVAL_MS));
    const answers = await Promise.all(codes.map((otp) => login(nonce, otp)));
    const codesSeen = answers.map((r) => errorOf(r).code);
    expect(codesSeen.filter((c) => c === 'otp_invalid').length).toBeLessThanOrEqual(4);
    expect(codesSeen.filter((c) => c !== 'otp_invalid' && c !== 'otp_locked')).toEqual([]);
    expect((await row(hsid))?.otp_failures).toBe(5);
    expect((await h.ctx.store.getAccount(h.a.sid, phone.accountid))?.otp_failures).toBe(5);
    expect(errorOf(await login(nonce, phone.otp(hsid)))).toMatchObject({ code: 'otp_locked' });
  });

  it('lets a right code among simultaneous guesses on one session win only within the session\'s 5', async () => {
    // The right code comes early in some rounds and late in others (positions 0, 3, 6, 9 of 13); which outcome a
    // round gets depends on the order the requests are served in, so only what must hold either way is checked.
    for (let round = 0; round < 4; round++) {
      // A phone of its own each round, so that the account's limit (10 an hour) stays out of the way.
      const guessed = await enrolPhone(h);
      const { nonce, hsid } = await newSession();
      const codes = Array.from({ length: 12 }, (_, k) => guessed.otp(hsid, h.clock.t + (k + 5) * INTERVAL_MS));
      codes.splice(round * 3, 0, guessed.otp(hsid));
      const answers = await Promise.all(codes.map((otp) => login(nonce, otp)));
      const ok = answers.filter((r) => r.statusCode === 200).length;
      const seen = answers.filter((r) => r.statusCode !== 200).map((r) => errorOf(r).code);
      expect(seen.filter((c) => c !== 'otp_invalid' && c !== 'otp_locked' && c !== 'session_state')).toEqual([]);
      const after = await row(hsid);
      // Every code answered as checked (200 or otp_invalid, and the fifth wrong one's otp_locked) took one of the 5.
      expect(after!.otp_failures).toBeLessThanOrEqual(5);
      expect(ok + seen.filter((c) => c === 'otp_invalid').length).toBeLessThanOrEqual(after!.otp_failures);
      expect(after).toMatchObject(ok === 1 ? { state: 'loggedin', accountid: guessed.accountid } : { state: 'idle', otp_failures: 5 });
    }
  });

  it('lets at most one code through the account\'s last attempt when guesses on many sessions arrive at once', async () => {
    // The account has one wrong code left in its window; 15 sessions get one guess each, all at once, the right one
    // last. As one by one, whichever is first takes the last attempt: either the right code logs in (and gives its
    // attempt back) and every wrong one is locked out, or a wrong one takes it and all 15 are locked out alike.
    for (let round = 0; round < 3; round++) {
      const guessed = await enrolPhone(h);
      await h.ctx.store.updateAccount(h.a.sid, guessed.accountid, { otp_failures: 9, otp_window: h.clock.t });
      const sessions = await Promise.all(Array.from({ length: 15 }, () => newSession()));
      const answers = await Promise.all(sessions.map((s, i) => login(s.nonce, i === 14 ? guessed.otp(s.hsid) : wrongCode(guessed, s.hsid))));
      const ok = answers.filter((r) => r.statusCode === 200).length;
      expect(ok).toBeLessThanOrEqual(1);
      for (const r of answers.filter((a) => a.statusCode !== 200)) {
        expect(errorOf(r)).toMatchObject({ status: 429, code: 'otp_locked', details: { retryAfter: 3600 } });
      }
      expect((await h.ctx.store.getAccount(h.a.sid, guessed.accountid))?.otp_failures).toBe(ok === 1 ? 9 : 10);
      expect((await row(sessions[14]!.hsid))?.state).toBe(ok === 1 ? 'loggedin' : 'idle');
    }
  });

  it('locks an account after 10 wrong codes in an hour, across sessions, with retryAfter; it unlocks after the hour', async () => {
    const bystander = await enrolPhone(h);
    const start = h.clock.t;
    // 4 + 4 + 2 wrong codes on three sessions, spread over 20 minutes.
    for (const n of [4, 4, 2]) {
      const { nonce, hsid } = await newSession();
      for (let i = 0; i < n; i++) {
        const res = await login(nonce, wrongCode(phone, hsid));
        const last = n === 2 && i === 1;
        expect(errorOf(res)).toMatchObject(last ? { status: 429, code: 'otp_locked' } : { status: 401, code: 'otp_invalid' });
        if (last) {
          expect(errorOf(res).details).toEqual({ retryAfter: 3600 - 20 * 60 });
          expect(res.headers['retry-after']).toBe(String(3600 - 20 * 60));
        }
      }
      h.clock.advance(10 * 60_000);
    }
    // Locked: the right code on a fresh session is refused, and says for how long.
    const locked = await newSession();
    const refused = await login(locked.nonce, phone.otp(locked.hsid));
    expect(errorOf(refused)).toMatchObject({ status: 429, code: 'otp_locked', details: { retryAfter: (start + HOUR - h.clock.t) / 1000 } });
    expect((await row(locked.hsid))?.state).toBe('idle');
    // Other accounts are not affected.
    expect((await login(locked.nonce, bystander.otp(locked.hsid))).statusCode).toBe(200);

    // One millisecond before the hour is over it is still locked; at the hour it is open again.
    h.clock.t = start + HOUR - 1;
    const still = await newSession();
    expect(errorOf(await login(still.nonce, phone.otp(still.hsid)))).toMatchObject({ code: 'otp_locked', details: { retryAfter: 1 } });
    h.clock.t = start + HOUR;
    const open = await newSession();
    expect((await login(open.nonce, phone.otp(open.hsid))).json()).toMatchObject({ state: 'loggedin', accountid: phone.accountid });
  });

  it('refuses a blocked account’s right code (403 account_blocked), and answers its wrong codes as any other', async () => {
    expect((await call('PUT', `/accounts/${phone.accountid}`, { body: { blocked: true } })).statusCode).toBe(200);
    const { nonce, hsid } = await newSession();
    expect(errorOf(await login(nonce, wrongCode(phone, hsid)))).toMatchObject({ status: 401, code: 'otp_invalid' });
    expect(errorOf(await login(nonce, phone.otp(hsid)))).toMatchObject({ status: 403, code: 'account_blocked' });
    expect(await row(hsid)).toMatchObject({ state: 'idle', accountid: null });
    expect((await h.ctx.store.getAccount(h.a.sid, phone.accountid))?.lastlogin).toBeNull();
  });

  it('refuses sessions that are not pending: expired (410), logged in or cancelled (409)', async () => {
    const expired = await newSession();
    const code = phone.otp(expired.hsid);
    h.clock.advance(10 * 60_000);
    expect(errorOf(await login(expired.nonce, code))).toMatchObject({ status: 410, code: 'session_expired' });
    expect(errorOf(await login(expired.nonce, wrongCode(phone, expired.hsid)))).toMatchObject({ status: 410, code: 'session_expired' });
    // Refused before any attempt is taken: neither the session's nor the account's count moved.
    expect((await row(expired.hsid))?.otp_failures).toBe(0);
    expect((await h.ctx.store.getAccount(h.a.sid, phone.accountid))?.otp_failures).toBe(0);

    const viaQr = await newSession();
    await phone.login(viaQr.hsid);
    expect(errorOf(await login(viaQr.nonce, phone.otp(viaQr.hsid)))).toMatchObject({ status: 409, code: 'session_state' });
    expect(await row(viaQr.hsid)).toMatchObject({ otplogin: 0, otp_failures: 0 });

    const declined = await newSession();
    await phone.answer(await phone.fetch(declined.hsid), 'decline');
    expect(errorOf(await login(declined.nonce, phone.otp(declined.hsid)))).toMatchObject({ status: 409, code: 'session_state' });
  });

  it('works on a session a phone has scanned but not answered; the pending challenge is dropped', async () => {
    const { nonce, hsid } = await newSession();
    const scanned = await phone.fetch(hsid);
    expect((await login(nonce, phone.otp(hsid))).statusCode).toBe(200);
    expect(await row(hsid)).toMatchObject({ state: 'loggedin', challenge: null, otplogin: 1 });
    expect(errorOf(await phone.answer(scanned, 'approve'))).toMatchObject({ status: 409, code: 'challenge_replayed' });
  });
});

describe('otpLogin without ENABLE_OTP', () => {
  it('refuses with 403 otp_disabled and changes nothing, not even a session', async () => {
    const phone = await enrolPhone(h);
    const nonce = generateNonce();
    const hsid = deriveHsid(h.a.sid, nonce);
    const before = await snapshot(h.ctx, h.a.sid, [hsid]);
    expect(errorOf(await login(nonce, phone.otp(hsid)))).toMatchObject({ status: 403, code: 'otp_disabled' });
    expect(await snapshot(h.ctx, h.a.sid, [hsid])).toEqual(before);
    expect(await row(hsid)).toBeUndefined();
    // The flag of another virtual server does not count.
    expect((await business(h.app, h.b.sid, h.b.apiKey)('PUT', '/', { body: { serverFlags: ['ENABLE_OTP'] } })).statusCode).toBe(200);
    expect(errorOf(await login(nonce, phone.otp(hsid)))).toMatchObject({ status: 403, code: 'otp_disabled' });
    // Switching it on makes the same code work.
    await enableOtp();
    expect((await login(nonce, phone.otp(hsid))).statusCode).toBe(200);
  });
});
