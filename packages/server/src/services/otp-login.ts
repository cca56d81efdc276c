import { type LoginStatus, SERVER_FLAGS, TapinError, matchOtpCode, parseOtp } from '@tapin/protocol';
import { nodeHmacSha256 } from '../crypto/hashes.js';
import type { AccountRow, SessionRow } from '../store/store.js';
import type { ServiceContext } from './context.js';
import { PENDING_STATES, effectiveState, ensureSession, isPending, loginStatus, newSession } from './sessions.js';
import { requireServer, serverFlags } from './virtual-servers.js';

/**
 * Offline login (DESIGN §6): the person types the 12-symbol code their phone shows, and the business back-end hands
 * it to otpLogin. A code is 30 bits of HMAC, so the limits below are what make guessing hopeless: 5 wrong codes end
 * a session's chances, 10 wrong codes an hour lock an account's offline codes.
 */
export const MAX_SESSION_OTP_FAILURES = 5;
export const MAX_ACCOUNT_OTP_FAILURES = 10;
export const ACCOUNT_OTP_WINDOW_MS = 3600_000;

/**
 * The server's check, free of storage: whether `typed` is the code of the account with (otpkey, otpref) for
 * session `hsid` at the server's time `now`, made in interval T or T−1. Returns the matching interval.
 */
export function checkOtp(typed: string, account: { otpkey: Uint8Array; otpref: number }, sid: string, hsid: string, now: number): number | undefined {
  const parsed = parseOtp(typed);
  if (!parsed || parsed.otpref !== account.otpref) return undefined;
  return matchOtpCode(account.otpkey, sid, hsid, parsed.code, now, nodeHmacSha256);
}

// One answer for a wrong reference and a wrong code, so that nobody learns which half was wrong.
const invalid = () => new TapinError('otp_invalid');
const sessionLocked = () => new TapinError('otp_locked', 'Too many wrong offline codes for this session; start a new one.');
const accountLocked = (untilMs: number, now: number) =>
  new TapinError('otp_locked', 'Too many wrong offline codes for this account; try again later.', { retryAfter: Math.max(1, Math.ceil((untilMs - now) / 1000)) });

/** The session's state answers before anything about the code: an expired or ended session is no place to guess. */
function requirePending(row: SessionRow, now: number): void {
  const state = effectiveState(row, now);
  if (state === 'expired') throw new TapinError('session_expired');
  if (!isPending(row)) throw new TapinError('session_state', `The session is ${state}.`);
}

/** Whether the session can still take a code, or why not. A row that is gone was purged, which only ended sessions are. */
function requireOpenSession(row: SessionRow | undefined, now: number): void {
  if (!row) throw new TapinError('session_expired');
  requirePending(row, now);
  if (row.otp_failures >= MAX_SESSION_OTP_FAILURES) throw sessionLocked();
}

/** The end of the account's lock, or undefined while it can take codes (the SQL of `accountOtpOpen` says the same). */
function accountLockedUntil(account: AccountRow, now: number): number | undefined {
  const window = account.otp_window;
  if (window === null || window <= now - ACCOUNT_OTP_WINDOW_MS || account.otp_failures < MAX_ACCOUNT_OTP_FAILURES) return undefined;
  return window + ACCOUNT_OTP_WINDOW_MS;
}

/**
 * Only wrong codes count: each is counted before it is answered, in a statement that refuses at the limit, and a
 * right code logs in only by a statement that requires the session and the account to be under their limits. So
 * however many guesses arrive at once, no more than the limit of them can be wrong and answered as such, and a
 * right one among them wins only if it comes within the limit, as if they had come one by one. A locked session
 * or account is answered from what is stored before the code is looked at, so a locked answer says nothing about
 * the code.
 */
