import type { CounterStore } from './counter-store.js';
import type { PushStore } from './push-store.js';
import type { AccountTable, ApiKeyTable, EnrolTokenTable, ServerTable, SessionTable, UserTable } from '../db/tables.js';

export type ServerRow = ServerTable;
export type ApiKeyRow = ApiKeyTable;
export type EnrolTokenRow = EnrolTokenTable;
export type AccountRow = AccountTable;
export type UserRow = UserTable & { accounts: number };
export type SessionRow = SessionTable;

export interface ListOptions {
  limit: number;
  /** Keyset pagination: the last key of the previous page. */
  marker?: string | undefined;
  search?: string | undefined;
}

export interface PageOf<T> {
  items: T[];
  marker: string | null;
}

/** Conditions a session update must meet, checked in the same statement (compare-and-set). */
export interface SessionGuard {
  states?: readonly string[];
  challenge?: string;
  /** The session was logged in by this account. */
  accountid?: string;
  /** The session's ping deadline, if it has one, is later than this instant (the phone has not gone quiet). */
  aliveAt?: number;
  /** This account exists and is not blocked: a login racing a block or a delete must lose. */
  activeAccount?: string;
}

export interface ChallengeOpening {
  challenge: string;
  challenge_account: string;
  challenge_expires: number;
  updated: number;
}

export interface SessionKey {
  sid: string;
  hsid: string;
}

/** An attempt taken by `takeAccountOtpAttempt`: the count so far in the window that began at `window`. */
export interface OtpAttempt {
  count: number;
  window: number;
}

/**
 * Everything Tapin keeps. Each method is one atomic step, so services never hold a transaction across an await
 * on the network; conditional updates (`updateSession` with a guard, `consumeEnrolToken`, `claimRequestId`, the
 * OTP attempt counters) are what make one-time things happen once and keep limits exact, even with several
 * server processes on one database.
 */
export interface Store {
  readonly dialect: 'sqlite' | 'postgres';
  /** Push login requests and their limits (DESIGN §8). */
  readonly push: PushStore;
  /** Fixed-window counters shared by every process on the database (failure limits without Redis). */
  readonly counters: CounterStore;

  createServer(row: ServerRow): Promise<void>;
  getServer(sid: string): Promise<ServerRow | undefined>;
  listServers(): Promise<ServerRow[]>;
  updateServer(sid: string, patch: Partial<Omit<ServerRow, 'sid'>>): Promise<void>;

  createApiKey(row: Omit<ApiKeyRow, 'revoked'>): Promise<void>;
  getApiKey(keyid: string): Promise<ApiKeyRow | undefined>;
  /** The server's keys, revoked ones too, oldest first; never their hashes. */
  listApiKeys(sid: string): Promise<Pick<ApiKeyRow, 'keyid' | 'created' | 'revoked'>[]>;
  /** Marks the key revoked at `now`; false when the server has no such key that is not revoked already. */
  revokeApiKey(sid: string, keyid: string, now: number): Promise<boolean>;

  createEnrolToken(row: EnrolTokenRow): Promise<void>;
  getEnrolToken(tokenHash: string): Promise<EnrolTokenRow | undefined>;
  /** Marks the token used if it is unused and unexpired; false when another request got there first. */
  consumeEnrolToken(tokenHash: string, now: number): Promise<boolean>;

  /** Throws `DuplicateKeyError` when the otpref is taken on this server. */
  createAccount(row: AccountRow): Promise<void>;
  getAccount(sid: string, accountid: string): Promise<AccountRow | undefined>;
  listAccounts(sid: string, options: ListOptions & { userid?: string }): Promise<PageOf<AccountRow>>;
  updateAccount(sid: string, accountid: string, patch: Partial<Omit<AccountRow, 'sid' | 'accountid'>>): Promise<boolean>;
  /** Adds one wrong PIN; blocks the account when the count reaches `maxFailures`. Returns the new count. */
  recordPinFailure(sid: string, accountid: string, maxFailures: number): Promise<number>;
  deleteAccount(sid: string, accountid: string): Promise<boolean>;
  /** Deletes the user's accounts and returns their ids (their sessions must be ended too). */
  deleteAccountsOfUser(sid: string, userid: string): Promise<string[]>;
  /** The account that owns this otpref on this server (otprefs are unique per server). */
  findAccountByOtpref(sid: string, otpref: number): Promise<AccountRow | undefined>;
  /**
   * Takes one of the account's `max` offline-code attempts in a fixed window of `windowMs`: when no window is open
   * (none began, or the one that began at `otp_window` is over) a new one begins at `now`. Counting before the code
   * is checked means concurrent guesses cannot overrun the limit; a right code gives its attempt back
   * (`returnAccountOtpAttempt`). Undefined when the window's attempts are used up (or there is no such account).
   */
  takeAccountOtpAttempt(sid: string, accountid: string, now: number, windowMs: number, max: number): Promise<OtpAttempt | undefined>;
  /**
   * Gives back an attempt taken in the window that began at `window` (the code was right, so it was no failure);
   * with `lastlogin`, the same statement records the login that the right code made.
   */
  returnAccountOtpAttempt(sid: string, accountid: string, window: number, lastlogin?: number): Promise<void>;

