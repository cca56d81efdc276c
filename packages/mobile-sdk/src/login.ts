import {
  type AnswerResponse, type Decision, type DeviceSession, TapinError, derivePinKey, devicePaths, fromBase64url,
  hashAnnounceinfo, loginStatement, signWithPinKey,
} from '@tapin/protocol';
import type { DeviceHttp } from './device-http.js';
import type { KeyStore, StoredAccount } from './platform.js';

/**
 * Opens a session on the server: announceinfo to show, a one-time challenge, and whether the PIN is needed. With
 * `returnUrl` (app-to-app login) the server first checks it against its allowed return URLs and answers the
 * normalized URL in `returnUrl`, or refuses with `return_url_not_allowed`.
 */
export function fetchSession(http: DeviceHttp, keys: KeyStore, account: StoredAccount, hsid: string, returnUrl?: string): Promise<DeviceSession> {
  return http.signed<DeviceSession>(keys, account, 'POST', devicePaths.fetchSession(account.sid, hsid, returnUrl));
}

/**
 * Approves or declines. The statement binds the challenge and the hash of the announceinfo the user saw; with a
 * PIN the second-factor key (derived here, never stored) signs the same statement.
 */
export async function answerSession(
  http: DeviceHttp, keys: KeyStore, account: StoredAccount, session: DeviceSession, decision: Decision, pin?: string, number?: number, notme = false,
): Promise<AnswerResponse> {
  const statement = loginStatement({
    sid: account.sid, hsid: session.hsid, accountid: account.accountid, challenge: session.challenge, decision,
    announceinfo: hashAnnounceinfo(session.announceinfo),
  });
  let pinsignature: string | undefined;
  if (decision === 'approve' && pin !== undefined) {
    if (account.pinSalt === null) throw new TapinError('bad_request', 'This account has no PIN.');
    const pinKey = await derivePinKey(pin, fromBase64url(account.pinSalt), account.pinIterations);
    pinsignature = signWithPinKey(pinKey.secretKey, statement);
  } else if (decision === 'approve' && session.pinRequired) {
    throw new TapinError('pin_required');
  }
  return http.call<AnswerResponse>(account.base, 'POST', devicePaths.answer(account.sid, session.hsid), {
    accountid: account.accountid, decision, challenge: session.challenge,
    signature: await keys.sign(account.accountid, statement),
    ...(pinsignature ? { pinsignature } : {}),
    ...(decision === 'approve' && number !== undefined ? { number } : {}),
    ...(decision === 'decline' && notme ? { notme: true } : {}),
  });
}
