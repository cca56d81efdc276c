import type { Redis } from 'ioredis';
import type { FailureLimiter, FailureLimits } from './failure-limiter.js';

/**
 * Counts a failure: INCR, and the first one of a window sets the window's length as the key's expiry. One script,
 * so the expiry cannot be lost between the two (a key without one would block forever).
 */
const FAIL = `
local n = redis.call('INCR', KEYS[1])
if n == 1 or redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n`;

/** The wait in ms when the key has reached the limit, else 0: a count and its remaining time read together. */
const CHECK = `
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n < tonumber(ARGV[1]) then return 0 end
local t = redis.call('PTTL', KEYS[1])
if t < 0 then return 0 end
return t`;

/**
 * The failure limiter in Redis: a key per counted thing (`<prefix>fail:<name>:<key>`) that lives for the window
 * (Redis expires it, so nothing needs purging). Windows are timed by Redis's clock, the same for every instance.
 * Uses the event bus's command connection: no connection of its own.
 */
export class RedisFailureLimiter implements FailureLimiter {
  readonly maxFailures: number;
  readonly windowMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    limits: FailureLimits,
  ) {
    this.maxFailures = limits.maxFailures;
    this.windowMs = limits.windowMs;
  }

  async blockedFor(key: string): Promise<number> {
    return Number(await this.redis.eval(CHECK, 1, `${this.keyPrefix}${key}`, this.maxFailures));
  }

  async fail(key: string): Promise<void> {
    await this.redis.eval(FAIL, 1, `${this.keyPrefix}${key}`, this.windowMs);
  }
}
