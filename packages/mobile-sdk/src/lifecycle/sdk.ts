import {
  type AppLoginResponse, type DeviceSessionState, type LinkData, type SessionInfo, type PendingPush, type PushSubscriptionBody, SERVER_FLAGS, TapinError, devicePaths, fromBase64url, generateOtp, isErrorCode, parseScan,
  resolveLink,
} from '@tapin/protocol';
import { type PinChange, changeAccountPin, deleteAccount } from '../account-admin.js';
import { CLIENT_VERSION } from '../device.js';
import { DeviceHttp } from '../device-http.js';
import { type EnrolInfo, enrolAccount, fetchEnrolInfo } from '../enrol.js';
import { DEFAULT_HISTORY_RETENTION_MS, type HistoryItem, type HistoryStatus, type HistoryStorage } from '../history.js';
import { answerSession, fetchSession } from '../login.js';
import type { AccountStorage, Fetch, KeyStore, StoredAccount } from '../platform.js';
import { type BackoffPolicy, DEFAULT_BACKOFF, backoffDelay, sleep } from './backoff.js';
import type { TapinCallbacks } from './callbacks.js';
import { type ApproveOptions, type DeclineOptions, type EnrolAnswer, type LifecycleState, type SessionController, TapinSession } from './session.js';

export interface TapinSDKOptions {
  storage: AccountStorage & HistoryStorage;
  keys: KeyStore;
  fetch?: Fetch;
  callbacks?: TapinCallbacks;
  backoff?: Partial<BackoffPolicy>;
  /** How long history items are kept (default 90 days). */
  historyRetentionMs?: number;
  clientVersion?: string;
  timeoutMs?: number;
  now?: () => number;
  random?: () => number;
  pinIterations?: number;
  /** A WebSocket constructor for the device socket (`connect()`); default: the global one (browsers, Node ≥ 22). */
  WebSocket?: WebSocketConstructor;
}

export interface AppLoginOptions {
  /** Which account logs in; default: the only one on the phone (more than one needs this). */
  accountid?: string;
  /** The PIN, when the server will ask for it; without it `SecondFactor` asks and `session.approve({pin})` goes on. */
  pin?: string;
  /** What the phone's own session overview shows for this login. */
  announceinfo?: SessionInfo;
  sessioninfo?: SessionInfo;
}

export interface AppLogin {
  session: TapinSession;
  /** For the app's own back-end only, over the app's own TLS connection: it reads the login with getSession. */
  nonce: string;
  /** Seconds without use of the app (`sdk.userActivity()`) after which the server ends the login; 0 = never. */
  inactivityTimeout: number;
}

/** The part of the standard WebSocket the SDK uses (browsers' and the `ws` package's both fit). */
export interface WebSocketLike {
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: unknown) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(): void;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** Network trouble worth waiting out; anything else is an answer. */
const TRANSIENT = new Set(['connection_error', 'server_timeout', 'unavailable']);

/** Thrown inside a run when the session ended meanwhile (the user took an offline code, cancelled, …). */
class SessionEnded extends Error {}

const asTapinError = (err: unknown): TapinError =>
  err instanceof TapinError ? err : new TapinError('server_error', err instanceof Error ? err.message : String(err));

/**
 * The SDK an authenticator app is built on: one object per app, platform parts injected. It runs each session's
 * lifecycle (DESIGN §7), retries through network trouble with back-off, keeps sessions alive with pings, and
 * records history. No platform code lives here.
 */
export class TapinSDK implements SessionController {
  private readonly http: DeviceHttp;
  private readonly backoff: BackoffPolicy;
  private readonly cb: TapinCallbacks;
  private readonly live = new Map<string, TapinSession>();
  private readonly pingTimers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly enrolInfo = new Map<string, EnrolInfo>();
  /** Push ids already turned into sessions: the same push may come by device socket, Web Push and pull. */
  private readonly seenPushes = new Set<string>();
  private readonly now: () => number;
  private disposed = false;
  /** When the user last used the app (in-app logins report the idle time with each ping). */
  private lastActivity: number;

