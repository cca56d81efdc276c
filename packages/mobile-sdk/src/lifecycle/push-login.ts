import { type PendingPush, type PushSubscriptionBody, devicePaths } from '@tapin/protocol';
import { findStored } from '../account-admin.js';
import type { DeviceHttp } from '../device-http.js';
import type { StoredAccount } from '../platform.js';
import { noteBlocked } from './account-state.js';
import type { TapinCallbacks } from './callbacks.js';
import { asTapinError, toUserError } from './errors.js';
import type { TapinSDKOptions } from './sdk-options.js';
import { type SessionController, TapinSession } from './session.js';

type PushIds = Pick<PendingPush, 'pushid' | 'sid' | 'hsid'>;

export interface PushInboxDeps {
  options: Pick<TapinSDKOptions, 'storage' | 'keys'>;
  http: DeviceHttp;
  cb: TapinCallbacks;
  /** What the push sessions answer to. */
  controller: SessionController;
  /** The SDK's sessions that have not ended: a push for a login one of them already runs starts nothing. */
  sessions: () => TapinSession[];
  /** Hands a new push session to the SDK, which runs it from STARTING. */
  begin: (session: TapinSession) => void;
}

/**
 * Push logins (DESIGN §8) from every channel — pull, Web Push, device socket — each turned into one session.
 */
export class PushInbox {
  /** Push ids already turned into sessions: the same push may come by device socket, Web Push and pull. */
  private readonly seen = new Set<string>();

  constructor(private readonly deps: PushInboxDeps) {}

  receive(account: StoredAccount, push: PushIds): TapinSession | undefined {
    if (push.sid !== account.sid || this.seen.has(push.pushid)) return undefined;
    this.seen.add(push.pushid);
    if (this.deps.sessions().some((s) => s.link.type === 'login' && s.link.sid === push.sid && s.link.hsid === push.hsid)) return undefined;
    const session = new TapinSession({ type: 'login', base: account.base, sid: account.sid, hsid: push.hsid }, this.deps.controller);
    session.push = true;
    session.accounts = [account];
    session.account = account;
    this.deps.begin(session);
    return session;
  }

  async pull(): Promise<TapinSession[]> {
    const { storage, keys } = this.deps.options;
    const started: TapinSession[] = [];
    for (const account of await storage.list()) {
      let items: PendingPush[];
      try {
        ({ items } = await this.deps.http.signed<{ items: PendingPush[] }>(keys, account, 'GET', devicePaths.pushes(account.sid)));
      } catch (err) {
        const e = asTapinError(err);
        if (e.code === 'account_blocked') await noteBlocked(storage, this.deps.cb, account, true);
        this.deps.cb.UserErrorMessage?.(undefined, toUserError(e));
        continue;
      }
      await noteBlocked(storage, this.deps.cb, account, false);
      for (const push of items) {
        const session = this.receive(account, push);
        if (session) started.push(session);
      }
    }
    return started;
  }

  /** `payload` as the platform decrypted it; anything but a push for an account on this phone is dropped. */
  async receiveWebPush(payload: string): Promise<TapinSession | undefined> {
    let message: { type?: unknown; pushid?: unknown; sid?: unknown; hsid?: unknown; accountid?: unknown };
    try {
      message = JSON.parse(payload) as typeof message;
    } catch {
      return undefined;
    }
    const { type, pushid, sid, hsid, accountid } = message;
    if (type !== 'push' || typeof pushid !== 'string' || typeof sid !== 'string' || typeof hsid !== 'string') return undefined;
    const account = typeof accountid === 'string' ? await findStored(this.deps.options.storage, sid, accountid) : undefined;
    return account ? this.receive(account, { pushid, sid, hsid }) : undefined;
  }
}

/** Registers the subscription at each account's server, signed with that account's key. */
export async function subscribeWebPush(
  options: Pick<TapinSDKOptions, 'storage' | 'keys'>, http: DeviceHttp, subscription: PushSubscriptionBody, accounts?: StoredAccount[],
): Promise<void> {
  for (const account of accounts ?? (await options.storage.list())) {
    await http.signed<{ ok: boolean }>(options.keys, account, 'POST', devicePaths.pushSubscription(account.sid), subscription);
  }
}

export async function vapidKey(http: DeviceHttp, account: StoredAccount): Promise<string> {
  return (await http.call<{ publicKey: string }>(account.base, 'GET', devicePaths.vapid(account.sid))).publicKey;
}
