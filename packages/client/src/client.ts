import { generateNonce, isValidNonce } from '@tapin/protocol';
import type { Account, AuditEvent, ProvokeResponse, ServerSettings, ServerSettingsUpdate, User, UserContext } from '@tapin/protocol';
import { TapinApiError } from './errors.js';
import { request } from './http.js';
import type { FetchLike, HttpConfig, RequestSpec } from './http.js';
import type { EnrolData, LoginStatus, Page, QrData } from './types.js';

export interface TapinClientOptions {
  /** The Tapin server's base URL, e.g. `https://tapin.example.com` (a trailing slash is ignored). */
  url: string;
  /** The virtual server id. */
  sid: string;
  /** An API key of that virtual server. Sent as `Authorization: Bearer`, never in a URL. */
  apiKey: string;
  /** Injected fetch (tests, proxies, custom agents); defaults to the global fetch. */
  fetch?: FetchLike;
  /** Budget for one call in ms (default 10 000). A long-poll gets its `wait` on top. */
  timeoutMs?: number;
}

export interface EnrolOptions {
  /** Shown to the person enrolling. */
  name: string;
  /** Assign the new account to this user at once. */
  userid?: string;
}

export interface GetSessionOptions {
  /** Long-poll: the server holds the answer up to this many seconds until the session changes. */
  wait?: number;
  /** Cancels the call (e.g. when the browser that was watching goes away); rejects with the signal's reason. */
  signal?: AbortSignal;
}

export interface ListUsersOptions {
  search?: string;
  limit?: number;
  marker?: string;
}

export interface ListAccountsOptions {
  limit?: number;
  marker?: string;
}

export type QrImageFormat = 'svg' | 'png';

const DEFAULT_TIMEOUT_MS = 10_000;
/** What the server's otpLogin schema accepts (12 symbols plus the spaces and hyphens people type). */
const MAX_OTP_LENGTH = 64;

/**
 * Refuses a bad nonce before anything is sent: a short or low-entropy nonce would make a guessable session, and
 * the server would refuse it anyway. The message never repeats the nonce, which is a secret.
 */
function checkNonce(nonce: string): void {
  if (!isValidNonce(nonce)) throw new TapinApiError('invalid_nonce');
}

/**
 * One URL path segment. Encoded so a userid like `a/b` or `x?y` cannot reach another route, and never empty,
 * because `/users/` would silently be the list route.
 */
function segment(value: string, what: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new TapinApiError('bad_request', { message: `${what} must be a non-empty string.` });
  }
  return encodeURIComponent(value);
}

/**
 * Typed calls to Tapin's business API for one virtual server. Stateless apart from its configuration, so one
 * instance can serve a whole back-end. Every method throws TapinApiError on failure.
 */
export class TapinClient {
  /** Makes a nonce with the entropy the server requires (192 random bits, base64url). */
  static readonly generateNonce: () => string = generateNonce;

  readonly url: string;
  readonly sid: string;
  // Private (#) so the API key does not show up when the client is logged, inspected or serialised.
  readonly #http: HttpConfig;

