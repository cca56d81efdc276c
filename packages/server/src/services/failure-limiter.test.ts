import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../db/database.js';
import { KyselyStore } from '../store/kysely-store.js';
import { DatabaseFailureLimiter } from './database-failure-limiter.js';
import { type FailureLimiter, type FailureLimits, WindowFailureLimiter } from './failure-limiter.js';
import { RedisFailureLimiter } from './redis-failure-limiter.js';
import { RememberedBlocks } from './remembered-blocks.js';

/**
 * One suite for every FailureLimiter: in memory, the database (SQLite always, PostgreSQL when
 * TAPIN_TEST_POSTGRES_URL is set) and Redis (when TAPIN_TEST_REDIS_URL is set). The shared ones are tested as two
 * limiters on one database or Redis, as two server processes would use them. Windows are timed by the real clock
 * (Redis times them itself), so they are short.
 */
const REDIS_URL = process.env['TAPIN_TEST_REDIS_URL'];
const PG_URL = process.env['TAPIN_TEST_POSTGRES_URL'];
if (!REDIS_URL) console.warn('failure-limiter.test.ts: the Redis limiter suite is skipped. Set TAPIN_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379) to run it.');
if (!PG_URL) console.warn('failure-limiter.test.ts: the PostgreSQL limiter suite is skipped. Set TAPIN_TEST_POSTGRES_URL to run it.');

const LIMITS: FailureLimits = { maxFailures: 5, windowMs: 600 };

interface Opened {
  /** Two limiters over the same shared state (for the in-memory one: the same object). */
  limiters: [FailureLimiter, FailureLimiter];
  dispose(): Promise<void>;
}

interface Backend {
  name: string;
  skip: boolean;
  shared: boolean;
  open(limits: FailureLimits): Promise<Opened>;
}

