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
}

/**
 * Everything Tapin keeps. Each method is one atomic step, so services never hold a transaction across an await
 * on the network; conditional updates (`updateSession` with a guard, `consumeEnrolToken`, `claimRequestId`) are
 * what make one-time things one-time even with several server processes on one database.
 */
export interface Store {
  readonly dialect: 'sqlite' | 'postgres';

  createServer(row: ServerRow): Promise<void>;
  getServer(sid: string): Promise<ServerRow | undefined>;
  listServers(): Promise<ServerRow[]>;
  updateServer(sid: string, patch: Partial<Omit<ServerRow, 'sid'>>): Promise<void>;

  createApiKey(row: ApiKeyRow): Promise<void>;
  getApiKey(keyid: string): Promise<ApiKeyRow | undefined>;

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
  deleteAccountsOfUser(sid: string, userid: string): Promise<number>;

  /** Creates the user if missing; never overwrites attributes. */
  ensureUser(sid: string, userid: string, now: number): Promise<void>;
  getUser(sid: string, userid: string): Promise<UserRow | undefined>;
  listUsers(sid: string, options: ListOptions): Promise<PageOf<UserRow>>;
  setUserAttributes(sid: string, userid: string, attributes: string): Promise<boolean>;
  /** Deletes the user and unassigns its accounts (they stay enrolled). */
  deleteUser(sid: string, userid: string): Promise<boolean>;

  /** Inserts the session unless it exists; returns the stored row either way. */
  ensureSession(row: SessionRow): Promise<SessionRow>;
  getSession(sid: string, hsid: string): Promise<SessionRow | undefined>;
  updateSession(sid: string, hsid: string, patch: Partial<Omit<SessionRow, 'sid' | 'hsid'>>, guard?: SessionGuard): Promise<boolean>;
  /** Marks every pending session past its expiry as expired and returns them (for the watchers). */
  expireSessions(now: number, pendingStates: readonly string[]): Promise<Array<{ sid: string; hsid: string }>>;

  /** Remembers a signed request's id until `expires`; false if it was seen before (a replay). */
  claimRequestId(reqid: string, expires: number): Promise<boolean>;
  /** Drops what has outlived its use: old request ids, used or expired enrol tokens, long-finished sessions. */
  purge(now: number, sessionRetentionMs: number): Promise<void>;

  close(): Promise<void>;
}

export class DuplicateKeyError extends Error {
  constructor() {
    super('duplicate key');
    this.name = 'DuplicateKeyError';
  }
}
