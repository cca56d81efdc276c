/**
 * Counts failures per key (client IP, account) in fixed windows and refuses further attempts once a key has
 * failed too often: whatever can be guessed (API keys, enrol codes, signatures) gets a bounded number of tries.
 * In memory for one process; a shared implementation can replace it behind the same interface.
 */
export interface FailureLimiter {
  /** Milliseconds until `key` may try again, or 0 when it may try now. */
  blockedFor(key: string): number;
  fail(key: string): void;
}

export class WindowFailureLimiter implements FailureLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly maxFailures: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  blockedFor(key: string): number {
    const w = this.windows.get(key);
    if (!w) return 0;
    const elapsed = this.now() - w.start;
    if (elapsed >= this.windowMs) {
      this.windows.delete(key);
      return 0;
    }
    return w.count >= this.maxFailures ? this.windowMs - elapsed : 0;
  }

  fail(key: string): void {
    const now = this.now();
    const w = this.windows.get(key);
    if (!w || now - w.start >= this.windowMs) {
      // Bounded memory under a flood of distinct keys: drop windows that are over.
      if (this.windows.size > 100_000) this.sweep(now);
      this.windows.set(key, { start: now, count: 1 });
    } else {
      w.count++;
    }
  }

  private sweep(now: number): void {
    for (const [key, w] of this.windows) if (now - w.start >= this.windowMs) this.windows.delete(key);
  }
}
