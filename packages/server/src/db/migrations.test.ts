import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { afterEach, expect, it } from 'vitest';
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