export async function otpLogin(ctx: ServiceContext, sid: string, hsid: string, typed: string): Promise<LoginStatus> {
  const server = await requireServer(ctx, sid);
  if (!serverFlags(server).includes(SERVER_FLAGS.ENABLE_OTP)) throw new TapinError('otp_disabled');
  const now = ctx.now();
  const parsed = parseOtp(typed);
  if (!parsed) {
    // Not even the shape of a code: a typo, not a guess, so it counts as nothing.
    requirePending(await ensureSession(ctx, sid, hsid), now);
    throw invalid();
  }

  const [session, account] = await Promise.all([ctx.store.getSession(sid, hsid), ctx.store.findAccountByOtpref(sid, parsed.otpref)]);
  if (session) requireOpenSession(session, now);
  const lockedUntil = account && accountLockedUntil(account, now);
  if (lockedUntil !== undefined) throw accountLocked(lockedUntil, now);
  const right = account !== undefined
    && checkOtp(typed, { otpkey: ctx.box.open(account.otp_key_enc, `otp-key:${sid}:${account.accountid}`), otpref: account.otpref }, sid, hsid, now) !== undefined;
  if (!right) throw await countWrongCode(ctx, sid, hsid, account, now);
  // Checked after the code, so that only the holder of a right code learns that the account is blocked.
  if (account.blocked) throw new TapinError('account_blocked');
  return logIn(ctx, session ?? (await ctx.store.ensureSession(newSession(ctx, sid, hsid))), account, now);
}

/** Counts a wrong code on the session, then on the account, and returns the answer to give. */
async function countWrongCode(ctx: ServiceContext, sid: string, hsid: string, account: AccountRow | undefined, now: number): Promise<TapinError> {
  const row = await ctx.store.takeSessionOtpAttempt(newSession(ctx, sid, hsid), MAX_SESSION_OTP_FAILURES, now, PENDING_STATES);
  if (!row) {
    // Refused: the session ended, expired or reached its limit since it was read. Say which.
    requireOpenSession(await ctx.store.getSession(sid, hsid), now);
    return sessionLocked();
  }
  // The account counts only codes that its session counted: one session's burst of guesses cannot lock the account.
  const attempt = account && (await ctx.store.takeAccountOtpAttempt(sid, account.accountid, now, ACCOUNT_OTP_WINDOW_MS, MAX_ACCOUNT_OTP_FAILURES));
  if (row.otp_failures >= MAX_SESSION_OTP_FAILURES) return sessionLocked();
  if (account && !attempt) return accountLocked((account.otp_window ?? now) + ACCOUNT_OTP_WINDOW_MS, now);
  if (attempt && attempt.count >= MAX_ACCOUNT_OTP_FAILURES) return accountLocked(attempt.window + ACCOUNT_OTP_WINDOW_MS, now);
  return invalid();
}

/** A right code: the session logs in, if it and the account are still under their limits, and the account records it. */
async function logIn(ctx: ServiceContext, row: SessionRow, account: AccountRow, now: number): Promise<LoginStatus> {
  const { sid, hsid } = row;
  // Leaving the pending state is what makes the code single-use: the same code on this session now meets session_state.
  // No proof is kept (an OTP is a shared secret, so it proves nothing to a third party) and no ping deadline is set:
  // the phone is offline, so the login is one-shot.
  const patch = {
    state: 'loggedin', accountid: account.accountid, userid: account.userid, otplogin: 1, proof: null, loggedin_at: now,
    challenge: null, ping_deadline: null, updated: now,
  } satisfies Partial<SessionRow>;
  const guard = {
    states: PENDING_STATES, otpFailuresBelow: MAX_SESSION_OTP_FAILURES, accountOtpOpen: { over: now - ACCOUNT_OTP_WINDOW_MS, max: MAX_ACCOUNT_OTP_FAILURES },
  };
  if (!(await ctx.store.updateSessionAndAccount(sid, hsid, patch, guard, account.accountid, { lastlogin: now }))) {
    // Something changed since the rows were read: the session ended or reached its limit, or the account was
    // blocked, deleted or locked.
    const current = await ctx.store.getAccountAndSession(sid, account.accountid, hsid);
    requireOpenSession(current.session, now);
    if (!current.account) throw new TapinError('account_not_found');
    if (current.account.blocked) throw new TapinError('account_blocked');
    const until = accountLockedUntil(current.account, now);
    throw until === undefined ? new TapinError('session_state') : accountLocked(until, now);
  }
  await ctx.bus.publish({ sid, hsid, type: 'LOGIN' });
  return loginStatus(ctx, { ...row, ...patch });
}
