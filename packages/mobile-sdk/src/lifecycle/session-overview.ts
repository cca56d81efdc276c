import { type DeviceSessionState, TapinError, devicePaths } from '@tapin/protocol';
import { findStored } from '../account-admin.js';
import type { DeviceHttp } from '../device-http.js';
import { DEFAULT_HISTORY_RETENTION_MS, type HistoryItem, type HistoryStatus } from '../history.js';
import type { TapinSDKOptions } from './sdk-options.js';
import type { TapinSession } from './session.js';

export interface SessionOverviewDeps {
  options: Pick<TapinSDKOptions, 'storage' | 'keys' | 'historyRetentionMs'>;
  http: DeviceHttp;
  now: () => number;
  /** The SDK's sessions that have not ended: while one runs, it and not the history says where it stands. */
  sessions: () => TapinSession[];
}

/**
 * The phone's overview of its sessions, past and logged in (the history): written as sessions move on, read
 * within the retention time, checked against the servers, and the way to log out of what is still logged in.
 */
export class SessionOverview {
  constructor(private readonly deps: SessionOverviewDeps) {}

  async list(): Promise<HistoryItem[]> {
    await this.prune();
    return (await this.deps.options.storage.listHistory()).sort((a, b) => b.started - a.started);
  }

  /** A login's item as it stands now; the first record of it keeps its start time. */
  async record(session: TapinSession, status: HistoryStatus, otp = false): Promise<void> {
    if (session.link.type !== 'login') return;
    const { storage } = this.deps.options;
    const { sid, hsid, base } = session.link;
    const id = `${sid}/${hsid}`;
    const previous = (await storage.listHistory()).find((h) => h.id === id);
    await storage.saveHistory({
      id, sid, hsid, base, accountid: session.account?.accountid ?? null, serverName: session.account?.server.name ?? '',
      announceinfo: session.announceinfo, sessioninfo: session.sessioninfo, status, otp,
      started: previous?.started ?? session.started, updated: this.deps.now(),
      ...(status === 'ERROR' && session.error ? { error: session.error.code } : {}),
    });
    await this.prune();
  }

  /** Marks logged-in items whose session the server has ended as LOGGED_OUT; unreachable servers change nothing. */
  async refresh(): Promise<HistoryItem[]> {
    const { storage, keys } = this.deps.options;
    const accounts = await storage.list();
    const liveHsids = new Set(this.deps.sessions().map((s) => s.hsid));
    for (const item of await this.list()) {
      if ((item.status !== 'LOGGED_IN' && item.status !== 'LOGGED_IN_ONE_SHOT') || liveHsids.has(item.hsid)) continue;
      const account = accounts.find((a) => a.accountid === item.accountid && a.sid === item.sid);
      let ended = !account;
      if (account) {
        try {
          // A status read, not a ping: looking at the history must not keep sessions alive.
          const state = await this.deps.http.signed<DeviceSessionState>(keys, account, 'GET', devicePaths.sessionState(account.sid, item.hsid));
          ended = state.state !== 'loggedin';
        } catch (err) {
          ended = err instanceof TapinError && (err.code === 'session_not_found' || err.code === 'account_not_found');
        }
      }
      if (ended) await storage.saveHistory({ ...item, status: 'LOGGED_OUT', updated: this.deps.now() });
    }
    return this.list();
  }

  /**
   * Logs out at the server: a live ACTIVE session (then `endLive` ends it on the phone), else the logged-in history
   * item with that hsid (and the session's sid), which is marked LOGGED_OUT.
   */
  async logout(target: TapinSession | string, endLive: (session: TapinSession) => Promise<void>): Promise<void> {
    const { storage, keys } = this.deps.options;
    const hsidOf = typeof target === 'string' ? target : target.hsid;
    const live = typeof target === 'string' ? this.deps.sessions().find((s) => s.hsid === target) : target.ended ? undefined : target;
    const session = live && live.state === 'ACTIVE' ? live : undefined;
    const item = session ? undefined : (await storage.listHistory())
      .find((h) => h.hsid === hsidOf && (typeof target === 'string' || h.sid === target.link.sid) && (h.status === 'LOGGED_IN' || h.status === 'LOGGED_IN_ONE_SHOT'));
    const sid = session?.account?.sid ?? item?.sid;
    const hsid = session?.hsid ?? item?.hsid;
    const accountid = session?.account?.accountid ?? item?.accountid;
    const account = sid && accountid ? await findStored(storage, sid, accountid) : undefined;
    if (!account || !hsid) throw new TapinError('session_not_found', 'No logged-in session with that hsid on this phone.');
    await this.deps.http.signed<DeviceSessionState>(keys, account, 'POST', devicePaths.logout(account.sid, hsid));
    if (session) await endLive(session);
    else if (item) await storage.saveHistory({ ...item, status: 'LOGGED_OUT', updated: this.deps.now() });
  }

  private prune(): Promise<void> {
    const { storage, historyRetentionMs } = this.deps.options;
    return storage.pruneHistory(this.deps.now() - (historyRetentionMs ?? DEFAULT_HISTORY_RETENTION_MS));
  }
}
