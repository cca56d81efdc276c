import { randomBytes } from 'node:crypto';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import pg from 'pg';
import { afterEach, expect, it } from 'vitest';
import { openDatabase } from './database.js';
import { migrate } from './migrations.js';

/** A database made by an earlier release keeps its rows when it is upgraded, and they get the new defaults. */

let sqlite: SQLite.Database;
let db: Kysely<unknown>;
afterEach(async () => {
  await db.destroy();
});

it('0002 adds the offline-code counters and the ping deadline to existing rows', async () => {
  sqlite = new SQLite(':memory:');
  db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: sqlite }) });
  await migrate(db, '0001_initial');
  sqlite.prepare(`insert into servers values ('srv-0001', 'n', '', 'pk', 'enc', 30, 0, 0, '[]', 1)`).run();
  sqlite.prepare(`insert into accounts (accountid, sid, auth_pk, pin_pk, otp_key_enc, otpref, description, client_version, userid, created,
    lastlogin, lastpin, pin_failures, blocked) values ('acct-0001', 'srv-0001', 'a', null, 'k', 7, 'd', 'v', null, 1, null, null, 0, 0)`).run();
  sqlite.prepare(`insert into sessions (sid, hsid, state, created, expires, updated, otplogin)
    values ('srv-0001', 'hsid-0001', 'loggedin', 1, 2, 3, 0)`).run();

  await migrate(db);

  expect(sqlite.prepare('select otp_failures, otp_window from accounts').get()).toEqual({ otp_failures: 0, otp_window: null });
  // Sessions logged in before the upgrade have no deadline: they last until logout, as they did.
  expect(sqlite.prepare('select state, otp_failures, ping_deadline from sessions').get()).toEqual({ state: 'loggedin', otp_failures: 0, ping_deadline: null });
  // Running again is a no-op.
  await migrate(db);
});

it('0007 gives existing virtual servers no return URLs and a 5-minute in-app inactivity timeout', async () => {
  sqlite = new SQLite(':memory:');
  db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: sqlite }) });
  await migrate(db, '0006_counters');
  sqlite.prepare(`insert into servers values ('srv-0001', 'n', '', 'pk', 'enc', 30, 0, 0, '[]', 1)`).run();
  await migrate(db);
  expect(sqlite.prepare('select return_urls, inactivity_timeout from servers').get()).toEqual({ return_urls: '[]', inactivity_timeout: 300 });
});

const PG_URL = process.env['TAPIN_TEST_POSTGRES_URL'];

// A prepared statement's plan is kept for the connection's life. Before 0008, PostgreSQL planned these lookups on
// tables not yet analyzed with another index that begins with `sid`, and then read every row of the server.
it.skipIf(!PG_URL)('0008: on PostgreSQL, key lookups keep to the primary key, also as a prepared statement\'s generic plan', async () => {
  const schema = `tapin_test_${randomBytes(6).toString('hex')}`;
  const handle = await openDatabase(PG_URL!, { schema });
  db = handle.db as Kysely<unknown>;
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(`SET search_path = ${schema}`);
    const planOf = async (name: string, text: string) => {
      await client.query(`PREPARE ${name}(varchar, varchar) AS ${text}`);
      // Five custom plans first; from the sixth on PostgreSQL may settle on the generic one.
      for (let i = 0; i < 6; i++) await client.query(`EXECUTE ${name}('srv-0001', 'x')`);
      return (await client.query(`EXPLAIN EXECUTE ${name}('srv-0001', 'x')`)).rows.map((r) => String(r['QUERY PLAN'])).join('\n');
    };
    expect(await planOf('s', 'select * from sessions where sid = $1 and hsid = $2')).toContain('sessions_pk');
    expect(await planOf('a', 'select * from accounts where sid = $1 and accountid = $2')).toContain('accounts_pkey');
    // The otpref is still unique per server, now by its own index.
    await client.query(`insert into servers values ('srv-0001', 'n', '', 'pk', 'enc', 30, 0, 0, '[]', 1)`);
    const account = (id: string) => client.query(`insert into accounts (accountid, sid, auth_pk, pin_pk, otp_key_enc, otpref, description,
      client_version, userid, created, lastlogin, lastpin, pin_failures, blocked) values ('${id}', 'srv-0001', 'a', null, 'k', 7, 'd', 'v', null, 1, null, null, 0, 0)`);
    await account('acct-0001');
    await expect(account('acct-0002')).rejects.toMatchObject({ code: '23505' });
  } finally {
    await client.query(`DROP SCHEMA ${schema} CASCADE`);
    await client.end();
  }
});
