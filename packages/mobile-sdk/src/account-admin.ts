import {
  TapinError, derivePinKey, devicePaths, fromBase64url, pinChangeStatement, randomBytes, signWithPinKey, toBase64url,
  PIN_PBKDF2_ITERATIONS, PIN_SALT_LENGTH,
} from '@tapin/protocol';
import type { DeviceHttp } from './device-http.js';
import { PIN_RE } from './enrol.js';
import type { AccountStorage, KeyStore, StoredAccount } from './platform.js';

export interface PinChange {
  /** The current PIN; omit for a headless account that sets its first PIN. */
  oldPin?: string | undefined;
  newPin: string;
  pinIterations?: number | undefined;
}

/** The stored copy of an account: the one to build on, since an app's copy may be older. */
export async function findStored(storage: AccountStorage, sid: string, accountid: string): Promise<StoredAccount | undefined> {
  return (await storage.list()).find((a) => a.sid === sid && a.accountid === accountid);
}

/**
 * Changes an account's PIN: a new salt and second-factor key; the current key (proving the current PIN) and the
 * new one both sign `tapin/pin/1`, in a request signed with the account key. The phone keeps the new salt only
 * once the server has taken the new key, so a failed change leaves the old PIN working. A wrong current PIN
 * throws `pin_wrong` with `details.attemptsLeft`, and counts on the server like a wrong PIN at login.
 */
export async function changeAccountPin(
  http: DeviceHttp, keys: KeyStore, storage: AccountStorage, account: StoredAccount, change: PinChange,
): Promise<StoredAccount> {
  if (!PIN_RE.test(change.newPin)) throw new TapinError('bad_request', 'A PIN is 4 to 12 digits.');
  // The stored copy, not the app's, which may be older (an earlier PIN change's salt, a block recorded since): read
  // once, before the server takes the new key, so that nothing can fail between that and saving the new salt.
  account = (await findStored(storage, account.sid, account.accountid)) ?? account;
  if (account.pinSalt !== null && change.oldPin === undefined) throw new TapinError('pin_required', 'Enter the current PIN to change it.');
  const oldKey = account.pinSalt === null || change.oldPin === undefined
    ? null
    : await derivePinKey(change.oldPin, fromBase64url(account.pinSalt), account.pinIterations);
  const iterations = change.pinIterations ?? PIN_PBKDF2_ITERATIONS;
  const salt = randomBytes(PIN_SALT_LENGTH);
  const next = await derivePinKey(change.newPin, salt, iterations);
  const statement = pinChangeStatement({ sid: account.sid, accountid: account.accountid, oldpinpk: oldKey?.publicKey ?? null, pinpk: next.publicKey });
  await http.signed<{ ok: boolean }>(keys, account, 'POST', devicePaths.pin(account.sid), {
    pinpk: next.publicKey,
    newpinsignature: signWithPinKey(next.secretKey, statement),
    ...(oldKey ? { pinsignature: signWithPinKey(oldKey.secretKey, statement) } : {}),
  });
  const updated: StoredAccount = { ...account, pinSalt: toBase64url(salt), pinIterations: iterations };
  await storage.save(updated);
  return updated;
}

/**
 * Removes an account from the server (its logged-in sessions end) and then from the phone, key included. An
 * account the server no longer knows is removed from the phone all the same. With `localOnly` the server is not
 * asked — for a server that is gone for good; the account then stays on the server until its admin deletes it.
 */
export async function deleteAccount(
  http: DeviceHttp, keys: KeyStore, storage: AccountStorage, account: StoredAccount, localOnly = false,
): Promise<void> {
  if (!localOnly) {
    try {
      await http.signed<{ ok: boolean }>(keys, account, 'DELETE', devicePaths.account(account.sid));
    } catch (err) {
      if (!(err instanceof TapinError && err.code === 'account_not_found')) throw err;
    }
  }
  await storage.remove(account.accountid);
  await keys.remove(account.accountid).catch(() => undefined);
}
