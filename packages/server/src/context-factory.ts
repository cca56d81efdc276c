import { dirname, join } from 'node:path';
import { SecretBox } from './crypto/secret-box.js';
import { isPostgresUrl, openDatabase } from './db/database.js';
import { DEFAULT_LIFETIMES, type Lifetimes, type ServiceContext } from './services/context.js';
import { InProcessEventBus } from './services/event-bus.js';
import { WindowFailureLimiter } from './services/failure-limiter.js';
import { PublicKeyCache } from './services/key-cache.js';
import { KyselyStore } from './store/kysely-store.js';

export interface ContextOptions {
  /** SQLite file, `:memory:`, or postgres://… */
  db: string;
  publicUrl: string;
  /** Where the master key lives; default: next to the SQLite file, or ./tapin.key for PostgreSQL. */
  keyFile?: string | undefined;
  lifetimes?: Partial<Lifetimes>;
  now?: () => number;
  /** Failed guesses (bad keys, codes, signatures) allowed per client IP per minute. */
  ipFailuresPerMinute?: number;
}

export function defaultKeyFile(db: string): string {
  if (isPostgresUrl(db)) return 'tapin.key';
  return join(dirname(db), 'tapin.key');
}

/** Opens the database and builds what the services share. The caller closes `ctx.store` and `ctx.bus`. */
export async function createContext(options: ContextOptions): Promise<{ ctx: ServiceContext; keyCreated: string | undefined; description: string }> {
  const handle = await openDatabase(options.db);
  let box: SecretBox;
  let keyCreated: string | undefined;
  if (options.db === ':memory:' && !process.env['TAPIN_SECRET_KEY']) {
    // Nothing outlives an in-memory database, so neither should its key.
    box = SecretBox.random();
  } else {
    const file = options.keyFile ?? defaultKeyFile(options.db);
    const loaded = SecretBox.load(file, process.env['TAPIN_SECRET_KEY']);
    box = loaded.box;
    if (loaded.created) keyCreated = file;
  }
  const now = options.now ?? Date.now;
  const ctx: ServiceContext = {
    store: new KyselyStore(handle),
    box,
    bus: new InProcessEventBus(),
    keys: new PublicKeyCache(),
    ipFailures: new WindowFailureLimiter(options.ipFailuresPerMinute ?? 30, 60_000, now),
    publicUrl: options.publicUrl.replace(/\/+$/, ''),
    lifetimes: { ...DEFAULT_LIFETIMES, ...options.lifetimes },
    now,
  };
  return { ctx, keyCreated, description: handle.description };
}
