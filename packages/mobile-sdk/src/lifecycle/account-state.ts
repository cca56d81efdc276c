import type { DeviceSession } from '@tapin/protocol';
import { findStored } from '../account-admin.js';
import type { AccountStorage, KeyStore, StoredAccount } from '../platform.js';
import type { TapinCallbacks } from './callbacks.js';

/*
 * The phone's copy of its accounts, kept in step with what their servers answer: blocked and unblocked, gone,
 * and the server's flags.
 */

/**
 * The server says nothing when it unblocks an account, so the phone remembers the block and reports the unblock
 * (AccountUpdate {blocked: false}) when the server next answers that account.
 */
export async function noteBlocked(storage: AccountStorage, cb: TapinCallbacks, account: StoredAccount, blocked: boolean): Promise<void> {
  const stored = () => findStored(storage, account.sid, account.accountid);
  if (blocked) {
    cb.AccountUpdate?.(account, { blocked: true });
    account.blocked = true;
    // The caller goes on to report the server's account_blocked: a storage that cannot record the block must not
    // replace that answer with its own error (the app has heard of the block either way).
    try {
      const copy = await stored();
      if (copy && copy.blocked !== true) await storage.save({ ...copy, blocked: true });
    } catch {
      // see above
    }
    return;
  }
  // The app's copy may be older than the stored one (the block was learned through another request), so the
  // stored copy is read every time, not only when the app's copy says blocked.
  const mine = account.blocked === true;
  account.blocked = false;
  const copy = await stored();
  const was = mine || copy?.blocked === true;
  if (copy?.blocked === true) await storage.save({ ...copy, blocked: false });
  if (was) cb.AccountUpdate?.(account, { blocked: false });
}

/** The server no longer knows the account (account_not_found): the phone lets it go too, key included. */
export async function forgetAccount(storage: AccountStorage, keys: KeyStore, cb: TapinCallbacks, account: StoredAccount): Promise<void> {
  await storage.remove(account.accountid);
  await keys.remove(account.accountid).catch(() => undefined);
  cb.AccountDeleted?.(account);
}

/**
 * Keep the phone's copy of the server's flags current, so OTPAvailable and generateOTP are right next time,
 * offline included. The flags belong to the server, so every account of this phone there gets them. `inMemory`
 * are account objects the app may hold (a session's accounts): they are updated in place as well.
 */
export async function syncServerFlags(
  storage: AccountStorage, inMemory: StoredAccount[], account: StoredAccount, device: Pick<DeviceSession, 'serverFlags' | 'pingTime'>,
): Promise<void> {
  const flags = JSON.stringify(device.serverFlags);
  const known = new Map(inMemory.map((a) => [a.accountid, a]));
  known.set(account.accountid, account);
  for (const stored of await storage.list()) {
    if (stored.sid !== account.sid || stored.base !== account.base) continue;
    const copy = known.get(stored.accountid) ?? stored;
    if (JSON.stringify(stored.server.serverFlags) === flags && JSON.stringify(copy.server.serverFlags) === flags) continue;
    const server = { ...stored.server, serverFlags: device.serverFlags, pingTime: device.pingTime };
    copy.server = server;
    await storage.save({ ...stored, server });
  }
}
