import { type PinChangeRequest, TapinError, pinChangeStatement } from '@tapin/protocol';
import type { AccountRow } from '../store/store.js';
import { MAX_PIN_FAILURES, type ServiceContext } from './context.js';
import { logoutSessionsOfAccount } from './sessions.js';

/**
 * Changes an account's PIN. The phone derives the new second-factor key from the new PIN and a new salt; the old key
 * (proving the current PIN) and the new key (proving possession) both sign `tapin/pin/1` over the two public keys.
 * The request itself is signed with the account's key, so only the phone can ask. A wrong current PIN counts like a
 * wrong PIN at login — otherwise this would be a way to guess PINs without limit — and the fifth blocks the account.
 */
export async function changePin(ctx: ServiceContext, account: AccountRow, body: PinChangeRequest): Promise<{ ok: true }> {
  const statement = pinChangeStatement({ sid: account.sid, accountid: account.accountid, oldpinpk: account.pin_pk, pinpk: body.pinpk });
  if (account.pin_pk !== null) {
    if (body.pinsignature === undefined) throw new TapinError('pin_required', 'Changing the PIN needs the current PIN.');
    if (!ctx.keys.verify(account.pin_pk, statement, body.pinsignature)) {
      const failures = await ctx.store.recordPinFailure(account.sid, account.accountid, MAX_PIN_FAILURES);
      const attemptsLeft = Math.max(0, MAX_PIN_FAILURES - failures);
      if (attemptsLeft === 0) {
        await logoutSessionsOfAccount(ctx, account.sid, account.accountid);
        throw new TapinError('account_blocked', 'Wrong PIN 5 times in a row: the account is blocked.', { attemptsLeft });
      }
      throw new TapinError('pin_wrong', undefined, { attemptsLeft });
    }
  }
  // Ensure the new key is one the phone holds: a typo in the key would lock the account out of its own PIN.
  if (!ctx.keys.verify(body.pinpk, statement, body.newpinsignature)) throw new TapinError('bad_signature', 'The new PIN key did not sign the change.');
  await ctx.store.updateAccount(account.sid, account.accountid, { pin_pk: body.pinpk, pin_failures: 0, lastpin: ctx.now() });
  return { ok: true };
}
