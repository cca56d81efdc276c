import { type LoginStatus, SERVER_FLAGS, TapinError, matchOtpCode, parseOtp } from '@tapin/protocol';
import { nodeHmacSha256 } from '../crypto/hashes.js';
import type { SessionRow } from '../store/store.js';
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

export async function otpLogin(ctx: ServiceContext, sid: string, hsid: string, typed: string): Promise<LoginStatus> {
  const server = await requireServer(ctx, sid);
  if (!serverFlags(server).includes(SERVER_FLAGS.ENABLE_OTP)) throw new TapinError('otp_disabled');
  const now = ctx.now();
  const parsed = parseOtp(typed);
  if (!parsed) {
    // Not even the shape of a code: a typo, not a guess, so it costs no attempt.
    requirePending(await ensureSession(ctx, sid, hsid), now);
    throw invalid();
  }

  // Attempts are taken before the code is checked, so that many guesses sent at once cannot overrun the limits.
  // The session's attempt is taken only while it is pending (creating it if this call is the first to name it);
  // finding the account does not depend on it, so both go at once.
  const [row, account] = await Promise.all([
    ctx.store.takeSessionOtpAttempt(newSession(ctx, sid, hsid), MAX_SESSION_OTP_FAILURES, now, PENDING_STATES),
    ctx.store.findAccountByOtpref(sid, parsed.otpref),
  ]);
  if (!row) {
    // The upsert does not say which guard refused (state, expiry or count): read the row once to answer as before,
    // the session's state first, then the lock. A row gone by now was purged, which only ended sessions are.
    const current = await ctx.store.getSession(sid, hsid);
    if (!current) throw new TapinError('session_expired');
    requirePending(current, now);
    throw sessionLocked();
  }
  const sessionCount = row.otp_failures;
  const wrong = (accountCount = 0, window = 0) => {
    if (sessionCount >= MAX_SESSION_OTP_FAILURES) return sessionLocked();
    if (accountCount >= MAX_ACCOUNT_OTP_FAILURES) return accountLocked(window + ACCOUNT_OTP_WINDOW_MS, now);
    return invalid();
  };
  if (!account) throw wrong();
  const attempt = await ctx.store.takeAccountOtpAttempt(sid, account.accountid, now, ACCOUNT_OTP_WINDOW_MS, MAX_ACCOUNT_OTP_FAILURES);
  // Locked: even the right code is refused until the window ends.
  if (!attempt) {
    // The window that refused may have begun after the row was read (the one read was over): say when it ends.
    const current = await ctx.store.getAccount(sid, account.accountid);
    throw accountLocked((current?.otp_window ?? now) + ACCOUNT_OTP_WINDOW_MS, now);
  }

  const otpkey = ctx.box.open(account.otp_key_enc, `otp-key:${sid}:${account.accountid}`);
  if (checkOtp(typed, { otpkey, otpref: account.otpref }, sid, hsid, now) === undefined) throw wrong(attempt.count, attempt.window);
  // Checked after the code, so that only the holder of a right code learns that the account is blocked.
  if (account.blocked) {
    await ctx.store.returnAccountOtpAttempt(sid, account.accountid, attempt.window);
    throw new TapinError('account_blocked');
  }

  // Leaving the pending state is what makes the code single-use: the same code on this session now meets session_state.
  // No proof is kept (an OTP is a shared secret, so it proves nothing to a third party) and no ping deadline is set:
  // the phone is offline, so the login is one-shot.
  const patch = {
    state: 'loggedin', accountid: account.accountid, userid: account.userid, otplogin: 1, proof: null, loggedin_at: now,
    challenge: null, ping_deadline: null, updated: now,
  } satisfies Partial<SessionRow>;
  const changed = await ctx.store.updateSession(sid, hsid, patch, { states: PENDING_STATES, activeAccount: account.accountid });
  // A right code was no failure, whether or not the login then lost a race: its attempt goes back either way,
  // together with the login's time when there was one.
  await ctx.store.returnAccountOtpAttempt(sid, account.accountid, attempt.window, changed ? now : undefined);
  if (!changed) {
    const current = await ctx.store.getAccount(sid, account.accountid);
    if (!current || current.blocked) throw new TapinError(current ? 'account_blocked' : 'account_not_found');
    throw new TapinError('session_state');
  }
  await ctx.bus.publish({ sid, hsid, type: 'LOGIN' });
  // The guarded update succeeded, so the row now is the one the attempt returned plus the patch.
  return loginStatus(ctx, { ...row, ...patch });
}