  constructor(private readonly options: TapinSDKOptions) {
    this.now = options.now ?? Date.now;
    this.http = new DeviceHttp({ fetch: options.fetch ?? globalThis.fetch.bind(globalThis), timeoutMs: options.timeoutMs ?? 15_000, now: this.now });
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.cb = options.callbacks ?? {};
    this.lastActivity = this.now();
  }

  accounts(): Promise<StoredAccount[]> {
    return this.options.storage.list();
  }

  /** Sessions that have not ended (in STARTING, USER_INTERACTION or ACTIVE). */
  sessions(): TapinSession[] {
    return [...this.live.values()].filter((s) => !s.ended);
  }

  /** Past and active sessions, newest first, within the retention time. */
  async history(): Promise<HistoryItem[]> {
    await this.options.storage.pruneHistory(this.now() - (this.options.historyRetentionMs ?? DEFAULT_HISTORY_RETENTION_MS));
    return (await this.options.storage.listHistory()).sort((a, b) => b.started - a.started);
  }

  /**
   * Starts a session from scanned data, URL or raw (see `resolveQR`). Returns at once in STARTING; the callbacks
   * carry the rest. Data that is not Tapin data is reported (UserErrorMessage 32/33, 34 for a bare login path of a
   * server this phone has no account at) and thrown.
   */
  async processQR(data: string): Promise<TapinSession> {
    let link: LinkData;
    try {
      link = await this.resolveQR(data);
    } catch (err) {
      const e = asTapinError(err);
      this.userError(undefined, e);
      throw e;
    }
    const session = new TapinSession(link, this);
    this.live.set(session.id, session);
    if (link.type === 'login') {
      // What an offline phone needs comes from local storage only, before any network call.
      session.accounts = (await this.options.storage.list()).filter((a) => a.sid === link.sid && a.base === link.base);
      session.account = session.accounts[0];
      session.otpAvailable = session.accounts.some((a) => a.server.serverFlags.includes(SERVER_FLAGS.ENABLE_OTP));
    }
    this.update(session);
    if (session.otpAvailable) this.cb.OTPAvailable?.(session);
    void this.run(session);
    return session;
  }

  /**
   * Scanned data as a link: a link URL, the getQrLogin / enrol JSON answer `{"data": "<url>", …}`, or a bare path
   * `q/<sid>/<hsid>`, which gets the server address of the (first) account enrolled at that sid. A bare enrol
   * path `e/<sid>/<token>` has no server to enrol at: qr_parse_error.
   */
  async resolveQR(data: string): Promise<LinkData> {
    const scanned = parseScan(data);
    if (scanned.base !== null) return scanned;
    if (scanned.type === 'enrol') throw new TapinError('qr_parse_error', 'This enrol code has no server address (e/<sid>/<token>): scan the full enrol link.');
    const account = (await this.options.storage.list()).find((a) => a.sid === scanned.sid);
    if (!account) throw new TapinError('no_accounts', 'This login code has no server address (q/<sid>/<hsid>), and this phone has no account at that server.');
    return resolveLink(scanned, account.base);
  }

  /**
   * The pull (DESIGN §8): asks the server for pending push logins of every account on this phone — call it when
   * the app opens. Each new push starts a session in STARTING, as a scan does; duplicates are dropped. Returns
   * the sessions started. An account the server refuses is reported (UserErrorMessage) and skipped.
   */
  async pull(): Promise<TapinSession[]> {
    const started: TapinSession[] = [];
    for (const account of await this.options.storage.list()) {
      let items: PendingPush[];
      try {
        ({ items } = await this.http.signed<{ items: PendingPush[] }>(this.options.keys, account, 'GET', devicePaths.pushes(account.sid)));
      } catch (err) {
        const e = asTapinError(err);
        if (e.code === 'account_blocked') await this.noteBlocked(account, true);
        this.userError(undefined, e);
        continue;
      }
      await this.noteBlocked(account, false);
      for (const push of items) {
        const session = this.receivePush(account, push);
        if (session) started.push(session);
      }
    }
    return started;
  }

