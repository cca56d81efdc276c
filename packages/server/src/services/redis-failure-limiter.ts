import type { Redis } from 'ioredis';
import { type BusLog, consoleBusLog } from './event-bus.js';
import type { FailureLimiter, FailureLimits } from './failure-limiter.js';

/** Ends both scripts: the wait in ms (the key's remaining life) once the count `n` has reached ARGV[max], else 0. */
const waitOnceOver = (max: string) => `
if n < tonumber(${max}) then return 0 end
local t = redis.call('PTTL', KEYS[1])
if t < 0 then return 0 end
return t`;

/**
 * Counts a failure: INCR, and the first one of a window sets the window's length as the key's expiry. One script,
 * so the expiry cannot be lost between the two (a key without one would block forever). Answers as CHECK would.
 */
const FAIL = `
local n = redis.call('INCR', KEYS[1])
if n == 1 or redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end${waitOnceOver('ARGV[2]')}`;

/** The wait in ms when the key has reached the limit, else 0: a count and its remaining time read together. */
const CHECK = `
local n = tonumber(redis.call('GET', KEYS[1]) or '0')${waitOnceOver('ARGV[1]')}`;

/**
 * The failure limiter in Redis: a key per counted thing (`<prefix>fail:<name>:<key>`) that lives for the window
 * (Redis expires it, so nothing needs purging). Windows are timed by Redis's clock, the same for every instance.
 * Uses the event bus's command connection: no connection of its own.
 *
 * While Redis cannot be reached the limiter lets everything through (and says so in the log, every 10 s at most)
 * rather than refuse every request: it is defence in depth against guessing secrets that are long and random
 * anyway (API keys, enrol codes, signatures), while the limits that guard short secrets — wrong PINs and offline
 * codes — are kept in the database and hold regardless. An outage of Redis must not be an outage of logins.
 */
export class RedisFailureLimiter implements FailureLimiter {
  readonly maxFailures: number;
  readonly windowMs: number;
  private warnedAt = -Infinity;

  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    limits: FailureLimits,
    private readonly log: BusLog = consoleBusLog,
  ) {
    this.maxFailures = limits.maxFailures;
    this.windowMs = limits.windowMs;
  }

  async blockedFor(key: string): Promise<number> {
    // Known to be away (reconnecting): answer now instead of waiting for the next reconnection attempt.
    if (this.redis.status !== 'ready') {
      this.unavailable(new Error(`connection ${this.redis.status}`));
      return 0;
    }
    try {
      return Number(await this.redis.eval(CHECK, 1, `${this.keyPrefix}${key}`, this.maxFailures));
    } catch (err) {
      this.unavailable(err);
      return 0;
    }
  }

  async fail(key: string): Promise<number> {
    if (this.redis.status !== 'ready') {
      this.unavailable(new Error(`connection ${this.redis.status}`));
      return 0;
    }
    try {
      return Number(await this.redis.eval(FAIL, 1, `${this.keyPrefix}${key}`, this.windowMs, this.maxFailures));
    } catch (err) {
      this.unavailable(err);
      return 0;
    }
  }

  private unavailable(err: unknown): void {
    if (Date.now() - this.warnedAt < 10_000) return;
    this.warnedAt = Date.now();
    this.log('warn', 'Redis cannot be reached: per-IP failure limits are not enforced until it is back', err);
  }
}
