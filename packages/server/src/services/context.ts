import type { SecretBox } from '../crypto/secret-box.js';
import type { Store } from '../store/store.js';
import type { EventBus } from './event-bus.js';
import type { FailureLimiter } from './failure-limiter.js';
import type { PublicKeyCache } from './key-cache.js';

/** Lifetimes (DESIGN §2), all overridable. */
export interface Lifetimes {
  sessionMs: number;
  challengeMs: number;
  enrolTokenMs: number;
  /** How long finished sessions stay readable by getSession before they are purged. */
  sessionRetentionMs: number;
  /** How long "I did not try to log in" stops pushes to that user. */
  pushBlockMs: number;
}

export const DEFAULT_LIFETIMES: Lifetimes = {
  sessionMs: 10 * 60_000,
  challengeMs: 2 * 60_000,
  enrolTokenMs: 10 * 60_000,
  sessionRetentionMs: 24 * 3600_000,
  pushBlockMs: 3600_000,
};

export const MAX_PIN_FAILURES = 5;

/** What every service needs; built once per server process and passed down. */
export interface ServiceContext {
  store: Store;
  box: SecretBox;
  bus: EventBus;
  keys: PublicKeyCache;
  /** Failures per client IP: bad API keys, bad enrol codes, bad device signatures. */
  ipFailures: FailureLimiter;
  /** Provokes per virtual server and client IP (each counted as a "failure": the limiter only counts and refuses). */
  ipPushes: FailureLimiter;
  publicUrl: string;
  lifetimes: Lifetimes;
  now: () => number;
}
