import type { Generated } from 'kysely';

/**
 * Row shapes, identical on SQLite and PostgreSQL: times are Unix milliseconds (bigint), booleans are 0/1 integers
 * and structured values are JSON text, so that one store implementation serves both dialects.
 */
export interface ServerTable {
  sid: string;
  name: string;
  logo: string;
  public_key: string;
  private_key_enc: string;
  ping_time: number;
  pin_timeout: number;
  pin_trans_timeout: number;
  server_flags: string;
  created: number;
  /** JSON list of allowed app-to-app return URLs (see matchReturnUrl). */
  return_urls: string;
  /** Seconds without use of the app after which an in-app login ends (0 = never). */
  inactivity_timeout: number;
}

export interface ApiKeyTable {
  keyid: string;
  sid: string;
  hash: string;
  created: number;
  /** When the key was revoked (Unix ms); null while it is valid. */
  revoked: number | null;
}

export interface EnrolTokenTable {
  token_hash: string;
  sid: string;
  name: string;
  userid: string | null;
  expires: number;
  used: number;
}

export interface AccountTable {
  accountid: string;
  sid: string;
  auth_pk: string;
  pin_pk: string | null;
  otp_key_enc: string;
  otpref: number;
  description: string;
  client_version: string;
  userid: string | null;
  created: number;
  lastlogin: number | null;
  lastpin: number | null;
  pin_failures: number;
  blocked: number;
  /** Wrong offline codes in the window that began at `otp_window` (see Store.takeAccountOtpAttempt). */
  otp_failures: number;
  otp_window: number | null;
}

export interface UserTable {
  sid: string;
  userid: string;
  attributes: string;
  created: number;
}

export interface SessionTable {
  sid: string;
  hsid: string;
  state: string;
  created: number;
  expires: number;
  updated: number;
  accountid: string | null;
  userid: string | null;
  otplogin: number;
  challenge: string | null;
  challenge_account: string | null;
  challenge_expires: number | null;
  announceinfo: string | null;
  sessioninfo: string | null;
  proof: string | null;
  loggedin_at: number | null;
  /** Wrong offline codes tried on this session while it was pending. */
  otp_failures: number;
  /** A logged-in session ends when this passes without a ping; null = one-shot (pingTime 0, or an OTP login). */
  ping_deadline: number | null;
}

export interface RequestIdTable {
  reqid: string;
  expires: number;
}

/** A push login request to one account (DESIGN §8): one row per account a provoke reached. */
export interface PushRequestTable {
  pushid: string;
  sid: string;
  hsid: string;
  accountid: string;
  /** Whom the anti-fatigue limits count against: `u:<userid>`, or `a:<accountid>` for an account without a user. */
  userkey: string;
  /** The number the page shows (number matching), or null when the server turned it off. */
  number: number | null;
  /** pending | answered | superseded */
  state: string;
  created: number;
  expires: number;
}

/** Per-user push back-off: the next provoke is allowed at `next_allowed`; `interval_ms` doubles on repeats. */
export interface PushLimitTable {
  sid: string;
  userkey: string;
  next_allowed: number;
  interval_ms: number;
  last_provoke: number;
  /** "I did not try to log in": no pushes to this user until then. */
  blocked_until: number | null;
}

/** Security-relevant events for the business API (`GET /audit`). */
export interface AuditEventTable {
  id: string;
  sid: string;
  type: string;
  at: number;
  userid: string | null;
  accountid: string | null;
  hsid: string | null;
  blocked_until: number | null;
}

/** The deployment's VAPID key pair (one row, id 'default'); the private key is sealed with the master key. */
export interface VapidKeyTable {
  id: string;
  public_key: string;
  private_key_enc: string;
  created: number;
}

/** A Web Push subscription a phone registered for one account. */
export interface PushSubscriptionTable {
  endpoint: string;
  sid: string;
  accountid: string;
  p256dh: string;
  auth: string;
  created: number;
}

/** A shared counter: `count` events since `window_start` in a fixed window (see CounterStore). */
export interface CounterTable {
  key: string;
  window_start: number;
  count: number;
}

export interface Database {
  counters: CounterTable;
  vapid_keys: VapidKeyTable;
  push_subscriptions: PushSubscriptionTable;
  audit_events: AuditEventTable;
  push_requests: PushRequestTable;
  push_limits: PushLimitTable;
  servers: ServerTable;
  api_keys: ApiKeyTable;
  enrol_tokens: EnrolTokenTable;
  accounts: AccountTable;
  users: UserTable;
  sessions: SessionTable;
  request_ids: RequestIdTable;
  kysely_migration?: { name: string; timestamp: string };
}

export type { Generated };
