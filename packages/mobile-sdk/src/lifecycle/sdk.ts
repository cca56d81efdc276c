import { type LinkData, type PendingPush, type PushSubscriptionBody, TapinError, parseScan, resolveLink } from '@tapin/protocol';
import { type PinChange, changeAccountPin, deleteAccount } from '../account-admin.js';
import { DeviceHttp } from '../device-http.js';
import type { HistoryItem } from '../history.js';
import type { StoredAccount } from '../platform.js';
import { noteBlocked } from './account-state.js';
import { type BackoffPolicy, DEFAULT_BACKOFF } from './backoff.js';
import type { TapinCallbacks } from './callbacks.js';
import { connectDeviceSockets } from './device-socket.js';
import { asTapinError, toUserError } from './errors.js';
import { type AppLogin, type AppLoginOptions, openAppLogin } from './in-app-login.js';
import { allowsOfflineCodes, offlineCode } from './offline-code.js';
import { PushInbox, subscribeWebPush, vapidKey } from './push-login.js';
import type { TapinSDKOptions } from './sdk-options.js';
import { SessionOverview } from './session-overview.js';
import { SessionRunner } from './session-runner.js';
import { type ApproveOptions, type DeclineOptions, type EnrolAnswer, type SessionController, TapinSession } from './session.js';

/**
 * The SDK an authenticator app is built on: one object per app, platform parts injected. It runs each session's
 * lifecycle (DESIGN §7), retries through network trouble with back-off, keeps sessions alive with pings, and
 * records history. No platform code lives here.
 */
export class TapinSDK implements SessionController {
  private readonly http: DeviceHttp;
  private readonly backoff: BackoffPolicy;
  private readonly cb: TapinCallbacks;
  private readonly now: () => number;
  private readonly overview: SessionOverview;
  private readonly runner: SessionRunner;
  private readonly pushes: PushInbox;
  private disposed = false;
  /** What each connect() returned and has not been called yet: dispose() closes those sockets. */
  private readonly disconnects = new Set<() => void>();

  constructor(private readonly options: TapinSDKOptions) {
    this.now = options.now ?? Date.now;
    this.http = new DeviceHttp({ fetch: options.fetch ?? globalThis.fetch.bind(globalThis), timeoutMs: options.timeoutMs ?? 15_000, now: this.now });
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.cb = options.callbacks ?? {};
    const sessions = () => this.sessions();
    this.overview = new SessionOverview({ options, http: this.http, now: this.now, sessions });
    this.runner = new SessionRunner({ options, http: this.http, backoff: this.backoff, cb: this.cb, now: this.now, overview: this.overview });
    this.pushes = new PushInbox({ options, http: this.http, cb: this.cb, controller: this, sessions, begin: (session) => this.runner.begin(session) });
  }

  accounts(): Promise<StoredAccount[]> {
    return this.options.storage.list();
  }

  /** Sessions that have not ended (in STARTING, USER_INTERACTION or ACTIVE). */
  sessions(): TapinSession[] {
    return this.runner.sessions();
  }

  /** Past and active sessions, newest first, within the retention time. */
  history(): Promise<HistoryItem[]> {
    return this.overview.list();
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
      this.cb.UserErrorMessage?.(undefined, toUserError(e));
      throw e;
    }
    const session = new TapinSession(link, this);
    this.runner.track(session);
    if (link.type === 'login') {
      // What an offline phone needs comes from local storage only, before any network call.
      session.accounts = (await this.options.storage.list()).filter((a) => a.sid === link.sid && a.base === link.base);
      session.account = session.accounts[0];
      session.otpAvailable = session.accounts.some(allowsOfflineCodes);
    }
    this.runner.update(session);
    if (session.otpAvailable) this.cb.OTPAvailable?.(session);
    void this.runner.run(session);
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
  pull(): Promise<TapinSession[]> {
    return this.pushes.pull();
  }

  /**
   * A push for `account` (ids only) from any channel: starts a session in STARTING that fetches the details with
   * the account's key. Undefined when this push (or a live session on the same login) is already known.
   */
  receivePush(account: StoredAccount, push: Pick<PendingPush, 'pushid' | 'sid' | 'hsid'>): TapinSession | undefined {
    return this.pushes.receive(account, push);
  }

  /**
   * Registers a Web Push subscription at the server of each of `accounts` (default: every account on this phone),
   * signed with that account's key. The app subscribes with its platform's push API (or a UnifiedPush distributor)
   * using `vapidKey(account)` as applicationServerKey, then hands the subscription JSON here. Pushes then wake the
   * app with ids only (`receiveWebPush`).
   */
  subscribeWebPush(subscription: PushSubscriptionBody, accounts?: StoredAccount[]): Promise<void> {
    return subscribeWebPush(this.options, this.http, subscription, accounts);
  }

  /** The server's VAPID public key (base64url), the applicationServerKey to subscribe with. */
  vapidKey(account: StoredAccount): Promise<string> {
    return vapidKey(this.http, account);
  }

