/**
 * Counts failures per key (client IP, account) in fixed windows and refuses further attempts once a key has
 * failed too often: whatever can be guessed (API keys, enrol codes, signatures) gets a bounded number of tries.
 *
 * A window begins at a key's first failure and lasts `windowMs`; once `maxFailures` have been counted in it, the
 * key is refused until it ends. Three implementations with these same rules: in memory (this file; one process,
 * used where nothing is shared), in the database (DatabaseFailureLimiter, shared by every process on it) and in
 * Redis (RedisFailureLimiter). The server uses Redis when it has one, else the database, so that failures at one
 * instance count at every other and a restart forgets nothing.
 */
export interface FailureLimiter {
  /** Milliseconds until `key` may try again, or 0 when it may try now. */
  blockedFor(key: string): Promise<number>;
  /** Counts a failure; returns what blockedFor would now answer (so a caller can learn of a block without a read). */
  fail(key: string): Promise<number>;
}

/** The limits every implementation is made with. */
export interface FailureLimits {
  maxFailures: number;
  windowMs: number;
}

/** The rule all three share: given a window (count since start), how long `key` must still wait. */
export function waitFor(window: { count: number; windowStart: number } | undefined, limits: FailureLimits, now: number): number {
  if (!window) return 0;
  const elapsed = now - window.windowStart;
  if (elapsed >= limits.windowMs) return 0;
  return window.count >= limits.maxFailures ? limits.windowMs - elapsed : 0;
}

export class WindowFailureLimiter implements FailureLimiter {
  private readonly windows = new Map<string, { windowStart: number; count: number }>();

  constructor(
    readonly maxFailures: number,
    readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async blockedFor(key: string): Promise<number> {
    const now = this.now();
    const w = this.windows.get(key);
    if (w && now - w.windowStart >= this.windowMs) this.windows.delete(key);
    return waitFor(w, this, now);
  }

  async fail(key: string): Promise<number> {
    const now = this.now();
    let w = this.windows.get(key);
    if (!w || now - w.windowStart >= this.windowMs) {
      // Bounded memory under a flood of distinct keys: drop windows that are over.
      if (this.windows.size > 100_000) this.sweep(now);
      this.windows.set(key, (w = { windowStart: now, count: 1 }));
    } else {
      w.count++;
    }
    return waitFor(w, this, now);
  }

  private sweep(now: number): void {
    for (const [key, w] of this.windows) if (now - w.windowStart >= this.windowMs) this.windows.delete(key);
  }
}