  /**
   * A push for `account` (ids only) from any channel: starts a session in STARTING that fetches the details with
   * the account's key. Undefined when this push (or a live session on the same login) is already known.
   */
  receivePush(account: StoredAccount, push: Pick<PendingPush, 'pushid' | 'sid' | 'hsid'>): TapinSession | undefined {
    if (push.sid !== account.sid || this.seenPushes.has(push.pushid)) return undefined;
    this.seenPushes.add(push.pushid);
    if (this.sessions().some((s) => s.link.type === 'login' && s.link.sid === push.sid && s.link.hsid === push.hsid)) return undefined;
    const session = new TapinSession({ type: 'login', base: account.base, sid: account.sid, hsid: push.hsid }, this);
    session.push = true;
    session.accounts = [account];
    session.account = account;
    this.live.set(session.id, session);
    this.update(session);
    void this.run(session);
    return session;
  }

  /**
   * Registers a Web Push subscription for every account at `base`'s servers (or all accounts): the app subscribes
   * with its platform's push API (or a UnifiedPush distributor) using `vapidKey(account)` as applicationServerKey,
   * then hands the subscription JSON here. Pushes then wake the app with ids only (`receiveWebPush`).
   */
  async subscribeWebPush(subscription: PushSubscriptionBody, accounts?: StoredAccount[]): Promise<void> {
    for (const account of accounts ?? (await this.options.storage.list())) {
      await this.http.signed<{ ok: boolean }>(this.options.keys, account, 'POST', devicePaths.pushSubscription(account.sid), subscription);
    }
  }

  /** The server's VAPID public key (base64url), the applicationServerKey to subscribe with. */
  async vapidKey(account: StoredAccount): Promise<string> {
    return (await this.http.call<{ publicKey: string }>(account.base, 'GET', devicePaths.vapid(account.sid))).publicKey;
  }

  /**
   * A Web Push message arrived (decrypted by the platform): `{"type":"push", pushid, sid, hsid, accountid}`. Starts the
   * session like any other push channel; undefined when it is a duplicate or names no account on this phone.
   */
  async receiveWebPush(payload: string): Promise<TapinSession | undefined> {
    let message: { type?: unknown; pushid?: unknown; sid?: unknown; hsid?: unknown; accountid?: unknown };
    try {
      message = JSON.parse(payload) as typeof message;
    } catch {
      return undefined;
    }
    const { type, pushid, sid, hsid, accountid } = message;
    if (type !== 'push' || typeof pushid !== 'string' || typeof sid !== 'string' || typeof hsid !== 'string') return undefined;
    const account = (await this.options.storage.list()).find((a) => a.sid === sid && a.accountid === accountid);
    return account ? this.receivePush(account, { pushid, sid, hsid }) : undefined;
  }

