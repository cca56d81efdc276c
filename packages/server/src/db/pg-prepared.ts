import type { PostgresPool, PostgresPoolClient } from 'kysely';
import type pg from 'pg';

/** Statements worth preparing: the data statements, not transaction control or schema changes. */
const PREPARABLE = /^\s*(select|insert|update|delete|with)\b/i;
const MAX_NAMES = 1000;

/**
 * Kysely sends every query unnamed, so PostgreSQL parses and plans it each time; for the short primary-key
 * queries of a login that is most of the database's work. This pool hands Kysely clients that send the data
 * statements as named prepared statements: node-postgres prepares each name once per connection and then only
 * binds and executes. Should a schema change invalidate a prepared plan (another instance migrating during a
 * rolling upgrade), the query is sent again unnamed.
 */
export function withPreparedStatements(pool: pg.Pool): PostgresPool {
  const names = new Map<string, string>();
  const clients = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  const nameOf = (sql: string) => {
    let name = names.get(sql);
    if (name === undefined && names.size < MAX_NAMES && PREPARABLE.test(sql)) names.set(sql, (name = `tapin_${names.size}`));
    return name;
  };
  const wrap = (client: pg.PoolClient): PostgresPoolClient => ({
    query: (async (sql: string, values: unknown[]) => {
      const name = typeof sql === 'string' ? nameOf(sql) : undefined;
      if (name === undefined) return client.query(sql, values);
      try {
        return await client.query({ name, text: sql, values });
      } catch (err) {
        // 0A000 "cached plan must not change result type": the table changed under the prepared statement.
        if ((err as { code?: unknown }).code === '0A000') return client.query(sql, values);
        throw err;
      }
    }) as unknown as PostgresPoolClient['query'],
    release: () => client.release(),
  });
  return {
    connect: async () => {
      const client = await pool.connect();
      let wrapped = clients.get(client);
      if (!wrapped) clients.set(client, (wrapped = wrap(client)));
      return wrapped;
    },
    end: () => pool.end(),
  };
}
