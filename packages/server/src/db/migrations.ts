import { type Kysely, type Migration, type MigrationProvider, Migrator } from 'kysely';

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
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

export async function migrate(db: Kysely<unknown>): Promise<void> {
  const { error, results } = await new Migrator({ db, provider }).migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
