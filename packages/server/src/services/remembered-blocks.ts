import type { FailureLimiter } from './failure-limiter.js';

/** Bounds the memory a flood of blocked keys can take; blocks that are over are dropped first. */
const MAX_REMEMBERED = 100_000;

/**
 * Keeps the shared failure count off the path of requests that succeed. Checking a client IP before every device
 * and business request cost a read of the shared store (a database row or a Redis round trip) per request, four
 * per login, for clients that almost never fail. Here the check asks only this process's memory: a block is
 * learned from the answer to `fail`, which counts in the shared store and says whether the key is now over its
 * limit there, counting every instance's failures.
 *
 * What that changes: a key that reached its limit through other instances is refused at this one from its next
 * failure here on, not from its next request; so each instance lets a blocked key make at most one more attempt
 * per window, which still bounds guessing (the secrets these limits guard are long and random anyway; see
 * RedisFailureLimiter). A restart forgets the remembered blocks and learns them again the same way.
 */
export class RememberedBlocks implements FailureLimiter {
  private readonly blockedUntil = new Map<string, number>();

  constructor(
    private readonly shared: FailureLimiter,
    private readonly now: () => number = Date.now,
  ) {}

  async blockedFor(key: string): Promise<number> {
    const until = this.blockedUntil.get(key);
    if (until === undefined) return 0;
    const wait = until - this.now();
    if (wait > 0) return wait;
    this.blockedUntil.delete(key);
    return 0;
  }

  async fail(key: string): Promise<number> {
    const wait = await this.shared.fail(key);
    if (wait > 0) {
      if (this.blockedUntil.size >= MAX_REMEMBERED) this.sweep();
      this.blockedUntil.set(key, this.now() + wait);
    }
    return wait;
  }

  private sweep(): void {
    const now = this.now();
    for (const [key, until] of this.blockedUntil) if (until <= now) this.blockedUntil.delete(key);
    // Still full of live blocks (a flood from many addresses): forget the oldest half rather than grow.
    if (this.blockedUntil.size >= MAX_REMEMBERED) {
      let drop = this.blockedUntil.size / 2;
      for (const key of this.blockedUntil.keys()) {
        if (drop-- <= 0) break;
        this.blockedUntil.delete(key);
      }
    }
  }
}
