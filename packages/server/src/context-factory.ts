import { dirname, join } from 'node:path';
import { SecretBox } from './crypto/secret-box.js';
import { isPostgresUrl, openDatabase } from './db/database.js';
import { DEFAULT_LIFETIMES, type Lifetimes, type ServiceContext } from './services/context.js';
import { DatabaseFailureLimiter } from './services/database-failure-limiter.js';
import { type BusLog, type EventBus, consoleBusLog } from './services/event-bus.js';
import type { FailureLimiter } from './services/failure-limiter.js';
import { InProcessEventBus } from './services/in-process-event-bus.js';
import { PublicKeyCache } from './services/key-cache.js';
import { DEFAULT_PUSHES_PER_IP_PER_MINUTE } from './services/push-ip-limit.js';
import { PostgresEventBus } from './services/postgres-event-bus.js';
import { DEFAULT_REDIS_PREFIX, RedisEventBus, describeRedisUrl } from './services/redis-event-bus.js';
import { RedisFailureLimiter } from './services/redis-failure-limiter.js';
import { RememberedBlocks } from './services/remembered-blocks.js';
import { KyselyStore } from './store/kysely-store.js';

export interface ContextOptions {
  /** SQLite file, `:memory:`, or postgres://… */
  db: string;
  /** PostgreSQL: the most connections the store's pool opens (default 10). */
  dbPool?: number | undefined;
  publicUrl: string;
  /** Where the master key lives; default: next to the SQLite file, or ./tapin.key for PostgreSQL. */
  keyFile?: string | undefined;
  lifetimes?: Partial<Lifetimes>;
  now?: () => number;
  /** Failed guesses (bad keys, codes, signatures) allowed per client IP per minute. */
  ipFailuresPerMinute?: number;
  /** Push logins (provokes) allowed per client IP per virtual server per minute (default 30). */
  ipPushesPerMinute?: number;
  /**
   * redis://… (or rediss://): the event bus and the shared counters go to Redis, for several instances
   * (DESIGN §10). Without it: LISTEN/NOTIFY and counters in the database on PostgreSQL, in-process on SQLite.
   */
  redis?: string | undefined;
  /** Put before every Redis channel and key, so that deployments can share one Redis (default `tapin:`). */
  redisPrefix?: string | undefined;
  /** Where the event bus reports connection trouble (default: console.warn). */
  busLog?: BusLog;
}

export function defaultKeyFile(db: string): string {
  if (isPostgresUrl(db)) return 'tapin.key';
  return join(dirname(db), 'tapin.key');
}

export interface CreatedContext {
  ctx: ServiceContext;
  keyCreated: string | undefined;
  /** The database, as logs may show it. */
  description: string;
  /** Where events and counters are shared, as logs may show it, e.g. `Redis 127.0.0.1:6379`. */
  sharing: { bus: EventBus['kind']; counters: 'redis' | 'database'; description: string };
}

/** Opens the database (and Redis, if named) and builds what the services share. The caller closes `ctx.store` and `ctx.bus`. */
export async function createContext(options: ContextOptions): Promise<CreatedContext> {
  const handle = await openDatabase(options.db, options.dbPool === undefined ? {} : { poolSize: options.dbPool });
  let box: SecretBox;
  let keyCreated: string | undefined;
  try {
    if (options.db === ':memory:' && !process.env['TAPIN_SECRET_KEY']) {
      // Nothing outlives an in-memory database, so neither should its key.
      box = SecretBox.random();
    } else {
      const file = options.keyFile ?? defaultKeyFile(options.db);
      const loaded = SecretBox.load(file, process.env['TAPIN_SECRET_KEY']);
      box = loaded.box;
      if (loaded.created) keyCreated = file;
    }
  } catch (err) {
    await handle.close();
    throw err;
  }
  const now = options.now ?? Date.now;
  const store = new KyselyStore(handle);
  const limits = { maxFailures: options.ipFailuresPerMinute ?? 30, windowMs: 60_000 };
  const pushLimits = { maxFailures: options.ipPushesPerMinute ?? DEFAULT_PUSHES_PER_IP_PER_MINUTE, windowMs: 60_000 };
  const log = options.busLog ?? consoleBusLog;

  // Nothing that matters may live in one process's memory when several share the database: session events and
  // failure counts go where every instance sees them.
  let bus: EventBus;
  let ipFailures: FailureLimiter;
  let ipPushes: FailureLimiter;
  let sharing: CreatedContext['sharing'];
  try {
    if (options.redis) {
      const prefix = options.redisPrefix ?? DEFAULT_REDIS_PREFIX;
      const redisBus = await RedisEventBus.connect(options.redis, { prefix, log });
      bus = redisBus;
      ipFailures = new RememberedBlocks(new RedisFailureLimiter(redisBus.commands, `${prefix}fail:ip:`, limits, log));
      ipPushes = new RedisFailureLimiter(redisBus.commands, `${prefix}push:ip:`, pushLimits, log);
      sharing = { bus: 'redis', counters: 'redis', description: describeRedisUrl(options.redis) };
    } else {
      bus = handle.dialect === 'postgres' ? await PostgresEventBus.connect(options.db, { log }) : new InProcessEventBus();
      ipFailures = new RememberedBlocks(new DatabaseFailureLimiter(store.counters, 'fail:ip', limits, now), now);
      ipPushes = new DatabaseFailureLimiter(store.counters, 'push:ip', pushLimits, now);
      sharing = { bus: bus.kind, counters: 'database', description: handle.description };
    }
  } catch (err) {
    await handle.close();
    throw err;
  }

  const ctx: ServiceContext = {
    store,
    box,
    bus,
    keys: new PublicKeyCache(),
    ipFailures,
    ipPushes,
    publicUrl: options.publicUrl.replace(/\/+$/, ''),
    lifetimes: { ...DEFAULT_LIFETIMES, ...options.lifetimes },
    now,
  };
  return { ctx, keyCreated, description: handle.description, sharing };
}