  constructor(options: TapinClientOptions) {
    if (!options.url) throw new TypeError('TapinClient: url is required');
    if (!options.sid) throw new TypeError('TapinClient: sid is required');
    if (!options.apiKey) throw new TypeError('TapinClient: apiKey is required');
    this.url = options.url.replace(/\/+$/, '');
    this.sid = options.sid;
    this.#http = {
      baseUrl: `${this.url}/v1/servers/${encodeURIComponent(options.sid)}`,
      apiKey: options.apiKey,
      // Wrapped, not stored bare: calling the global fetch as a method of another object throws in browsers.
      fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    };
  }

  async #json<T>(spec: RequestSpec): Promise<T> {
    return (await request(this.#http, spec, 'json')) as T;
  }

  async #none(spec: RequestSpec): Promise<void> {
    await request(this.#http, spec, 'none');
  }

  // ---- session (named by the nonce, which always travels in X-Nonce) ----

  /** The session's state; with `wait`, long-polls until it changes or `wait` seconds pass. */
  async getSession(nonce: string, options: GetSessionOptions = {}): Promise<LoginStatus> {
    checkNonce(nonce);
    const { wait, signal } = options;
    if (wait !== undefined && !(Number.isFinite(wait) && wait >= 0)) {
      throw new TapinApiError('bad_request', { message: 'wait must be a number of seconds ≥ 0.' });
    }
    const seconds = wait ? Math.ceil(wait) : undefined;
    return this.#json<LoginStatus>({
      method: 'GET',
      path: '/session',
      query: { wait: seconds },
      nonce,
      // The server may hold the answer for the whole wait; only time beyond that counts as slow.
      extraTimeoutMs: (seconds ?? 0) * 1000,
      ...(signal ? { signal } : {}),
    });
  }

  /** Sets what the phone shows: announceinfo when approving, sessioninfo in its session list. */
  async setContext(nonce: string, context: UserContext): Promise<LoginStatus> {
    checkNonce(nonce);
    return this.#json<LoginStatus>({ method: 'PUT', path: '/session/context', nonce, body: context });
  }

  // ---- push login (DESIGN §8): the phone gets the request; `number` is what the page shows ----

  /** Pushes to the account that last logged in on this nonce (only when getSession says `canprovoke`). */
  async provokeLogin(nonce: string, context?: UserContext): Promise<ProvokeResponse> {
    checkNonce(nonce);
    return this.#json<ProvokeResponse>({ method: 'POST', path: '/session/provoke', nonce, ...(context ? { body: context } : {}) });
  }

  /** Pushes to every active account of the user. */
  async provokeUserLogin(nonce: string, userid: string, context?: UserContext): Promise<ProvokeResponse> {
    checkNonce(nonce);
    return this.#json<ProvokeResponse>({ method: 'POST', path: `/users/${segment(userid, 'userid')}/provokelogin`, nonce, ...(context ? { body: context } : {}) });
  }

  /** Pushes to one account. */
  async provokeAccountLogin(nonce: string, accountid: string, context?: UserContext): Promise<ProvokeResponse> {
    checkNonce(nonce);
    return this.#json<ProvokeResponse>({ method: 'POST', path: `/accounts/${segment(accountid, 'accountid')}/provokelogin`, nonce, ...(context ? { body: context } : {}) });
  }

  /** Security events, newest first (e.g. push_declined_notme). */
  async listAudit(options: { limit?: number; marker?: string } = {}): Promise<Page<AuditEvent>> {
    return this.#json<Page<AuditEvent>>({ method: 'GET', path: '/audit', query: { limit: options.limit, marker: options.marker } });
  }

  /** The login QR data (a URL carrying the hsid, never the nonce). */
  async getQr(nonce: string): Promise<QrData> {
    checkNonce(nonce);
    return this.#json<QrData>({ method: 'GET', path: '/session/qr', nonce });
  }

  /** The login QR code drawn by the server: SVG markup, or PNG bytes. */
  async getQrImage(nonce: string, format: 'svg'): Promise<string>;
  async getQrImage(nonce: string, format: 'png'): Promise<Uint8Array>;
  async getQrImage(nonce: string, format: QrImageFormat): Promise<string | Uint8Array>;
  async getQrImage(nonce: string, format: QrImageFormat): Promise<string | Uint8Array> {
    checkNonce(nonce);
    if (format !== 'svg' && format !== 'png') {
      throw new TapinApiError('bad_request', { message: "format must be 'svg' or 'png'." });
    }
    const spec: RequestSpec = { method: 'GET', path: '/session/qr', query: { format }, nonce };
    return format === 'svg'
      ? request(this.#http, { ...spec, accept: 'image/svg+xml' }, 'text')
      : request(this.#http, { ...spec, accept: 'image/png' }, 'bytes');
  }

  /**
   * Logs the session in with an offline code (OTP) that the person read off their phone and typed into the page
   * (needs the virtual server's `ENABLE_OTP` flag). Answers the LoginStatus, with `otplogin: true`. A wrong code is
   * `otp_invalid`, too many wrong codes `otp_locked`, a server without the flag `otp_disabled`. The code is sent
   * as typed: the server accepts spaces, hyphens, either case and look-alike letters.
   */
  async otpLogin(nonce: string, otp: string): Promise<LoginStatus> {
    checkNonce(nonce);
    if (typeof otp !== 'string' || otp.trim().length === 0 || otp.length > MAX_OTP_LENGTH) {
      throw new TapinApiError('bad_request', { message: `otp must be a non-empty string of at most ${MAX_OTP_LENGTH} characters.` });
    }
    return this.#json<LoginStatus>({ method: 'POST', path: '/session/otp', nonce, body: { otp } });
  }

  /** Ends the session (and tells the phone and any watching browser). */
  async logout(nonce: string): Promise<LoginStatus> {
    checkNonce(nonce);
    return this.#json<LoginStatus>({ method: 'POST', path: '/session/logout', nonce });
  }

  /** Assigns the account logged in on this session to a business user. */
  async registerUser(nonce: string, userid: string): Promise<LoginStatus> {
    checkNonce(nonce);
    segment(userid, 'userid');
    return this.#json<LoginStatus>({ method: 'POST', path: '/session/registeruser', nonce, body: { userid } });
  }

  // ---- enrolment and settings ----

  /** A one-use, short-lived enrol link for an authenticator app, optionally pre-assigned to a user. */
  async enrol(options: EnrolOptions): Promise<EnrolData> {
    const body = options.userid === undefined ? { name: options.name } : { name: options.name, userid: options.userid };
    return this.#json<EnrolData>({ method: 'POST', path: '/enrolments', body });
  }

  async getSettings(): Promise<ServerSettings> {
    return this.#json<ServerSettings>({ method: 'GET', path: '' });
  }

  /** Changes only the fields given; answers the settings as they now are. */
  async updateSettings(update: ServerSettingsUpdate): Promise<ServerSettings> {
    return this.#json<ServerSettings>({ method: 'PUT', path: '', body: update });
  }

  // ---- users ----

  async listUsers(options: ListUsersOptions = {}): Promise<Page<User>> {
    const { search, limit, marker } = options;
    return this.#json<Page<User>>({ method: 'GET', path: '/users', query: { search, limit, marker } });
  }

  async getUser(userid: string): Promise<User> {
    return this.#json<User>({ method: 'GET', path: `/users/${segment(userid, 'userid')}` });
  }

  async deleteUser(userid: string): Promise<void> {
    return this.#none({ method: 'DELETE', path: `/users/${segment(userid, 'userid')}` });
  }

  async getUserAccounts(userid: string): Promise<Page<Account>> {
    return this.#json<Page<Account>>({ method: 'GET', path: `/users/${segment(userid, 'userid')}/accounts` });
  }

  /** Deletes every account assigned to the user (their phones can no longer log in). */
  async deleteUserAccounts(userid: string): Promise<void> {
    return this.#none({ method: 'DELETE', path: `/users/${segment(userid, 'userid')}/accounts` });
  }

  async getUserAttributes(userid: string): Promise<Record<string, string>> {
    return this.#json<Record<string, string>>({ method: 'GET', path: `/users/${segment(userid, 'userid')}/attributes` });
  }

  /** Replaces the user's attributes; answers them as stored. */
  async setUserAttributes(userid: string, attributes: Record<string, string>): Promise<Record<string, string>> {
    return this.#json<Record<string, string>>({
      method: 'PUT',
      path: `/users/${segment(userid, 'userid')}/attributes`,
      body: attributes,
    });
  }

  async deleteUserAttributes(userid: string): Promise<void> {
    return this.#none({ method: 'DELETE', path: `/users/${segment(userid, 'userid')}/attributes` });
  }

  // ---- accounts ----

  async listAccounts(options: ListAccountsOptions = {}): Promise<Page<Account>> {
    const { limit, marker } = options;
    return this.#json<Page<Account>>({ method: 'GET', path: '/accounts', query: { limit, marker } });
  }

  async getAccount(accountid: string): Promise<Account> {
    return this.#json<Account>({ method: 'GET', path: `/accounts/${segment(accountid, 'accountid')}` });
  }

  async deleteAccount(accountid: string): Promise<void> {
    return this.#none({ method: 'DELETE', path: `/accounts/${segment(accountid, 'accountid')}` });
  }

  /** A blocked account cannot log in until unblocked. */
  async blockAccount(accountid: string): Promise<Account> {
    return this.#setBlocked(accountid, true);
  }

  async unblockAccount(accountid: string): Promise<Account> {
    return this.#setBlocked(accountid, false);
  }

  async #setBlocked(accountid: string, blocked: boolean): Promise<Account> {
    return this.#json<Account>({ method: 'PUT', path: `/accounts/${segment(accountid, 'accountid')}`, body: { blocked } });
  }

  /** Assigns the account to a business user. */
  async assignAccount(accountid: string, userid: string): Promise<Account> {
    segment(userid, 'userid');
    return this.#json<Account>({ method: 'PUT', path: `/accounts/${segment(accountid, 'accountid')}/user`, body: { userid } });
  }
}
