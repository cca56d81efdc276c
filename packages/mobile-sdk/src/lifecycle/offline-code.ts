import { SERVER_FLAGS, TapinError, fromBase64url, generateOtp } from '@tapin/protocol';
import type { StoredAccount } from '../platform.js';
import type { TapinSession } from './session.js';

/** Whether the account's server lets the phone make offline codes (as far as the phone last heard). */
export const allowsOfflineCodes = (account: StoredAccount | undefined): boolean =>
  account?.server.serverFlags.includes(SERVER_FLAGS.ENABLE_OTP) === true;

/**
 * The offline code for a waiting login, and the account it was made with (`account`, or one of the session's that
 * may make codes): computed from the QR data, the account's OTP key and the clock, no network.
 */
export function offlineCode(session: TapinSession, account: StoredAccount | undefined, now: () => number): { otp: string; account: StoredAccount } {
  // Only for a login still waiting for an answer: an ended session stays as it ended (ERROR is not rewritten
  // as ABORTED), and an ACTIVE one is logged in at the server, which a code cannot change.
  if (session.kind !== 'login' || (session.state !== 'STARTING' && session.state !== 'USER_INTERACTION')) {
    throw new TapinError('session_state', `This ${session.kind} session is ${session.state}: an offline code is only for a login that is waiting.`);
  }
  const hsid = session.hsid;
  // By default an account that may make codes: OTPAvailable fires when any of them may.
  const acct = account
    ?? (allowsOfflineCodes(session.account) ? session.account : session.accounts.find(allowsOfflineCodes)) ?? session.account ?? session.accounts[0];
  if (!hsid || !acct) throw new TapinError('no_accounts');
  if (!allowsOfflineCodes(acct)) throw new TapinError('otp_disabled');
  return { otp: generateOtp(fromBase64url(acct.otpkey), acct.otpref, acct.sid, hsid, now()), account: acct };
}
