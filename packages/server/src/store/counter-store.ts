import type { Kysely } from 'kysely';
import type { Database } from '../db/tables.js';
import { PrecompiledQueries, type Slots } from './precompiled.js';

/** A counter's current window: `count` events since `windowStart`. */
export interface CounterWindow {
  count: number;
  windowStart: number;
}

/**
 * Fixed-window counters in the database, shared by every process on it (the failure limiter's home when no Redis
 * is configured). Each step is one statement, so concurrent increments from several processes never lose a count.
 */
export class CounterStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly q = new PrecompiledQueries(db),
  ) {}

  /**
   * Counts one event for `key`: when its window (of `windowMs`) is still open the count goes up by one, otherwise
   * a new window begins at `now` with a count of one. Returns the window as it now stands.
   */
  async add(key: string, now: number, windowMs: number): Promise<CounterWindow> {
    const row = await this.q.first('counters.add', (p: Slots<{ key: string; now: number; over: number }>) => this.db
      .insertInto('counters')
      .values({ key: p('key'), window_start: p('now'), count: 1 })
      .onConflict((oc) =>
        oc.column('key').doUpdateSet((eb) => ({
          count: eb.case().when('counters.window_start', '<=', p('over')).then(1).else(eb('counters.count', '+', 1)).end(),
          window_start: eb.case().when('counters.window_start', '<=', p('over')).then(p('now')).else(eb.ref('counters.window_start')).end(),
        })),
      )
      .returning(['count', 'window_start']), { key, now, over: now - windowMs });
    if (!row) throw new Error('counter upsert returned no row');
    return { count: row.count, windowStart: row.window_start };
  }

  async get(key: string): Promise<CounterWindow | undefined> {
    const row = await this.q.first('counters.get', (p: Slots<{ key: string }>) => this.db.selectFrom('counters').select(['count', 'window_start']).where('key', '=', p('key')), { key });
    return row && { count: row.count, windowStart: row.window_start };
  }

  /** Drops counters whose window began before `before`. */
  async purge(before: number): Promise<void> {
    await this.db.deleteFrom('counters').where('window_start', '<', before).execute();
  }
}
