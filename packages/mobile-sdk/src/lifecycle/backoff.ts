/**
 * Reconnection back-off: exponential with full jitter (delay drawn uniformly from 0..min(cap, base·factor^n)), so
 * that a fleet of phones that lost the server at the same moment does not come back at the same moment.
 */
export interface BackoffPolicy {
  baseMs: number;
  factor: number;
  capMs: number;
  /** Attempts in all (the first included) before giving up. */
  maxAttempts: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1000, factor: 2, capMs: 30_000, maxAttempts: 8 };

export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * policy.factor ** attempt);
  return Math.floor(random() * ceiling);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