  /** Creates the user if missing; never overwrites attributes. */
  ensureUser(sid: string, userid: string, now: number): Promise<void>;
  getUser(sid: string, userid: string): Promise<UserRow | undefined>;
  listUsers(sid: string, options: ListOptions): Promise<PageOf<UserRow>>;
  setUserAttributes(sid: string, userid: string, attributes: string): Promise<boolean>;
  /** Deletes the user and unassigns its accounts (they stay enrolled). */
  deleteUser(sid: string, userid: string): Promise<boolean>;

  /** Inserts the session unless it exists; returns the stored row either way. */
  ensureSession(row: SessionRow): Promise<SessionRow>;
  /** Inserts the session and returns it as stored, or undefined (changing nothing) when it exists already. */
  insertSession(row: SessionRow): Promise<SessionRow | undefined>;
  getSession(sid: string, hsid: string): Promise<SessionRow | undefined>;
  /** `getAccount` and `getSession` together: on PostgreSQL one statement, so answering a login costs a round trip less. */
  getAccountAndSession(sid: string, accountid: string, hsid: string): Promise<{ account: AccountRow | undefined; session: SessionRow | undefined }>;
  updateSession(sid: string, hsid: string, patch: Partial<Omit<SessionRow, 'sid' | 'hsid'>>, guard?: SessionGuard): Promise<boolean>;
  /**
   * `updateSession` guarded by `guard` and by the account being active (`activeAccount`), and, only when that
   * changed the session, `updateAccount` with `accountPatch` (a login's `lastlogin`): on PostgreSQL one statement.
   * Returns whether the session changed.
   */
  updateSessionAndAccount(
    sid: string, hsid: string, patch: Partial<Omit<SessionRow, 'sid' | 'hsid'>>, guard: Omit<SessionGuard, 'activeAccount'>,
    accountid: string, accountPatch: Partial<Omit<AccountRow, 'sid' | 'accountid'>>,
  ): Promise<boolean>;
  /**
   * A phone opens a pending session that has not expired at `challenge.updated`: an idle one becomes scanned (others
   * keep their state) and the challenge replaces any earlier one, in one statement. Returns the row as it now
   * stands, or undefined when the session is missing, expired or no longer in one of `pendingStates`.
   */
  openChallenge(sid: string, hsid: string, challenge: ChallengeOpening, pendingStates: readonly string[]): Promise<SessionRow | undefined>;
  /** Marks every pending session past its expiry as expired and returns them (for the watchers). */
  expireSessions(now: number, pendingStates: readonly string[]): Promise<SessionKey[]>;
  /**
   * Takes one of the session's `max` offline-code attempts (counted in `otp_failures` before the code is checked,
   * so concurrent guesses cannot overrun the limit; a right code ends the pending state, so the count that stays on
   * a pending session is of wrong codes), in one statement: only while the session is in one of `pendingStates` and
   * has not expired at `now`, and creating it from `fresh` (with this first attempt taken) when it does not exist.
   * Returns the session as it now stands, or undefined when it is not pending, has expired or has no attempt left.
   */
  takeSessionOtpAttempt(fresh: SessionRow, max: number, now: number, pendingStates: readonly string[]): Promise<SessionRow | undefined>;
  /** Logs out every logged-in session whose ping deadline is at or before `now` and returns them (for the watchers). */
  logoutOverdue(now: number): Promise<SessionKey[]>;
  /** Logs out every logged-in session of the account and returns them (for the watchers). */
  logoutSessionsOfAccount(sid: string, accountid: string, now: number): Promise<SessionKey[]>;

  /** Remembers a signed request's id until `expires`; false if it was seen before (a replay). */
  claimRequestId(reqid: string, expires: number): Promise<boolean>;
  /** Drops what has outlived its use: old request ids, used or expired enrol tokens, long-finished sessions, old counters. */
  purge(now: number, sessionRetentionMs: number): Promise<void>;

  close(): Promise<void>;
}

export class DuplicateKeyError extends Error {
  constructor() {
    super('duplicate key');
    this.name = 'DuplicateKeyError';
  }
}
