import { randomBytes } from 'node:crypto';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import pg from 'pg';
import { afterEach, expect, it } from 'vitest';
import { openDatabase } from './database.js';
import { migrate } from './migrations.js';

/** A database made by an earlier release keeps its rows when it is upgraded, and they get the new defaults. */

let sqlite: SQLite.Database;
let db: Kysely<unknown> | undefined;
afterEach(async () => {
  await db?.destroy();
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

// Before 0008, PostgreSQL planned these lookups on tables not yet analyzed with another index that begins with `sid`,
// and a prepared statement's generic plan then read every row of the server until the next analyze.
it.skipIf(!PG_URL)('0008: on PostgreSQL, key lookups keep to their own index, in generic and in custom plans', async () => {
  const schema = `tapin_test_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    db = (await openDatabase(PG_URL!, { schema })).db as Kysely<unknown>;
    await client.query(`SET search_path = ${schema}`);
    const planOf = async (mode: string, name: string, types: string, text: string) => {
      await client.query(`SET plan_cache_mode = ${mode}`);
      await client.query(`PREPARE ${name}_${mode}(${types}) AS ${text}`);
      return (await client.query(`EXPLAIN EXECUTE ${name}_${mode}('srv-0001', '7')`)).rows.map((r) => String(r['QUERY PLAN'])).join('\n');
    };
    for (const mode of ['force_generic_plan', 'force_custom_plan']) {
      expect(await planOf(mode, 's', 'varchar, varchar', 'select * from sessions where sid = $1 and hsid = $2')).toContain('sessions_pk');
      expect(await planOf(mode, 'a', 'varchar, varchar', 'select * from accounts where sid = $1 and accountid = $2')).toContain('accounts_pkey');
      expect(await planOf(mode, 'o', 'varchar, integer', 'select * from accounts where sid = $1 and otpref = $2')).toContain('accounts_otpref_sid');
    }
    // The otpref is still unique per server, now by its own index.
    await client.query(`insert into servers values ('srv-0001', 'n', '', 'pk', 'enc', 30, 0, 0, '[]', 1)`);
    const account = (id: string) => client.query(`insert into accounts (accountid, sid, auth_pk, pin_pk, otp_key_enc, otpref, description,
      client_version, userid, created, lastlogin, lastpin, pin_failures, blocked) values ('${id}', 'srv-0001', 'a', null, 'k', 7, 'd', 'v', null, 1, null, null, 0, 0)`);
    await account('acct-0001');
    await expect(account('acct-0002')).rejects.toMatchObject({ code: '23505' });
  } finally {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await client.end();
  }
});