const backends: Backend[] = [
  {
    name: 'in memory',
    skip: false,
    shared: false,
    open: async (limits) => {
      const one = new WindowFailureLimiter(limits.maxFailures, limits.windowMs);
      return { limiters: [one, one], dispose: async () => undefined };
    },
  },
  {
    name: 'SQLite counters (two connections to one file)',
    skip: false,
    shared: true,
    open: async (limits) => {
      const dir = await mkdtemp(join(tmpdir(), 'tapin-limiter-'));
      const stores = [new KyselyStore(await openDatabase(join(dir, 'db.sqlite'))), new KyselyStore(await openDatabase(join(dir, 'db.sqlite')))];
      return {
        limiters: [new DatabaseFailureLimiter(stores[0]!.counters, 'fail:ip', limits), new DatabaseFailureLimiter(stores[1]!.counters, 'fail:ip', limits)],
        async dispose() {
          await Promise.all(stores.map((s) => s.close()));
          await rm(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'PostgreSQL counters (two pools)',
    skip: !PG_URL,
    shared: true,
    open: async (limits) => {
      const schema = `tapin_test_${randomBytes(6).toString('hex')}`;
      const first = new KyselyStore(await openDatabase(PG_URL!, { schema }));
      const second = new KyselyStore(await openDatabase(PG_URL!, { schema }));
      return {
        limiters: [new DatabaseFailureLimiter(first.counters, 'fail:ip', limits), new DatabaseFailureLimiter(second.counters, 'fail:ip', limits)],
        async dispose() {
          await first.close();
          await second.close();
          const c = new pg.Client({ connectionString: PG_URL });
          await c.connect();
          await c.query(`DROP SCHEMA ${schema} CASCADE`);
          await c.end();
        },
      };
    },
  },
  {
    name: 'Redis',
    skip: !REDIS_URL,
    shared: true,
    open: async (limits) => {
      const prefix = `tapin-test-${randomBytes(5).toString('hex')}:fail:`;
      // Connected before use, as the bus's command connection is (a limiter lets everything through while its
      // connection is not ready).
      const clients = [new Redis(REDIS_URL!, { lazyConnect: true }), new Redis(REDIS_URL!, { lazyConnect: true })];
      await Promise.all(clients.map((c) => c.connect()));
      return {
        limiters: [new RedisFailureLimiter(clients[0]!, prefix, limits), new RedisFailureLimiter(clients[1]!, prefix, limits)],
        async dispose() {
          const keys = await clients[0]!.keys(`${prefix}*`);
          if (keys.length) await clients[0]!.del(...keys);
          await Promise.all(clients.map((c) => c.quit()));
        },
      };
    },
  },
];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

for (const backend of backends) {
  describe.skipIf(backend.skip)(`FailureLimiter: ${backend.name}`, () => {
    let opened: Opened | undefined;
    const open = async (limits = LIMITS) => (opened = await backend.open(limits));
    afterEach(async () => {
      await opened?.dispose();
      opened = undefined;
    });

    it('lets a key fail maxFailures times, then refuses it for the rest of the window; other keys are not affected', async () => {
      const { limiters: [limiter] } = await open();
      expect(await limiter.blockedFor('198.51.100.1')).toBe(0);
      for (let i = 0; i < LIMITS.maxFailures; i++) {
        expect(await limiter.blockedFor('198.51.100.1')).toBe(0);
        // fail answers what blockedFor would: 0 until the limit is reached, the wait from then on.
        const answer = await limiter.fail('198.51.100.1');
        if (i < LIMITS.maxFailures - 1) expect(answer).toBe(0);
        else expect(answer).toBeGreaterThan(0);
      }
      const wait = await limiter.blockedFor('198.51.100.1');
      expect(wait).toBeGreaterThan(0);
      expect(wait).toBeLessThanOrEqual(LIMITS.windowMs);
      expect(await limiter.blockedFor('198.51.100.2')).toBe(0);
      expect(await limiter.blockedFor('2001:db8::1')).toBe(0);

      // The wait shrinks, and when the window is over the key may try again with a fresh count.
      await sleep(200);
      expect(await limiter.blockedFor('198.51.100.1')).toBeLessThan(wait);
      await sleep(LIMITS.windowMs - 200 + 50);
      expect(await limiter.blockedFor('198.51.100.1')).toBe(0);
      await limiter.fail('198.51.100.1');
      expect(await limiter.blockedFor('198.51.100.1')).toBe(0);
    });

    it('counts concurrent failures exactly', async () => {
      const { limiters: [one, two] } = await open({ maxFailures: 40, windowMs: 5_000 });
      await Promise.all(Array.from({ length: 39 }, (_, i) => (i % 2 ? one : two).fail('198.51.100.9')));
      expect(await one.blockedFor('198.51.100.9')).toBe(0);
      await two.fail('198.51.100.9');
      expect(await one.blockedFor('198.51.100.9')).toBeGreaterThan(0);
    });

    it.skipIf(!backend.shared)('RememberedBlocks over it: checks never read the shared store; an instance learns of a block at its next failure', async () => {
      const { limiters } = await open();
      const reads = [0, 0];
      // Count the shared store's reads under each instance's RememberedBlocks.
      const [a, b] = limiters.map((shared, i) => new RememberedBlocks({
        blockedFor: (key) => (reads[i]!++, shared.blockedFor(key)),
        fail: (key) => shared.fail(key),
      })) as [RememberedBlocks, RememberedBlocks];
      for (let i = 0; i < LIMITS.maxFailures - 1; i++) expect(await a.fail('203.0.113.7')).toBe(0);
      expect(await b.blockedFor('203.0.113.7')).toBe(0);
      expect(await b.fail('203.0.113.7')).toBeGreaterThan(0);
      expect(await b.blockedFor('203.0.113.7')).toBeGreaterThan(0);
      // a has not failed since the limit was reached: it lets the key try once more, and refuses it from then on.
      expect(await a.blockedFor('203.0.113.7')).toBe(0);
      expect(await a.fail('203.0.113.7')).toBeGreaterThan(0);
      expect(await a.blockedFor('203.0.113.7')).toBeGreaterThan(0);
      expect(await a.blockedFor('198.51.100.77')).toBe(0);
      expect(reads).toEqual([0, 0]);
      // The remembered block ends with the shared window.
      await sleep(LIMITS.windowMs + 50);
      expect(await a.blockedFor('203.0.113.7')).toBe(0);
      expect(await b.blockedFor('203.0.113.7')).toBe(0);
    });

    it.skipIf(!backend.shared)('failures counted by one instance count at the other', async () => {
      const { limiters: [a, b] } = await open();
      for (let i = 0; i < LIMITS.maxFailures - 1; i++) await a.fail('203.0.113.5');
      expect(await b.blockedFor('203.0.113.5')).toBe(0);
      await b.fail('203.0.113.5');
      expect(await a.blockedFor('203.0.113.5')).toBeGreaterThan(0);
      expect(await b.blockedFor('203.0.113.5')).toBeGreaterThan(0);
    });
  });
}