  /**
   * The device socket (DESIGN §8): while the app is open, one WebSocket per account hears of each push at once and
   * starts its session (deduplicated with pull and Web Push). Reconnects with back-off when the connection drops,
   * but not for an account the server refuses (close code 1008: blocked, deleted, bad signature), which is reported
   * through AccountUpdate (blocked) and UserErrorMessage instead. Returns a function that closes them all.
   */
  connect(): () => void {
    const Ctor = this.options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!Ctor) throw new TapinError('bad_request', 'No WebSocket here: pass the WebSocket option.');
    let stopped = false;
    const sockets = new Set<WebSocketLike>();
    const open = (account: StoredAccount, attempt: number) => {
      if (stopped || this.disposed) return;
      const path = devicePaths.socket(account.sid);
      const ws = new Ctor(`${account.base.replace(/^http/, 'ws')}${path}`);
      sockets.add(ws);
      let ready = false;
      ws.onopen = () => {
        void this.http.signature(this.options.keys, account, 'GET', path).then((auth) => ws.send(JSON.stringify(auth)), () => ws.close());
      };
      ws.onmessage = (event) => {
        let message: { type?: unknown; pushid?: unknown; sid?: unknown; hsid?: unknown };
        try {
          message = JSON.parse(String(event.data)) as typeof message;
        } catch {
          return;
        }
        if (message.type === 'ready') ready = true;
        if (message.type === 'push' && typeof message.pushid === 'string' && typeof message.hsid === 'string' && message.sid === account.sid) {
          this.receivePush(account, { pushid: message.pushid, sid: account.sid, hsid: message.hsid });
        }
      };
      ws.onerror = () => undefined;
      ws.onclose = (event) => {
        sockets.delete(ws);
        if (stopped || this.disposed) return;
        const { code, reason } = event as { code?: unknown; reason?: unknown };
        if (code === 1008) {
          // The server will not let this account in as it is (blocked, deleted, a key it does not accept):
          // reconnecting would only knock on the same door forever. Pull still reports it each time the app opens.
          const e = new TapinError(isErrorCode(reason) ? reason : 'server_auth_failed');
          if (e.code === 'account_blocked') this.cb.AccountUpdate?.(account, { blocked: true });
          this.userError(undefined, e);
          return;
        }
        const next = ready ? 0 : attempt + 1;
        setTimeout(() => open(account, next), backoffDelay(this.backoff, next, this.options.random));
      };
    };
    void this.options.storage.list().then((accounts) => accounts.forEach((a) => open(a, 0)));
    return () => {
      stopped = true;
      for (const ws of sockets) ws.close();
      sockets.clear();
    };
  }

  private async run(session: TapinSession): Promise<void> {
    try {
      if (session.link.type === 'enrol') {
        const link = session.link;
        const info = await this.retry(session, () => fetchEnrolInfo(this.http, link));
        this.enrolInfo.set(session.id, info);
        this.setState(session, 'USER_INTERACTION');
        this.cb.ConfirmEnrol?.(session, {
          serverName: info.server.params.name, serverLogo: info.server.params.logo, serverKey: info.server.params.serverpk, suggestedName: info.name,
        });
        return;
      }
      if (!session.account) throw new TapinError('no_accounts');
      await this.fetchFor(session, session.account);
      this.setState(session, 'USER_INTERACTION');
      this.cb.ConfirmLogin?.(session, {
        announceinfo: session.announceinfo, accounts: session.accounts, pinRequired: session.pinRequired, push: session.push,
        ...(session.numbers ? { numbers: session.numbers } : {}),
      });
    } catch (err) {
      await this.fail(session, err);
    }
  }

  private async fetchFor(session: TapinSession, account: StoredAccount): Promise<void> {
    const hsid = session.hsid!;
    // App-to-app login: the server vets the return URL before anything else happens (no open redirect).
    const returnUrl = session.link.type === 'login' && !session.push ? session.link.returnUrl : undefined;
    const device = await this.retry(session, () => fetchSession(this.http, this.options.keys, account, hsid, returnUrl));
    if (returnUrl !== undefined && device.returnUrl === undefined) throw new TapinError('return_url_not_allowed');
    await this.noteBlocked(account, false);
    Object.assign(session, {
      device, account, announceinfo: device.announceinfo, sessioninfo: device.sessioninfo, pinRequired: device.pinRequired, pingTime: device.pingTime,
      numbers: device.numbers, returnUrl: device.returnUrl,
    });
    // Keep the phone's copy of the server's flags current, so OTPAvailable and generateOTP are right next time,
    // offline included. The flags belong to the server, so every account of this phone there gets them.
    const flags = JSON.stringify(device.serverFlags);
    const known = new Map(session.accounts.map((a) => [a.accountid, a]));
    known.set(account.accountid, account);
    for (const stored of await this.options.storage.list()) {
      if (stored.sid !== account.sid || stored.base !== account.base) continue;
      const copy = known.get(stored.accountid) ?? stored;
      if (JSON.stringify(stored.server.serverFlags) === flags && JSON.stringify(copy.server.serverFlags) === flags) continue;
      const server = { ...stored.server, serverFlags: device.serverFlags, pingTime: device.pingTime };
      copy.server = server;
      await this.options.storage.save({ ...stored, server });
    }
  }

  async approve(session: TapinSession, options: ApproveOptions): Promise<void> {
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
        this.cb.SecondFactor?.(session, {});
        return;
      }
      const account = session.account!;
      let result;
      try {
        result = await this.retry(session, () => answerSession(this.http, this.options.keys, account, session.device!, 'approve', options.pin, options.number));
      } catch (err) {
        const e = asTapinError(err);
        if (e.code === 'pin_wrong' || (e.code === 'account_blocked' && e.details?.['attemptsLeft'] === 0)) {
          this.cb.SecondFactor?.(session, { result: 'PIN_FAIL', attemptsLeft: Number(e.details?.['attemptsLeft'] ?? 0) });
          if (e.code === 'pin_wrong') return;
        }
        throw e;
      }
      if (options.pin !== undefined) this.cb.SecondFactor?.(session, { result: 'SUCCESS' });
      session.pingTime = result.pingTime;
      if (result.pingTime > 0) {
        await this.record(session, 'LOGGED_IN');
        this.schedulePing(session);
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
      await this.retry(session, () => answerSession(this.http, this.options.keys, account, session.device!, 'decline', undefined, undefined, notMe));
      await this.end(session, 'DONE', 'ABORTED');
    } catch (err) {
      await this.fail(session, err);
    }
  }

  async enrol(session: TapinSession, answer: EnrolAnswer): Promise<void> {
    this.expect(session, 'enrol', 'USER_INTERACTION');
    const link = session.link as Extract<LinkData, { type: 'enrol' }>;
    try {
      const account = await enrolAccount(this.http, this.options.keys, this.options.storage, link, {
        pin: answer.pin, description: answer.description, clientVersion: this.options.clientVersion ?? CLIENT_VERSION,
        ...(this.options.pinIterations ? { pinIterations: this.options.pinIterations } : {}),
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

  /**
   * In-app login: an app that embeds the SDK logs its own account in to its own back-end — no QR code, no push.
   * The server makes a fresh session for the account (already opened, challenge issued); the SDK approves it at
   * once (with `pin`, or `SecondFactor` asks). Hand `nonce` to the back-end, which calls getSession. With pingTime
   * > 0 the session stays ACTIVE while the SDK pings, each ping saying how long the app has gone unused (call
   * `userActivity()` on user input); past the server's inactivityTimeout the server ends it.
   */
  async appLogin(options: AppLoginOptions = {}): Promise<AppLogin> {
    const accounts = await this.options.storage.list();
    const account = options.accountid === undefined ? accounts[0] : accounts.find((a) => a.accountid === options.accountid);
    if (!account) throw new TapinError('no_accounts');
    if (options.accountid === undefined && accounts.length > 1) throw new TapinError('bad_request', 'Several accounts on this phone: pass appLogin({accountid}).');
    const body = {
      ...(options.announceinfo ? { announceinfo: options.announceinfo } : {}),
      ...(options.sessioninfo ? { sessioninfo: options.sessioninfo } : {}),
    };
    let answer: AppLoginResponse;
    try {
      answer = await this.http.signed<AppLoginResponse>(this.options.keys, account, 'POST', devicePaths.appLogin(account.sid), body);
    } catch (err) {
      const e = asTapinError(err);
      if (e.code === 'account_blocked') this.cb.AccountUpdate?.(account, { blocked: true });
      this.userError(undefined, e);
      throw e;
    }
    const { nonce, inactivityTimeout, ...device } = answer;
    const session = new TapinSession({ type: 'login', base: account.base, sid: account.sid, hsid: device.hsid }, this);
    Object.assign(session, {
      inApp: true, accounts: [account], account, device, announceinfo: device.announceinfo, sessioninfo: device.sessioninfo,
      pinRequired: device.pinRequired, pingTime: device.pingTime,
    });
    this.live.set(session.id, session);
    this.userActivity();
    this.setState(session, 'USER_INTERACTION');
    await this.approve(session, options.pin === undefined ? {} : { pin: options.pin });
    return { session, nonce, inactivityTimeout };
  }

  /** The user is using the app now: in-app logins stay alive (their pings report the time since the last call). */
  userActivity(): void {
    this.lastActivity = this.now();
  }

  /**
   * Changes the PIN of an account (`oldPin` omitted for a headless account setting its first). A wrong current PIN
   * throws `pin_wrong` with `details.attemptsLeft`; the fifth in a row blocks the account (`AccountUpdate`).
   */
  async changePin(account: StoredAccount, change: PinChange): Promise<StoredAccount> {
    try {
      return await changeAccountPin(this.http, this.options.keys, this.options.storage, account, { pinIterations: this.options.pinIterations, ...change });
    } catch (err) {
      const e = asTapinError(err);
      if (e.code === 'account_blocked') this.cb.AccountUpdate?.(account, { blocked: true });
      throw e;
    }
  }

  /**
   * Deletes an account at its server (its logged-in sessions end) and from the phone with its key. `localOnly`
   * forgets it on the phone without asking the server (a server that is gone for good).
   */
  async deleteAccount(account: StoredAccount, options: { localOnly?: boolean } = {}): Promise<void> {
    await deleteAccount(this.http, this.options.keys, this.options.storage, account, options.localOnly ?? false);
  }

  /**
   * Asks the server where each logged-in session in the history stands (a signed ping, which changes nothing for
   * a one-shot login) and marks those that ended — by the site, by expiry — as LOGGED_OUT. Returns the history.
   * Sessions whose server cannot be reached keep their status.
   */
  async refreshSessions(): Promise<HistoryItem[]> {
    const accounts = await this.options.storage.list();
    const liveHsids = new Set(this.sessions().map((s) => s.hsid));
    for (const item of await this.history()) {
      if ((item.status !== 'LOGGED_IN' && item.status !== 'LOGGED_IN_ONE_SHOT') || liveHsids.has(item.hsid)) continue;
      const account = accounts.find((a) => a.accountid === item.accountid && a.sid === item.sid);
      let ended = !account;
      if (account) {
        try {
          // A status read, not a ping: looking at the history must not keep sessions alive.
          const state = await this.http.signed<DeviceSessionState>(this.options.keys, account, 'GET', devicePaths.sessionState(account.sid, item.hsid));
          ended = state.state !== 'loggedin';
        } catch (err) {
          ended = err instanceof TapinError && (err.code === 'session_not_found' || err.code === 'account_not_found');
        }
      }
      if (ended) await this.options.storage.saveHistory({ ...item, status: 'LOGGED_OUT', updated: this.now() });
    }
    return this.history();
  }

  /**
   * The offline fallback: the 12-character code for this session and account, computed on the phone from the QR
   * data, the account's OTP key and the clock — no network. The session ends; the user types the code on the page.
   */
  async generateOTP(session: TapinSession, account?: StoredAccount): Promise<string> {
    // Only for a login still waiting for an answer: an ended session stays as it ended (ERROR is not rewritten
    // as ABORTED), and an ACTIVE one is logged in at the server, which a code cannot change.
    if (session.kind !== 'login' || (session.state !== 'STARTING' && session.state !== 'USER_INTERACTION')) {
      throw new TapinError('session_state', `This ${session.kind} session is ${session.state}: an offline code is only for a login that is waiting.`);
    }
    const hsid = session.hsid;
    // By default an account that may make codes: OTPAvailable fires when any of them may.
    const allowed = (a: StoredAccount | undefined) => a?.server.serverFlags.includes(SERVER_FLAGS.ENABLE_OTP) === true;
    const acct = account ?? (allowed(session.account) ? session.account : session.accounts.find(allowed)) ?? session.account ?? session.accounts[0];
    if (!hsid || !acct) throw new TapinError('no_accounts');
    if (!acct.server.serverFlags.includes(SERVER_FLAGS.ENABLE_OTP)) throw new TapinError('otp_disabled');
    const otp = generateOtp(fromBase64url(acct.otpkey), acct.otpref, acct.sid, hsid, this.now());
    session.account = acct;
    await this.end(session, 'DONE', 'ABORTED', { otp: true });
    return otp;
  }

  /**
   * Ends a logged-in session from the phone: a live (ACTIVE) one, or one from history by its hsid or session
   * object — pinged or one-shot (LOGGED_IN, LOGGED_IN_ONE_SHOT), which the server ends the same way.
   */
  async logout(target: TapinSession | string): Promise<void> {
    const hsidOf = typeof target === 'string' ? target : target.hsid;
    const live = typeof target === 'string' ? this.sessions().find((s) => s.hsid === target) : target.ended ? undefined : target;
    const session = live && live.state === 'ACTIVE' ? live : undefined;
    const item = session ? undefined : (await this.options.storage.listHistory())
      .find((h) => h.hsid === hsidOf && (typeof target === 'string' || h.sid === target.link.sid) && (h.status === 'LOGGED_IN' || h.status === 'LOGGED_IN_ONE_SHOT'));
    const sid = session?.account?.sid ?? item?.sid;
    const hsid = session?.hsid ?? item?.hsid;
    const accountid = session?.account?.accountid ?? item?.accountid;
    const account = (await this.options.storage.list()).find((a) => a.accountid === accountid && a.sid === sid);
    if (!account || !hsid) throw new TapinError('session_not_found', 'No logged-in session with that hsid on this phone.');
    await this.http.signed<DeviceSessionState>(this.options.keys, account, 'POST', devicePaths.logout(account.sid, hsid));
    if (session) await this.end(session, 'DONE', 'LOGGED_OUT');
    else if (item) await this.options.storage.saveHistory({ ...item, status: 'LOGGED_OUT', updated: this.now() });
  }

  /** Stops every timer (ping loops); sessions stay as they are on the server. */
  dispose(): void {
    this.disposed = true;
    for (const timer of this.pingTimers.values()) clearTimeout(timer);
    this.pingTimers.clear();
  }

  // ---- continuous authentication

  private schedulePing(session: TapinSession): void {
    if (this.disposed) return;
    clearTimeout(this.pingTimers.get(session.id));
    this.pingTimers.set(session.id, setTimeout(() => void this.ping(session), session.pingTime * 1000));
  }

  private async ping(session: TapinSession): Promise<void> {
    if (session.state !== 'ACTIVE') return;
    const account = session.account!;
    try {
      const idle = session.inApp ? (this.now() - this.lastActivity) / 1000 : undefined;
      const answer = await this.retry(session, () =>
        this.http.signed<DeviceSessionState>(this.options.keys, account, 'POST', devicePaths.ping(account.sid, session.hsid!, idle)));
      if (answer.state !== 'loggedin') return await this.end(session, 'DONE', 'LOGGED_OUT');
      // The server sets the next deadline from its current pingTime, not the one of the approval: follow it.
      session.pingTime = answer.pingTime;
      if (answer.pingTime > 0) this.schedulePing(session);
      else await this.end(session, 'DONE', 'LOGGED_IN_ONE_SHOT');
    } catch (err) {
      await this.fail(session, err);
    }
  }

  // ---- plumbing

  private async retry<T>(session: TapinSession, op: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      if (session.ended) throw new SessionEnded();
      try {
        const result = await op();
        if (session.ended) throw new SessionEnded();
        if (session.connectionError) {
          session.connectionError = false;
          this.update(session);
        }
        return result;
      } catch (err) {
        if (err instanceof SessionEnded || !(err instanceof TapinError) || !TRANSIENT.has(err.code)) throw err;
        if (!session.connectionError) {
          // Tell the user at once; then keep trying quietly.
          session.connectionError = true;
          this.userError(session, err);
          this.update(session);
        }
        if (attempt + 1 >= this.backoff.maxAttempts) throw err;
        await sleep(backoffDelay(this.backoff, attempt, this.options.random));
      }
    }
  }

  private async fail(session: TapinSession, err: unknown): Promise<void> {
    if (err instanceof SessionEnded || session.ended) return;
    const e = asTapinError(err);
    const account = session.account;
    if (account && e.code === 'account_blocked') await this.noteBlocked(account, true);
    if (account && e.code === 'account_not_found') {
      await this.options.storage.remove(account.accountid);
      await this.options.keys.remove(account.accountid).catch(() => undefined);
      this.cb.AccountDeleted?.(account);
    }
    session.error = e;
    // A connection error was already reported when it began.
    if (!(TRANSIENT.has(e.code) && session.connectionError)) this.userError(session, e);
    await this.end(session, 'ERROR', session.kind === 'login' && session.hsid ? 'ERROR' : undefined);
  }

  private async end(session: TapinSession, state: 'DONE' | 'ERROR', status?: HistoryStatus, extra: { otp?: boolean } = {}): Promise<void> {
    clearTimeout(this.pingTimers.get(session.id));
    this.pingTimers.delete(session.id);
    this.enrolInfo.delete(session.id);
    if (status) await this.record(session, status, extra.otp ?? false);
    this.setState(session, state);
    this.live.delete(session.id);
    this.cb.SessionStop?.(session);
  }

  private async record(session: TapinSession, status: HistoryStatus, otp = false): Promise<void> {
    if (session.link.type !== 'login') return;
    const { sid, hsid, base } = session.link;
    const id = `${sid}/${hsid}`;
    const previous = (await this.options.storage.listHistory()).find((h) => h.id === id);
    await this.options.storage.saveHistory({
      id, sid, hsid, base, accountid: session.account?.accountid ?? null, serverName: session.account?.server.name ?? '',
      announceinfo: session.announceinfo, sessioninfo: session.sessioninfo, status, otp,
      started: previous?.started ?? session.started, updated: this.now(),
      ...(status === 'ERROR' && session.error ? { error: session.error.code } : {}),
    });
    await this.options.storage.pruneHistory(this.now() - (this.options.historyRetentionMs ?? DEFAULT_HISTORY_RETENTION_MS));
  }

  /**
   * The server says nothing when it unblocks an account, so the phone remembers the block and reports the unblock
   * (AccountUpdate {blocked: false}) when the server next answers that account.
   */
  private async noteBlocked(account: StoredAccount, blocked: boolean): Promise<void> {
    if (blocked) this.cb.AccountUpdate?.(account, { blocked: true });
    if ((account.blocked === true) === blocked) return;
    account.blocked = blocked;
    const stored = (await this.options.storage.list()).find((a) => a.accountid === account.accountid && a.sid === account.sid);
    if (stored) await this.options.storage.save({ ...stored, blocked });
    if (!blocked) this.cb.AccountUpdate?.(account, { blocked: false });
  }

  private expect(session: TapinSession, kind: 'login' | 'enrol', state: LifecycleState): void {
    if (session.kind !== kind || session.state !== state) {
      throw new TapinError('session_state', `This ${session.kind} session is ${session.state}; it cannot do that now.`);
    }
  }

  private setState(session: TapinSession, state: LifecycleState): void {
    session.state = state;
    this.update(session);
  }

  private update(session: TapinSession): void {
    this.cb.SessionUpdate?.(session);
  }

  private userError(session: TapinSession | undefined, e: TapinError): void {
    this.cb.UserErrorMessage?.(session, { errorCode: e.userError ?? 49, code: e.code, message: e.message });
  }
}