  /**
   * A Web Push message arrived (decrypted by the platform): `{"type":"push", pushid, sid, hsid, accountid}`. Starts the
   * session like any other push channel; undefined when it is a duplicate or names no account on this phone.
   */
  receiveWebPush(payload: string): Promise<TapinSession | undefined> {
    return this.pushes.receiveWebPush(payload);
  }

  /**
   * The device socket (DESIGN §8): while the app is open, one WebSocket per account hears of each push at once and
   * starts its session (deduplicated with pull and Web Push). Reconnects with back-off when the connection drops,
   * but not for an account the server refuses (close code 1008: blocked, deleted, bad signature), which is reported
   * through AccountUpdate (blocked) and UserErrorMessage instead. Returns a function that closes them all (so does
   * dispose()); it may be called more than once, and after dispose().
   */
  connect(): () => void {
    const close = connectDeviceSockets({
      options: this.options, http: this.http, backoff: this.backoff, cb: this.cb,
      disposed: () => this.disposed, receivePush: (account, push) => this.receivePush(account, push),
    });
    const disconnect = (): void => {
      this.disconnects.delete(disconnect);
      close();
    };
    this.disconnects.add(disconnect);
    return disconnect;
  }

  approve(session: TapinSession, options: ApproveOptions): Promise<void> {
    return this.runner.approve(session, options);
  }

  decline(session: TapinSession, options: DeclineOptions): Promise<void> {
    return this.runner.decline(session, options);
  }

  enrol(session: TapinSession, answer: EnrolAnswer): Promise<void> {
    return this.runner.enrol(session, answer);
  }

  cancel(session: TapinSession): Promise<void> {
    return this.runner.cancel(session);
  }

  /**
   * In-app login: an app that embeds the SDK logs its own account in to its own back-end — no QR code, no push.
   * The server makes a fresh session for the account (already opened, challenge issued); the SDK approves it at
   * once (with `pin`, or `SecondFactor` asks). Hand `nonce` to the back-end, which calls getSession. With pingTime
   * > 0 the session stays ACTIVE while the SDK pings, each ping saying how long the app has gone unused (call
   * `userActivity()` on user input); past the server's inactivityTimeout the server ends it.
   */
  async appLogin(options: AppLoginOptions = {}): Promise<AppLogin> {
    const login = await openAppLogin({ options: this.options, http: this.http, cb: this.cb, controller: this }, options);
    this.runner.track(login.session);
    this.userActivity();
    this.runner.setState(login.session, 'USER_INTERACTION');
    await this.approve(login.session, options.pin === undefined ? {} : { pin: options.pin });
    return login;
  }

  /** The user is using the app now: in-app logins stay alive (their pings report the time since the last call). */
  userActivity(): void {
    this.runner.noteActivity();
  }

  /**
   * Changes the PIN of an account (`oldPin` omitted for a headless account setting its first). A wrong current PIN
   * throws `pin_wrong` with `details.attemptsLeft`; the fifth in a row blocks the account (`AccountUpdate`).
   */
  async changePin(account: StoredAccount, change: PinChange): Promise<StoredAccount> {
    try {
      const changed = await changeAccountPin(this.http, this.options.keys, this.options.storage, account, { pinIterations: this.options.pinIterations, ...change });
      // The server took a signed request from the account, so it is not blocked (any more): say so if it was.
      await noteBlocked(this.options.storage, this.cb, changed, false);
      return changed;
    } catch (err) {
      const e = asTapinError(err);
      if (e.code === 'account_blocked') await noteBlocked(this.options.storage, this.cb, account, true);
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
   * Asks the server where each logged-in session in the history stands (a signed status read, GET — not a ping,
   * so looking does not keep a session alive) and marks those that ended — by the site, by expiry — as LOGGED_OUT.
   * Returns the history. Sessions whose server cannot be reached keep their status.
   */
  refreshSessions(): Promise<HistoryItem[]> {
    return this.overview.refresh();
  }

  /**
   * The offline fallback: the 12-character code for this session and account, computed on the phone from the QR
   * data, the account's OTP key and the clock — no network. The session ends; the user types the code on the page.
   */
  async generateOTP(session: TapinSession, account?: StoredAccount): Promise<string> {
    const code = offlineCode(session, account, this.now);
    session.account = code.account;
    await this.runner.end(session, 'DONE', 'ABORTED', { otp: true });
    return code.otp;
  }

  /**
   * Ends a logged-in session from the phone: a live (ACTIVE) one, or one from history by its hsid or session
   * object — pinged or one-shot (LOGGED_IN, LOGGED_IN_ONE_SHOT), which the server ends the same way.
   */
  logout(target: TapinSession | string): Promise<void> {
    return this.overview.logout(target, (session) => this.runner.end(session, 'DONE', 'LOGGED_OUT'));
  }

  /**
   * Stops every timer (ping loops, socket reconnects) and closes the device sockets of connect(); sessions stay as
   * they are on the server.
   */
  dispose(): void {
    this.disposed = true;
    this.runner.stop();
    for (const disconnect of this.disconnects) disconnect();
  }
}
