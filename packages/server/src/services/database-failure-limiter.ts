import type { CounterStore } from '../store/counter-store.js';
import { type FailureLimiter, type FailureLimits, waitFor } from './failure-limiter.js';

/**
 * The failure limiter in the database's `counters` table: every process on the database counts into the same
 * rows, each failure is one atomic upsert and each check one primary-key read. Used when no Redis is configured.
 */
export class DatabaseFailureLimiter implements FailureLimiter {
  readonly maxFailures: number;
  readonly windowMs: number;

  /** `name` keeps this limiter's keys apart from other counters (`<name>:<key>`). */
  constructor(
    private readonly counters: CounterStore,
    private readonly name: string,
    limits: FailureLimits,
    private readonly now: () => number = Date.now,
  ) {
    this.maxFailures = limits.maxFailures;
    this.windowMs = limits.windowMs;
  }

  async blockedFor(key: string): Promise<number> {
    return waitFor(await this.counters.get(`${this.name}:${key}`), this, this.now());
  }

  async fail(key: string): Promise<number> {
    const now = this.now();
    return waitFor(await this.counters.add(`${this.name}:${key}`, now, this.windowMs), this, now);
  }
}
