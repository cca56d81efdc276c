import { type DeviceSessionState, type LinkData, TapinError, devicePaths } from '@tapin/protocol';
import { CLIENT_VERSION } from '../device.js';
import type { DeviceHttp } from '../device-http.js';
import { type EnrolInfo, enrolAccount, fetchEnrolInfo } from '../enrol.js';
import type { HistoryStatus } from '../history.js';
import { answerSession, fetchSession } from '../login.js';
import type { StoredAccount } from '../platform.js';
import { forgetAccount, noteBlocked, syncServerFlags } from './account-state.js';
import type { BackoffPolicy } from './backoff.js';
import type { TapinCallbacks } from './callbacks.js';
import { asTapinError, toUserError } from './errors.js';
import { PingLoop } from './ping-loop.js';
import { SessionEnded, TRANSIENT, retryTransient } from './retry.js';
import type { TapinSDKOptions } from './sdk-options.js';
import type { SessionOverview } from './session-overview.js';
import type { ApproveOptions, DeclineOptions, EnrolAnswer, LifecycleState, TapinSession } from './session.js';

export interface SessionRunnerDeps {
  options: Pick<TapinSDKOptions, 'storage' | 'keys' | 'random' | 'clientVersion' | 'pinIterations'>;
  http: DeviceHttp;
  backoff: BackoffPolicy;
  cb: TapinCallbacks;
  now: () => number;
  /** Where each login's outcome is recorded. */
  overview: Pick<SessionOverview, 'record'>;
}

/**
 * Runs each session's lifecycle (DESIGN §7) once the SDK has made the session: fetches it, answers it, keeps it
 * alive with pings, and ends it — recording logins, and telling the app through the callbacks at each step.
 */
export class SessionRunner {
  private readonly live = new Map<string, TapinSession>();
  private readonly enrolInfo = new Map<string, EnrolInfo>();
  private readonly pings = new PingLoop((session) => this.ping(session));
  /** When the user last used the app (in-app logins report the idle time with each ping). */
  private lastActivity: number;

  constructor(private readonly deps: SessionRunnerDeps) {
    this.lastActivity = deps.now();
  }

  /** Sessions that have not ended (in STARTING, USER_INTERACTION or ACTIVE). */
  sessions(): TapinSession[] {
    return [...this.live.values()].filter((s) => !s.ended);
  }

  /** From now on the session is listed, pinged and ended here. */
  track(session: TapinSession): void {
    this.live.set(session.id, session);
  }

  /** A session that is ready to go: tracked, shown, and run from STARTING. */
  begin(session: TapinSession): void {
    this.track(session);
    this.update(session);
    void this.run(session);
  }

  noteActivity(): void {
    this.lastActivity = this.deps.now();
  }

  /** For good (the SDK is disposed): no more pings. */
  stop(): void {
    this.pings.stop();
  }

  async run(session: TapinSession): Promise<void> {
    const { cb } = this.deps;
    try {
      if (session.link.type === 'enrol') {
        const link = session.link;
        const info = await this.retry(session, () => fetchEnrolInfo(this.deps.http, link));
        this.enrolInfo.set(session.id, info);
        this.setState(session, 'USER_INTERACTION');
        cb.ConfirmEnrol?.(session, {
          serverName: info.server.params.name, serverLogo: info.server.params.logo, serverKey: info.server.params.serverpk, suggestedName: info.name,
        });
        return;
      }
      if (!session.account) throw new TapinError('no_accounts');
      await this.fetchFor(session, session.account);
      this.setState(session, 'USER_INTERACTION');
      cb.ConfirmLogin?.(session, {
        announceinfo: session.announceinfo, accounts: session.accounts, pinRequired: session.pinRequired, push: session.push,
        ...(session.numbers ? { numbers: session.numbers } : {}),
      });
    } catch (err) {
      await this.fail(session, err);
    }
  }

  async approve(session: TapinSession, options: ApproveOptions): Promise<void> {
    const { http, cb } = this.deps;
    this.expect(session, 'login', 'USER_INTERACTION');
    if (session.numbers && options.number === undefined) {
      throw new TapinError('bad_request', 'Pick the number the login page shows: approve({number}).');
    }
    try {
      if (options.accountid !== undefined && options.accountid !== session.account?.accountid) {
        // The challenge is bound to the account that fetched it: another account fetches its own.
        const chosen = session.accounts.find((a) => a.accountid === options.accountid);
        if (!chosen) throw new TapinError('no_accounts', `No account ${options.accountid} for this login.`);
        await this.fetchFor(session, chosen);
        this.update(session);
      }
      if (session.pinRequired && options.pin === undefined) {
        cb.SecondFactor?.(session, {});
        return;
      }
      const account = session.account!;
      let result;
      try {
        result = await this.retry(session, () => answerSession(http, this.deps.options.keys, account, session.device!, 'approve', options.pin, options.number));
      } catch (err) {
        const e = asTapinError(err);
        if (e.code === 'pin_wrong' || (e.code === 'account_blocked' && e.details?.['attemptsLeft'] === 0)) {
          cb.SecondFactor?.(session, { result: 'PIN_FAIL', attemptsLeft: Number(e.details?.['attemptsLeft'] ?? 0) });
          if (e.code === 'pin_wrong') return;
        }
        throw e;
      }
      if (options.pin !== undefined) cb.SecondFactor?.(session, { result: 'SUCCESS' });
      session.pingTime = result.pingTime;
      if (result.pingTime > 0) {
        await this.deps.overview.record(session, 'LOGGED_IN');
        this.pings.schedule(session);
        this.setState(session, 'ACTIVE');
      } else {
        await this.end(session, 'DONE', 'LOGGED_IN_ONE_SHOT');
      }
    } catch (err) {
      await this.fail(session, err);
    }
  }

