import { hostname } from 'node:os';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler } from 'kysely';
import pg from 'pg';
import { GroupCommitSqliteDriver } from './group-commit-driver.js';
import { withPreparedStatements } from './pg-prepared.js';
import type { Database } from './tables.js';
import { migrate } from './migrations.js';

export type Dialect = 'sqlite' | 'postgres';

export interface DatabaseHandle {
  db: Kysely<Database>;
  dialect: Dialect;
  /** What to show in logs: the file or the host/database, never a password. */
  description: string;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** PostgreSQL only: a schema to create and use (tests isolate themselves this way). */
  schema?: string;
  poolSize?: number;
}

export const isPostgresUrl = (url: string): boolean => /^postgres(ql)?:\/\//.test(url);

/** Opens (and migrates) the database named by `url`: a SQLite file path, `:memory:`, or a postgres:// URL. */
export async function openDatabase(url: string, options: DatabaseOptions = {}): Promise<DatabaseHandle> {
  const handle = isPostgresUrl(url) ? await openPostgres(url, options) : openSqlite(url);
  try {
    await migrate(handle.db as Kysely<unknown>);
  } catch (err) {
    await handle.close();
    throw err;
  }
  return handle;
}

function openSqlite(file: string): DatabaseHandle {
  const sqlite = new SQLite(file);
  // WAL lets readers proceed during a write; NORMAL sync is durable across process crashes, which is what a
  // login server needs (an OS crash may lose the last few ms of logins, never corrupt the file).
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const driver = new GroupCommitSqliteDriver(sqlite, statementCache(sqlite));
  const db = new Kysely<Database>({
    dialect: {
      createAdapter: () => new SqliteAdapter(),
      createDriver: () => driver,
      createIntrospector: (k) => new SqliteIntrospector(k),
      createQueryCompiler: () => new SqliteQueryCompiler(),
    },
  });
  return { db, dialect: 'sqlite', description: file === ':memory:' ? 'SQLite in memory' : `SQLite ${file}`, close: () => db.destroy() };
}

/**
 * Preparing a statement costs about as much as running a small query, and the same few dozen SQL texts recur
 * forever, so prepared statements are kept by their text (bounded).
 */
function statementCache(sqlite: SQLite.Database): (sql: string) => SQLite.Statement {
  const cache = new Map<string, SQLite.Statement>();
  return (sql) => {
    let stmt = cache.get(sql);
    if (!stmt) {
      stmt = sqlite.prepare(sql);
      if (cache.size >= 500) cache.clear();
      cache.set(sql, stmt);
    }
    return stmt;
  };
}

async function openPostgres(url: string, options: DatabaseOptions): Promise<DatabaseHandle> {
  const parsed = new URL(url);
  // bigint (int8) columns hold Unix ms, well inside a JS number; parse them as numbers, not strings.
  const types = {
    getTypeParser: (oid: number, format?: string) =>
      oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text'),
  };
  const schema = options.schema;
  if (schema !== undefined && !/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error('invalid schema name');
  if (schema) {
    const setup = new pg.Client({ connectionString: url });
    await setup.connect();
    try {
      await setup.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    } finally {
      await setup.end();
    }
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    // pg_stat_activity then tells an operator which instance holds which connections.
    application_name: `tapin@${hostname()}/${process.pid}`.slice(0, 63),
    types,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  // An idle connection that breaks (PostgreSQL restarted, a failover, an administrator ending it) emits 'error' on
  // the pool, and an unheard 'error' ends the process. The pool drops that connection and makes a new one when
  // needed, so a warning is all it takes.
  pool.on('error', (err) => console.warn(`tapin: an idle PostgreSQL connection was lost (${err.message}); it will be replaced`));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: withPreparedStatements(pool) }) });
  return {
    db,
    dialect: 'postgres',
    description: `PostgreSQL ${parsed.hostname}:${parsed.port || 5432}${parsed.pathname}`,
    close: () => db.destroy(),
  };
}
