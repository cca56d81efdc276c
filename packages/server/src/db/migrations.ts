import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely';

/**
 * Schema migrations, run at every start. Written with Kysely's schema builder so the same steps produce
 * SQLite and PostgreSQL DDL. Append new migrations; never edit a released one.
 */
const migrations: Record<string, Migration> = {
  '0001_initial': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('servers')
        .addColumn('sid', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('name', 'varchar(128)', (c) => c.notNull())
        .addColumn('logo', 'text', (c) => c.notNull())
        .addColumn('public_key', 'text', (c) => c.notNull())
        .addColumn('private_key_enc', 'text', (c) => c.notNull())
        .addColumn('ping_time', 'integer', (c) => c.notNull())
        .addColumn('pin_timeout', 'integer', (c) => c.notNull())
        .addColumn('pin_trans_timeout', 'integer', (c) => c.notNull())
        .addColumn('server_flags', 'text', (c) => c.notNull())
        .addColumn('created', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('api_keys')
        .addColumn('keyid', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('sid', 'varchar(64)', (c) => c.notNull().references('servers.sid').onDelete('cascade'))
        .addColumn('hash', 'varchar(64)', (c) => c.notNull())
        .addColumn('created', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('enrol_tokens')
        .addColumn('token_hash', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('sid', 'varchar(64)', (c) => c.notNull().references('servers.sid').onDelete('cascade'))
        .addColumn('name', 'varchar(128)', (c) => c.notNull())
        .addColumn('userid', 'varchar(255)')
        .addColumn('expires', 'bigint', (c) => c.notNull())
        .addColumn('used', 'integer', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('accounts')
        .addColumn('accountid', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('sid', 'varchar(64)', (c) => c.notNull().references('servers.sid').onDelete('cascade'))
        .addColumn('auth_pk', 'text', (c) => c.notNull())
        .addColumn('pin_pk', 'text')
        .addColumn('otp_key_enc', 'text', (c) => c.notNull())
        .addColumn('otpref', 'integer', (c) => c.notNull())
        .addColumn('description', 'varchar(128)', (c) => c.notNull())
        .addColumn('client_version', 'varchar(64)', (c) => c.notNull())
        .addColumn('userid', 'varchar(255)')
        .addColumn('created', 'bigint', (c) => c.notNull())
        .addColumn('lastlogin', 'bigint')
        .addColumn('lastpin', 'bigint')
        .addColumn('pin_failures', 'integer', (c) => c.notNull())
        .addColumn('blocked', 'integer', (c) => c.notNull())
        .addUniqueConstraint('accounts_sid_otpref', ['sid', 'otpref'])
        .execute();
      await db.schema.createIndex('accounts_sid_userid').on('accounts').columns(['sid', 'userid']).execute();
      await db.schema
        .createTable('users')
        .addColumn('sid', 'varchar(64)', (c) => c.notNull().references('servers.sid').onDelete('cascade'))
        .addColumn('userid', 'varchar(255)', (c) => c.notNull())
        .addColumn('attributes', 'text', (c) => c.notNull())
        .addColumn('created', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('users_pk', ['sid', 'userid'])
        .execute();
      await db.schema
        .createTable('sessions')
        .addColumn('sid', 'varchar(64)', (c) => c.notNull())
        .addColumn('hsid', 'varchar(32)', (c) => c.notNull())
        .addColumn('state', 'varchar(16)', (c) => c.notNull())
        .addColumn('created', 'bigint', (c) => c.notNull())
        .addColumn('expires', 'bigint', (c) => c.notNull())
        .addColumn('updated', 'bigint', (c) => c.notNull())
        .addColumn('accountid', 'varchar(64)')
        .addColumn('userid', 'varchar(255)')
        .addColumn('otplogin', 'integer', (c) => c.notNull())
        .addColumn('challenge', 'varchar(64)')
        .addColumn('challenge_account', 'varchar(64)')
        .addColumn('challenge_expires', 'bigint')
        .addColumn('announceinfo', 'text')
        .addColumn('sessioninfo', 'text')
        .addColumn('proof', 'text')
        .addColumn('loggedin_at', 'bigint')
        .addPrimaryKeyConstraint('sessions_pk', ['sid', 'hsid'])
        .execute();
      await db.schema.createIndex('sessions_state_expires').on('sessions').columns(['state', 'expires']).execute();
      await db.schema
        .createTable('request_ids')
        .addColumn('reqid', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('expires', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('request_ids_expires').on('request_ids').column('expires').execute();
    },
  },
  // Offline-code limits (5 wrong per session, 10 per account per hour) and continuous authentication (pings).
  // One column per statement: SQLite's ALTER TABLE adds one at a time.
  '0002_otp_limits_and_pings': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('sessions').addColumn('otp_failures', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('sessions').addColumn('ping_deadline', 'bigint').execute();
      await db.schema.alterTable('accounts').addColumn('otp_failures', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('accounts').addColumn('otp_window', 'bigint').execute();
      // The sweeper looks for logged-in sessions past their deadline; blocking an account looks for its sessions.
      await db.schema.createIndex('sessions_state_ping_deadline').on('sessions').columns(['state', 'ping_deadline']).execute();
      await db.schema.createIndex('sessions_sid_accountid').on('sessions').columns(['sid', 'accountid']).execute();
    },
  },
  // Push login (DESIGN §8): a request per account a provoke reached, and per-user back-off / "not me" blocks.
  '0003_push_requests': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('push_requests')
        .addColumn('pushid', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('sid', 'varchar(64)', (c) => c.notNull().references('servers.sid').onDelete('cascade'))
        .addColumn('hsid', 'varchar(32)', (c) => c.notNull())
        .addColumn('accountid', 'varchar(64)', (c) => c.notNull())
        .addColumn('userkey', 'varchar(300)', (c) => c.notNull())
        .addColumn('number', 'integer')
        .addColumn('state', 'varchar(16)', (c) => c.notNull())
        .addColumn('created', 'bigint', (c) => c.notNull())
        .addColumn('expires', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('push_requests_account').on('push_requests').columns(['sid', 'accountid', 'state']).execute();
      await db.schema.createIndex('push_requests_session').on('push_requests').columns(['sid', 'hsid']).execute();
      await db.schema.createIndex('push_requests_user').on('push_requests').columns(['sid', 'userkey', 'state']).execute();
      await db.schema
        .createTable('push_limits')
        .addColumn('sid', 'varchar(64)', (c) => c.notNull().references('servers.sid').onDelete('cascade'))
        .addColumn('userkey', 'varchar(300)', (c) => c.notNull())
        .addColumn('next_allowed', 'bigint', (c) => c.notNull())
        .addColumn('interval_ms', 'bigint', (c) => c.notNull())
        .addColumn('last_provoke', 'bigint', (c) => c.notNull())
        .addColumn('blocked_until', 'bigint')
        .addPrimaryKeyConstraint('push_limits_pk', ['sid', 'userkey'])
        .execute();
    },
  },
  // Security events the business API lists (first: a push declined with "I did not try to log in").
  '0004_audit_events': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('audit_events')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('sid', 'varchar(64)', (c) => c.notNull().references('servers.sid').onDelete('cascade'))
        .addColumn('type', 'varchar(64)', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('userid', 'varchar(255)')
        .addColumn('accountid', 'varchar(64)')
        .addColumn('hsid', 'varchar(32)')
        .addColumn('blocked_until', 'bigint')
        .execute();
      await db.schema.createIndex('audit_events_sid_id').on('audit_events').columns(['sid', 'id']).execute();
    },
  },
  // Web Push (RFC 8030/8291/8292): the deployment's VAPID key pair, and the push subscriptions phones register.
  '0005_web_push': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('vapid_keys')
        .addColumn('id', 'varchar(16)', (c) => c.primaryKey())
        .addColumn('public_key', 'text', (c) => c.notNull())
        .addColumn('private_key_enc', 'text', (c) => c.notNull())
        .addColumn('created', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('push_subscriptions')
        .addColumn('endpoint', 'varchar(2048)', (c) => c.primaryKey())
        .addColumn('sid', 'varchar(64)', (c) => c.notNull().references('servers.sid').onDelete('cascade'))
        .addColumn('accountid', 'varchar(64)', (c) => c.notNull())
        .addColumn('p256dh', 'varchar(128)', (c) => c.notNull())
        .addColumn('auth', 'varchar(64)', (c) => c.notNull())
        .addColumn('created', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('push_subscriptions_account').on('push_subscriptions').columns(['sid', 'accountid']).execute();
    },
  },
  // Counters shared by every server process on this database (DESIGN §10): fixed-window failure counts per client IP
  // and the like, when no Redis is configured. One row per key, updated with a single atomic upsert.
  '0006_counters': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('counters')
        .addColumn('key', 'varchar(300)', (c) => c.primaryKey())
        .addColumn('window_start', 'bigint', (c) => c.notNull())
        .addColumn('count', 'integer', (c) => c.notNull())
        .execute();
      // The purge drops windows long over.
      await db.schema.createIndex('counters_window_start').on('counters').column('window_start').execute();
    },
  },
  // The authenticator app: where app-to-app logins may return to (JSON list) and the in-app login inactivity timeout (s).
  '0007_app_settings': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('servers').addColumn('return_urls', 'text', (c) => c.notNull().defaultTo('[]')).execute();
      await db.schema.alterTable('servers').addColumn('inactivity_timeout', 'integer', (c) => c.notNull().defaultTo(300)).execute();
    },
  },
  // On PostgreSQL, a lookup by primary key (`sid = $1 AND hsid = $2`, `sid = $1 AND accountid = $2`) could be
  // planned on another index that also begins with `sid`: on tables not yet analyzed every index looks as good, and a
  // prepared statement keeps that plan until the table is next analyzed, reading every row of the server (measured:
  // 1,460 rows per session lookup, 56 per account lookup, in a bench run). Secondary indexes that begin with the
  // column they are for leave the primary key the only index such a lookup can use; they serve their own queries as
  // well. (Listing a server's accounts, an admin call, now walks the primary key on PostgreSQL.)
  '0008_unambiguous_key_lookups': {
    async up(db: Kysely<unknown>) {
      // SQLite runs migrations outside a transaction: if-exists makes a step interrupted half-way safe to run again.
      await db.schema.dropIndex('sessions_sid_accountid').ifExists().execute();
      await db.schema.createIndex('sessions_accountid_sid').ifNotExists().on('sessions').columns(['accountid', 'sid']).execute();
      await db.schema.dropIndex('accounts_sid_userid').ifExists().execute();
      await db.schema.createIndex('accounts_userid_sid').ifNotExists().on('accounts').columns(['userid', 'sid']).execute();
      // The otpref's uniqueness per server too. SQLite cannot drop a table's constraint (nor does its planner need
      // it: it takes the primary key for these lookups), so only PostgreSQL, recognised by its `$1` placeholders.
      if (sql`select ${1}`.compile(db).sql.includes('$1')) {
        await sql`alter table accounts drop constraint accounts_sid_otpref`.execute(db);
        await db.schema.createIndex('accounts_otpref_sid').unique().on('accounts').columns(['otpref', 'sid']).execute();
      }
    },
  },
  // A revoked API key keeps its row, marked with when it was revoked: a back-end still sending it is told so, and its
  // calls do not count as guesses against its IP (which would lock out the back-end's current key too).
  '0009_api_key_revocation': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('api_keys').addColumn('revoked', 'bigint').execute();
    },
  },
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

/** Migrates to the latest schema, or up to and including `upTo` (tests use that to upgrade an old database). */
export async function migrate(db: Kysely<unknown>, upTo?: string): Promise<void> {
  const migrator = new Migrator({ db, provider });
  const { error, results } = upTo === undefined ? await migrator.migrateToLatest() : await migrator.migrateTo(upTo);
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    const reason = error instanceof Error ? error.message : String(error);
    // No migration ran at all: the database could not be reached or opened, which is what the operator must fix.
    if (!failed) throw new Error(`cannot open the database: ${reason}`);
    throw new Error(`database migration ${failed.migrationName} failed: ${reason}`);
  }
}