  async decline(session: TapinSession, options: DeclineOptions): Promise<void> {
    this.expect(session, 'login', 'USER_INTERACTION');
    try {
      const account = session.account!;
      // "I did not try to log in" means something only for a push: it stops pushes to the user and alerts the site.
      const notMe = session.push && options.notMe === true;
      await this.retry(session, () => answerSession(this.deps.http, this.deps.options.keys, account, session.device!, 'decline', undefined, undefined, notMe));
      await this.end(session, 'DONE', 'ABORTED');
    } catch (err) {
      await this.fail(session, err);
    }
  }

  async enrol(session: TapinSession, answer: EnrolAnswer): Promise<void> {
    const { options } = this.deps;
    this.expect(session, 'enrol', 'USER_INTERACTION');
    const link = session.link as Extract<LinkData, { type: 'enrol' }>;
    try {
      const account = await enrolAccount(this.deps.http, options.keys, options.storage, link, {
        pin: answer.pin, description: answer.description, clientVersion: options.clientVersion ?? CLIENT_VERSION,
        ...(options.pinIterations ? { pinIterations: options.pinIterations } : {}),
        ...(this.enrolInfo.has(session.id) ? { info: this.enrolInfo.get(session.id)! } : {}),
      });
      session.account = account;
      session.accounts = [account];
      await this.end(session, 'DONE');
    } catch (err) {
      await this.fail(session, err);
    }
  }

  async cancel(session: TapinSession): Promise<void> {
    if (session.ended) return;
    await this.end(session, 'DONE', session.kind === 'login' ? 'ABORTED' : undefined);
  }

  async end(session: TapinSession, state: 'DONE' | 'ERROR', status?: HistoryStatus, extra: { otp?: boolean } = {}): Promise<void> {
    this.pings.cancel(session);
    this.enrolInfo.delete(session.id);
    if (status) await this.deps.overview.record(session, status, extra.otp ?? false);
    this.setState(session, state);
    this.live.delete(session.id);
    this.deps.cb.SessionStop?.(session);
  }

  setState(session: TapinSession, state: LifecycleState): void {
    session.state = state;
    this.update(session);
  }

  update(session: TapinSession): void {
    this.deps.cb.SessionUpdate?.(session);
  }

  private async fetchFor(session: TapinSession, account: StoredAccount): Promise<void> {
    const { storage, keys } = this.deps.options;
    const hsid = session.hsid!;
    // App-to-app login: the server vets the return URL before anything else happens (no open redirect).
    const returnUrl = session.link.type === 'login' && !session.push ? session.link.returnUrl : undefined;
    const device = await this.retry(session, () => fetchSession(this.deps.http, keys, account, hsid, returnUrl));
    if (returnUrl !== undefined && device.returnUrl === undefined) throw new TapinError('return_url_not_allowed');
    await noteBlocked(storage, this.deps.cb, account, false);
    Object.assign(session, {
      device, account, announceinfo: device.announceinfo, sessioninfo: device.sessioninfo, pinRequired: device.pinRequired, pingTime: device.pingTime,
      numbers: device.numbers, returnUrl: device.returnUrl,
    });
    await syncServerFlags(storage, session.accounts, account, device);
  }

  // ---- continuous authentication

  private async ping(session: TapinSession): Promise<void> {
    if (session.state !== 'ACTIVE') return;
    const account = session.account!;
    try {
      const idle = session.inApp ? (this.deps.now() - this.lastActivity) / 1000 : undefined;
      const answer = await this.retry(session, () =>
        this.deps.http.signed<DeviceSessionState>(this.deps.options.keys, account, 'POST', devicePaths.ping(account.sid, session.hsid!, idle)));
      if (answer.state !== 'loggedin') return await this.end(session, 'DONE', 'LOGGED_OUT');
      // The server sets the next deadline from its current pingTime, not the one of the approval: follow it.
      session.pingTime = answer.pingTime;
      if (answer.pingTime > 0) this.pings.schedule(session);
      else await this.end(session, 'DONE', 'LOGGED_IN_ONE_SHOT');
    } catch (err) {
      await this.fail(session, err);
    }
  }

  // ---- plumbing

  private retry<T>(session: TapinSession, op: () => Promise<T>): Promise<T> {
    return retryTransient(session, op, { backoff: this.deps.backoff, random: this.deps.options.random, cb: this.deps.cb });
  }

  private async fail(session: TapinSession, err: unknown): Promise<void> {
    if (err instanceof SessionEnded || session.ended) return;
    const { storage, keys } = this.deps.options;
    const e = asTapinError(err);
    const account = session.account;
    if (account && e.code === 'account_blocked') await noteBlocked(storage, this.deps.cb, account, true);
    if (account && e.code === 'account_not_found') await forgetAccount(storage, keys, this.deps.cb, account);
    session.error = e;
    // A connection error was already reported when it began.
    if (!(TRANSIENT.has(e.code) && session.connectionError)) this.deps.cb.UserErrorMessage?.(session, toUserError(e));
    await this.end(session, 'ERROR', session.kind === 'login' && session.hsid ? 'ERROR' : undefined);
  }

  private expect(session: TapinSession, kind: 'login' | 'enrol', state: LifecycleState): void {
    if (session.kind !== kind || session.state !== state) {
      throw new TapinError('session_state', `This ${session.kind} session is ${session.state}; it cannot do that now.`);
    }
  }
}
