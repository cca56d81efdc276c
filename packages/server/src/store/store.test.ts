import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../db/database.js';
import { KyselyStore } from './kysely-store.js';
import { type AccountRow, DuplicateKeyError, type ServerRow, type SessionRow, type Store } from './store.js';

/**
 * One suite for every Store implementation (DESIGN §10): SQLite always, PostgreSQL when TAPIN_TEST_POSTGRES_URL
 * names a database (each run gets a schema of its own, dropped afterwards).
 */

interface Opened {
  store: Store;
  /** PostgreSQL: the run's own schema. */
  schema?: string;
  dispose(): Promise<void>;
}

const PG_URL = process.env['TAPIN_TEST_POSTGRES_URL'];
if (!PG_URL) {
  console.warn(
    'store.test.ts: the PostgreSQL store suite is skipped. Set TAPIN_TEST_POSTGRES_URL (e.g. ' +
      'postgres://postgres@127.0.0.1:5432/test) to run it against a real database.',
  );
}

async function openSqlite(): Promise<Opened> {
  const store = new KyselyStore(await openDatabase(':memory:'));
  return { store, dispose: () => store.close() };
}

async function openPostgres(): Promise<Opened> {
  const url = PG_URL!;
  const schema = `tapin_test_${randomBytes(6).toString('hex')}`;
  const store = new KyselyStore(await openDatabase(url, { schema }));
  return {
    store,
    schema,
    async dispose() {
      await store.close();
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA ${schema} CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

// --- row factories -------------------------------------------------------------------------------------------

const T0 = 1_700_000_000_000;

function serverRow(sid: string, over: Partial<ServerRow> = {}): ServerRow {
  return {
    sid, name: `Server ${sid}`, logo: '', public_key: 'pk', private_key_enc: 'enc', ping_time: 0, pin_timeout: 0,
    pin_trans_timeout: 0, server_flags: '[]', created: T0, return_urls: '[]', inactivity_timeout: 300, ...over,
  };
}

let otprefs = 1;
function accountRow(sid: string, accountid: string, over: Partial<AccountRow> = {}): AccountRow {
  return {
    accountid, sid, auth_pk: 'authpk', pin_pk: 'pinpk', otp_key_enc: 'otpkey', otpref: otprefs++, description: 'phone',
    client_version: 'test/1', userid: null, created: T0, lastlogin: null, lastpin: null, pin_failures: 0, blocked: 0,
    otp_failures: 0, otp_window: null, ...over,
  };
}

function sessionRow(sid: string, hsid: string, over: Partial<SessionRow> = {}): SessionRow {
  return {
    sid, hsid, state: 'idle', created: T0, expires: T0 + 600_000, updated: T0, accountid: null, userid: null, otplogin: 0,
    challenge: null, challenge_account: null, challenge_expires: null, announceinfo: null, sessioninfo: null, proof: null,
    loggedin_at: null, otp_failures: 0, ping_deadline: null, ...over,
  };
}

const S1 = 'server-one';
const S2 = 'server-two';
const PENDING = ['idle', 'scanned', 'provoked'];
const hsid = (n: number) => `hsid-${String(n).padStart(17, '0')}`;

// --- the suite -----------------------------------------------------------------------------------------------

function storeSuite(name: string, open: () => Promise<Opened>): void {
  describe(`Store on ${name}`, () => {
    let opened: Opened;
    let store: Store;

    beforeEach(async () => {
      opened = await open();
      store = opened.store;
      await store.createServer(serverRow(S1, { created: T0 }));
      await store.createServer(serverRow(S2, { created: T0 + 1 }));
    });
    afterEach(async () => {
      await opened.dispose();
    });

    describe('servers', () => {
      it('creates, reads, lists in creation order and updates', async () => {
        expect(store.dialect).toBe(name === 'SQLite' ? 'sqlite' : 'postgres');
        await store.createServer(serverRow('server-zero', { created: T0 - 5 }));
        expect(await store.getServer(S1)).toEqual(serverRow(S1));
        expect(await store.getServer('no-such-server')).toBeUndefined();
        expect((await store.listServers()).map((s) => s.sid)).toEqual(['server-zero', S1, S2]);

        await store.updateServer(S1, { name: 'Renamed', ping_time: 30, pin_timeout: -1, server_flags: '["ENABLE_OTP"]' });
        expect(await store.getServer(S1)).toEqual(serverRow(S1, { name: 'Renamed', ping_time: 30, pin_timeout: -1, server_flags: '["ENABLE_OTP"]' }));
        // The other server is untouched; an empty patch is a no-op.
        expect(await store.getServer(S2)).toEqual(serverRow(S2, { created: T0 + 1 }));
        await store.updateServer(S1, {});
        expect((await store.getServer(S1))?.name).toBe('Renamed');
      });

      it('refuses a duplicate sid', async () => {
        await expect(store.createServer(serverRow(S1))).rejects.toThrow();
      });
    });

    describe('api keys', () => {
      it('stores a key by id and refuses a key for an unknown server', async () => {
        await store.createApiKey({ keyid: 'key-aaaaaaaaaaaa', sid: S1, hash: 'h1', created: T0 });
        expect(await store.getApiKey('key-aaaaaaaaaaaa')).toEqual({ keyid: 'key-aaaaaaaaaaaa', sid: S1, hash: 'h1', created: T0, revoked: null });
        expect(await store.getApiKey('key-bbbbbbbbbbbb')).toBeUndefined();
        await expect(store.createApiKey({ keyid: 'key-cccccccccccc', sid: 'no-such-server', hash: 'h', created: T0 })).rejects.toThrow();
        await expect(store.createApiKey({ keyid: 'key-aaaaaaaaaaaa', sid: S2, hash: 'h2', created: T0 })).rejects.toThrow();
        expect((await store.getApiKey('key-aaaaaaaaaaaa'))?.sid).toBe(S1);
      });

      it('lists a server\'s keys oldest first, without hashes, and revokes one only on its own server, once', async () => {
        await store.createApiKey({ keyid: 'key-bbbbbbbbbbbb', sid: S1, hash: 'h2', created: T0 + 1 });
        await store.createApiKey({ keyid: 'key-aaaaaaaaaaaa', sid: S1, hash: 'h1', created: T0 });
        await store.createApiKey({ keyid: 'key-cccccccccccc', sid: S2, hash: 'h3', created: T0 });
        expect(await store.listApiKeys(S1)).toEqual([
          { keyid: 'key-aaaaaaaaaaaa', created: T0, revoked: null }, { keyid: 'key-bbbbbbbbbbbb', created: T0 + 1, revoked: null },
        ]);
        expect(await store.revokeApiKey(S2, 'key-aaaaaaaaaaaa', T0 + 5)).toBe(false);
        expect(await store.revokeApiKey(S1, 'key-aaaaaaaaaaaa', T0 + 5)).toBe(true);
        expect(await store.revokeApiKey(S1, 'key-aaaaaaaaaaaa', T0 + 6)).toBe(false);
        expect(await store.getApiKey('key-aaaaaaaaaaaa')).toMatchObject({ sid: S1, revoked: T0 + 5 });
        expect((await store.listApiKeys(S1)).map((k) => k.revoked)).toEqual([T0 + 5, null]);
        expect(await store.listApiKeys(S2)).toEqual([{ keyid: 'key-cccccccccccc', created: T0, revoked: null }]);
      });
    });

    describe('enrol tokens', () => {
      const token = (token_hash: string, expires = T0 + 600_000) => ({ token_hash, sid: S1, name: 'Phone', userid: 'alice', expires, used: 0 });

      it('consumes a token exactly once', async () => {
        await store.createEnrolToken(token('tok-1'));
        expect(await store.getEnrolToken('tok-1')).toEqual(token('tok-1'));
        expect(await store.consumeEnrolToken('tok-1', T0)).toBe(true);
        expect(await store.consumeEnrolToken('tok-1', T0)).toBe(false);
        expect((await store.getEnrolToken('tok-1'))?.used).toBe(1);
        expect(await store.consumeEnrolToken('tok-unknown', T0)).toBe(false);
      });

      it('lets only one of several concurrent consumers win', async () => {
        await store.createEnrolToken(token('tok-race'));
        const results = await Promise.all(Array.from({ length: 8 }, () => store.consumeEnrolToken('tok-race', T0)));
        expect(results.filter(Boolean)).toHaveLength(1);
      });

      it('respects the expiry (a token is dead at its expiry instant)', async () => {
        await store.createEnrolToken(token('tok-2', T0 + 1000));
        expect(await store.consumeEnrolToken('tok-2', T0 + 1000)).toBe(false);
        expect(await store.consumeEnrolToken('tok-2', T0 + 5000)).toBe(false);
        expect((await store.getEnrolToken('tok-2'))?.used).toBe(0);
        expect(await store.consumeEnrolToken('tok-2', T0 + 999)).toBe(true);
      });
    });

    describe('accounts', () => {
      it('creates and reads an account, scoped by server', async () => {
        const row = accountRow(S1, 'acct-0001', { userid: 'alice', lastlogin: T0 + 5, lastpin: T0 + 6 });
        await store.createAccount(row);
        expect(await store.getAccount(S1, 'acct-0001')).toEqual(row);
        expect(await store.getAccount(S2, 'acct-0001')).toBeUndefined();
        expect(await store.getAccount(S1, 'acct-0002')).toBeUndefined();
        // A headless account keeps pin_pk null.
        await store.createAccount(accountRow(S1, 'acct-0002', { pin_pk: null }));
        expect((await store.getAccount(S1, 'acct-0002'))?.pin_pk).toBeNull();
      });

      it('refuses a duplicate otpref on the same server with DuplicateKeyError, and allows it on another', async () => {
        await store.createAccount(accountRow(S1, 'acct-0001', { otpref: 12345 }));
        const err = await store.createAccount(accountRow(S1, 'acct-0002', { otpref: 12345 })).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(DuplicateKeyError);
        expect(await store.getAccount(S1, 'acct-0002')).toBeUndefined();
        await store.createAccount(accountRow(S2, 'acct-0003', { otpref: 12345 }));
        expect((await store.getAccount(S2, 'acct-0003'))?.otpref).toBe(12345);
        // A duplicate account id is a duplicate key too.
        await expect(store.createAccount(accountRow(S2, 'acct-0001'))).rejects.toBeInstanceOf(DuplicateKeyError);
      });

      it('refuses an account for an unknown server, and not as a DuplicateKeyError', async () => {
        const err = await store.createAccount(accountRow('no-such-server', 'acct-0009')).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(Error);
        expect(err).not.toBeInstanceOf(DuplicateKeyError);
      });

      it('lists in pages with limit and marker, per server and per user', async () => {
        const ids = ['acct-0001', 'acct-0002', 'acct-0003', 'acct-0004', 'acct-0005'];
        // Inserted out of order: the order is by account id.
        for (const id of [...ids].reverse()) await store.createAccount(accountRow(S1, id, { userid: id <= 'acct-0002' ? 'alice' : null }));
        await store.createAccount(accountRow(S2, 'acct-0000'));

        const p1 = await store.listAccounts(S1, { limit: 2 });
        expect(p1.items.map((a) => a.accountid)).toEqual(['acct-0001', 'acct-0002']);
        expect(p1.marker).toBe('acct-0002');
        const p2 = await store.listAccounts(S1, { limit: 2, marker: p1.marker! });
        expect(p2.items.map((a) => a.accountid)).toEqual(['acct-0003', 'acct-0004']);
        expect(p2.marker).toBe('acct-0004');
        const p3 = await store.listAccounts(S1, { limit: 2, marker: p2.marker! });
        expect(p3.items.map((a) => a.accountid)).toEqual(['acct-0005']);
        expect(p3.marker).toBeNull();

        // A page that ends exactly at the last row says so.
        const exact = await store.listAccounts(S1, { limit: 5 });
        expect(exact.items).toHaveLength(5);
        expect(exact.marker).toBeNull();
        const afterFour = await store.listAccounts(S1, { limit: 1, marker: 'acct-0004' });
        expect(afterFour).toEqual({ items: [expect.objectContaining({ accountid: 'acct-0005' })], marker: null });
        expect(await store.listAccounts(S1, { limit: 10, marker: 'acct-0005' })).toEqual({ items: [], marker: null });

        const alice = await store.listAccounts(S1, { limit: 1, userid: 'alice' });
        expect(alice.items.map((a) => a.accountid)).toEqual(['acct-0001']);
        const alice2 = await store.listAccounts(S1, { limit: 1, userid: 'alice', marker: alice.marker! });
        expect(alice2).toEqual({ items: [expect.objectContaining({ accountid: 'acct-0002' })], marker: null });
        expect((await store.listAccounts(S2, { limit: 10 })).items.map((a) => a.accountid)).toEqual(['acct-0000']);
        expect(await store.listAccounts(S2, { limit: 10, userid: 'alice' })).toEqual({ items: [], marker: null });
      });

      it('updates an account and reports whether it existed', async () => {
        await store.createAccount(accountRow(S1, 'acct-0001'));
        expect(await store.updateAccount(S1, 'acct-0001', { blocked: 1, userid: 'bob', lastlogin: T0 + 1 })).toBe(true);
        expect(await store.getAccount(S1, 'acct-0001')).toMatchObject({ blocked: 1, userid: 'bob', lastlogin: T0 + 1 });
        expect(await store.updateAccount(S2, 'acct-0001', { blocked: 0 })).toBe(false);
        expect(await store.updateAccount(S1, 'acct-9999', { blocked: 0 })).toBe(false);
        expect((await store.getAccount(S1, 'acct-0001'))?.blocked).toBe(1);
      });

      it('recordPinFailure counts wrong PINs and blocks at the fifth', async () => {
        await store.createAccount(accountRow(S1, 'acct-0001'));
        await store.createAccount(accountRow(S1, 'acct-0002'));
        for (let n = 1; n <= 4; n++) {
          expect(await store.recordPinFailure(S1, 'acct-0001', 5)).toBe(n);
          expect(await store.getAccount(S1, 'acct-0001')).toMatchObject({ pin_failures: n, blocked: 0 });
        }
        expect(await store.recordPinFailure(S1, 'acct-0001', 5)).toBe(5);
        expect(await store.getAccount(S1, 'acct-0001')).toMatchObject({ pin_failures: 5, blocked: 1 });
        // Further failures keep it blocked; other accounts are untouched.
        expect(await store.recordPinFailure(S1, 'acct-0001', 5)).toBe(6);
        expect((await store.getAccount(S1, 'acct-0001'))?.blocked).toBe(1);
        expect(await store.getAccount(S1, 'acct-0002')).toMatchObject({ pin_failures: 0, blocked: 0 });
        // An unknown account reports the maximum (nothing to count against).
        expect(await store.recordPinFailure(S1, 'acct-9999', 5)).toBe(5);
      });

      it('recordPinFailure keeps an account blocked by an administrator blocked', async () => {
        await store.createAccount(accountRow(S1, 'acct-0001', { blocked: 1 }));
        expect(await store.recordPinFailure(S1, 'acct-0001', 5)).toBe(1);
        expect((await store.getAccount(S1, 'acct-0001'))?.blocked).toBe(1);
      });

      it('counts concurrent wrong PINs without losing any', async () => {
        await store.createAccount(accountRow(S1, 'acct-0001'));
        const counts = await Promise.all(Array.from({ length: 5 }, () => store.recordPinFailure(S1, 'acct-0001', 5)));
        expect([...counts].sort()).toEqual([1, 2, 3, 4, 5]);
        expect(await store.getAccount(S1, 'acct-0001')).toMatchObject({ pin_failures: 5, blocked: 1 });
      });

      it('deletes one account, or all accounts of a user', async () => {
        await store.createAccount(accountRow(S1, 'acct-0001', { userid: 'alice' }));
        await store.createAccount(accountRow(S1, 'acct-0002', { userid: 'alice' }));
        await store.createAccount(accountRow(S1, 'acct-0003', { userid: 'bob' }));
        await store.createAccount(accountRow(S2, 'acct-0004', { userid: 'alice' }));

        expect(await store.deleteAccount(S2, 'acct-0003')).toBe(false);
        expect(await store.deleteAccount(S1, 'acct-0003')).toBe(true);
        expect(await store.deleteAccount(S1, 'acct-0003')).toBe(false);
        expect(await store.getAccount(S1, 'acct-0003')).toBeUndefined();

        expect((await store.deleteAccountsOfUser(S1, 'alice')).sort()).toEqual(['acct-0001', 'acct-0002']);
        expect((await store.listAccounts(S1, { limit: 10 })).items).toEqual([]);
        // Same userid on another server is another user.
        expect(await store.getAccount(S2, 'acct-0004')).toBeDefined();
        expect(await store.deleteAccountsOfUser(S1, 'alice')).toEqual([]);
      });
    });

    describe('offline-code limits of accounts', () => {
      const HOUR = 3_600_000;

      it('findAccountByOtpref finds the account by its otpref, on its own server only', async () => {
        await store.createAccount(accountRow(S1, 'acct-0001', { otpref: 777 }));
        await store.createAccount(accountRow(S2, 'acct-0002', { otpref: 888 }));
        expect((await store.findAccountByOtpref(S1, 777))?.accountid).toBe('acct-0001');
        expect(await store.findAccountByOtpref(S2, 777)).toBeUndefined();
        expect(await store.findAccountByOtpref(S1, 888)).toBeUndefined();
        expect(await store.findAccountByOtpref(S1, 0)).toBeUndefined();
      });

      it('takeAccountOtpAttempt counts up to the maximum in a window that begins at the first attempt', async () => {
        await store.createAccount(accountRow(S1, 'acct-0001'));
        await store.createAccount(accountRow(S1, 'acct-0002'));
        for (let n = 1; n <= 10; n++) {
          expect(await store.takeAccountOtpAttempt(S1, 'acct-0001', T0 + n, HOUR, 10)).toEqual({ count: n, window: T0 + 1 });
        }
        // The eleventh in the same window is refused, and changes nothing.
        expect(await store.takeAccountOtpAttempt(S1, 'acct-0001', T0 + HOUR, HOUR, 10)).toBeUndefined();
        expect(await store.getAccount(S1, 'acct-0001')).toMatchObject({ otp_failures: 10, otp_window: T0 + 1 });
        // Another account has its own count; an unknown account has none to take.
        expect(await store.takeAccountOtpAttempt(S1, 'acct-0002', T0 + 5, HOUR, 10)).toEqual({ count: 1, window: T0 + 5 });
        expect(await store.takeAccountOtpAttempt(S1, 'acct-9999', T0, HOUR, 10)).toBeUndefined();
        expect(await store.takeAccountOtpAttempt(S2, 'acct-0001', T0, HOUR, 10)).toBeUndefined();
        // When the window is over, a new one begins with this attempt.
        expect(await store.takeAccountOtpAttempt(S1, 'acct-0001', T0 + 1 + HOUR, HOUR, 10)).toEqual({ count: 1, window: T0 + 1 + HOUR });
        expect(await store.getAccount(S1, 'acct-0001')).toMatchObject({ otp_failures: 1, otp_window: T0 + 1 + HOUR });
      });

      it('returnAccountOtpAttempt gives an attempt back into its own window only', async () => {
        await store.createAccount(accountRow(S1, 'acct-0001'));
        const first = await store.takeAccountOtpAttempt(S1, 'acct-0001', T0, HOUR, 10);
        await store.takeAccountOtpAttempt(S1, 'acct-0001', T0 + 1, HOUR, 10);
        await store.returnAccountOtpAttempt(S1, 'acct-0001', first!.window);
        expect(await store.getAccount(S1, 'acct-0001')).toMatchObject({ otp_failures: 1, otp_window: T0 });
        // A window that has been replaced gets nothing back; the count never goes below zero.
        await store.takeAccountOtpAttempt(S1, 'acct-0001', T0 + HOUR, HOUR, 10);
        await store.returnAccountOtpAttempt(S1, 'acct-0001', T0);
        expect(await store.getAccount(S1, 'acct-0001')).toMatchObject({ otp_failures: 1, otp_window: T0 + HOUR });
        await store.returnAccountOtpAttempt(S1, 'acct-0001', T0 + HOUR);
        await store.returnAccountOtpAttempt(S1, 'acct-0001', T0 + HOUR);
        expect(await store.getAccount(S1, 'acct-0001')).toMatchObject({ otp_failures: 0, otp_window: T0 + HOUR });
      });

      it('returnAccountOtpAttempt with a login time records it in the same step, into its own window only', async () => {
        await store.createAccount(accountRow(S1, 'acct-0001'));
        const first = await store.takeAccountOtpAttempt(S1, 'acct-0001', T0, HOUR, 10);
        await store.returnAccountOtpAttempt(S1, 'acct-0001', first!.window, T0 + 5);
        expect(await store.getAccount(S1, 'acct-0001')).toMatchObject({ otp_failures: 0, otp_window: T0, lastlogin: T0 + 5 });
        // Nothing left to give back: the count stays at zero, the login time is still recorded.
        await store.returnAccountOtpAttempt(S1, 'acct-0001', T0, T0 + 6);
        expect(await store.getAccount(S1, 'acct-0001')).toMatchObject({ otp_failures: 0, lastlogin: T0 + 6 });
        await store.takeAccountOtpAttempt(S1, 'acct-0001', T0 + HOUR, HOUR, 10);
        await store.returnAccountOtpAttempt(S1, 'acct-0001', T0, T0 + HOUR + 1);
        expect(await store.getAccount(S1, 'acct-0001')).toMatchObject({ otp_failures: 1, otp_window: T0 + HOUR, lastlogin: T0 + HOUR + 1 });
      });

      it('lets no more than the maximum of many concurrent attempts through', async () => {
        await store.createAccount(accountRow(S1, 'acct-0001'));
        const taken = await Promise.all(Array.from({ length: 25 }, () => store.takeAccountOtpAttempt(S1, 'acct-0001', T0, HOUR, 10)));
        expect(taken.filter(Boolean).map((a) => a!.count).sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        expect((await store.getAccount(S1, 'acct-0001'))?.otp_failures).toBe(10);
      });
    });

    describe('users', () => {
      it('ensureUser creates once and never overwrites attributes', async () => {
        await store.ensureUser(S1, 'alice', T0);
        expect(await store.getUser(S1, 'alice')).toEqual({ sid: S1, userid: 'alice', attributes: '{}', created: T0, accounts: 0 });
        expect(await store.setUserAttributes(S1, 'alice', '{"team":"red"}')).toBe(true);
        await store.ensureUser(S1, 'alice', T0 + 99);
        expect(await store.getUser(S1, 'alice')).toEqual({ sid: S1, userid: 'alice', attributes: '{"team":"red"}', created: T0, accounts: 0 });
        expect(await store.getUser(S2, 'alice')).toBeUndefined();
        expect(await store.setUserAttributes(S1, 'nobody', '{}')).toBe(false);
        expect(await store.getUser(S1, 'nobody')).toBeUndefined();
      });

      it('counts the accounts assigned to a user (on its own server only)', async () => {
        await store.ensureUser(S1, 'alice', T0);
        await store.ensureUser(S2, 'alice', T0);
        await store.createAccount(accountRow(S1, 'acct-0001', { userid: 'alice' }));
        await store.createAccount(accountRow(S1, 'acct-0002', { userid: 'alice' }));
        await store.createAccount(accountRow(S2, 'acct-0003', { userid: 'alice' }));
        const user = await store.getUser(S1, 'alice');
        expect(user?.accounts).toBe(2);
        expect(typeof user?.accounts).toBe('number');
        expect((await store.getUser(S2, 'alice'))?.accounts).toBe(1);
        expect((await store.listUsers(S1, { limit: 10 })).items).toEqual([expect.objectContaining({ userid: 'alice', accounts: 2 })]);
      });

      it('lists in pages with limit and marker', async () => {
        for (const u of ['dave', 'alice', 'carol', 'bob', 'erin']) await store.ensureUser(S1, u, T0);
        await store.ensureUser(S2, 'zed', T0);
        const p1 = await store.listUsers(S1, { limit: 2 });
        expect(p1.items.map((u) => u.userid)).toEqual(['alice', 'bob']);
        expect(p1.marker).toBe('bob');
        const p2 = await store.listUsers(S1, { limit: 2, marker: 'bob' });
        expect(p2.items.map((u) => u.userid)).toEqual(['carol', 'dave']);
        const p3 = await store.listUsers(S1, { limit: 2, marker: p2.marker! });
        expect(p3.items.map((u) => u.userid)).toEqual(['erin']);
        expect(p3.marker).toBeNull();
        expect(await store.listUsers(S1, { limit: 5 })).toMatchObject({ marker: null });
      });

      it('searches by substring, matching %, _ and \\ literally', async () => {
        const users = ['a%b', 'axb', 'a_c', 'abc', 'back\\slash', 'backslash', '100%', '1000', 'x_y_z', 'xayaz'];
        for (const u of users) await store.ensureUser(S1, u, T0);
        const search = async (text: string, limit = 100, marker?: string) =>
          (await store.listUsers(S1, { limit, search: text, marker })).items.map((u) => u.userid);

        expect(await search('%')).toEqual(['100%', 'a%b']);
        expect(await search('a%b')).toEqual(['a%b']);
        expect(await search('_')).toEqual(['a_c', 'x_y_z']);
        expect(await search('a_c')).toEqual(['a_c']);
        expect(await search('_y_')).toEqual(['x_y_z']);
        expect(await search('0%')).toEqual(['100%']);
        expect(await search('\\')).toEqual(['back\\slash']);
        expect(await search('k\\s')).toEqual(['back\\slash']);
        expect(await search('ab')).toEqual(['abc']);
        expect(await search('nothing')).toEqual([]);
        // Search and pagination combine.
        const first = await store.listUsers(S1, { limit: 1, search: 'a' });
        expect(first.items.map((u) => u.userid)).toEqual(['a%b']);
        expect(await search('a', 2, first.marker!)).toEqual(['a_c', 'abc']);
      });

      it('deleteUser removes the user and unassigns (but keeps) its accounts', async () => {
        await store.ensureUser(S1, 'alice', T0);
        await store.ensureUser(S1, 'bob', T0);
        await store.createAccount(accountRow(S1, 'acct-0001', { userid: 'alice' }));
        await store.createAccount(accountRow(S1, 'acct-0002', { userid: 'bob' }));
        expect(await store.deleteUser(S1, 'alice')).toBe(true);
        expect(await store.getUser(S1, 'alice')).toBeUndefined();
        expect(await store.getAccount(S1, 'acct-0001')).toMatchObject({ userid: null });
        expect(await store.getAccount(S1, 'acct-0002')).toMatchObject({ userid: 'bob' });
        expect(await store.deleteUser(S1, 'alice')).toBe(false);
        expect(await store.deleteUser(S2, 'bob')).toBe(false);
        expect((await store.getUser(S1, 'bob'))?.accounts).toBe(1);
      });
    });

    describe('sessions', () => {
      it('ensureSession inserts once and returns the stored row afterwards', async () => {
        const first = sessionRow(S1, hsid(1));
        expect(await store.ensureSession(first)).toEqual(first);
        // A second, different row for the same key does not overwrite the first.
        const again = await store.ensureSession(sessionRow(S1, hsid(1), { state: 'loggedin', created: T0 + 5, expires: T0 + 9 }));
        expect(again).toEqual(first);
        expect(await store.getSession(S1, hsid(1))).toEqual(first);
        // The same hsid on another server is another session.
        expect(await store.getSession(S2, hsid(1))).toBeUndefined();
        expect(await store.ensureSession(sessionRow(S2, hsid(1), { created: T0 + 1 }))).toMatchObject({ sid: S2, created: T0 + 1 });
      });

      it('insertSession inserts a new session and changes nothing when it exists', async () => {
        const first = sessionRow(S1, hsid(4), { announceinfo: '{"a":1}' });
        expect(await store.insertSession(first)).toEqual(first);
        expect(await store.insertSession(sessionRow(S1, hsid(4), { announceinfo: '{"b":2}', created: T0 + 7 }))).toBeUndefined();
        expect(await store.getSession(S1, hsid(4))).toEqual(first);
      });

      it('openChallenge: idle becomes scanned, provoked stays provoked; refuses what is missing, expired or no longer pending', async () => {
        const pending = ['idle', 'scanned', 'provoked'] as const;
        const opening = (n: number) => ({ challenge: `ch-${n}`, challenge_account: 'acct-0001', challenge_expires: T0 + 120_000, updated: T0 + n });
        await store.ensureSession(sessionRow(S1, hsid(5)));
        expect(await store.openChallenge(S1, hsid(5), opening(1), pending)).toMatchObject({ state: 'scanned', challenge: 'ch-1', challenge_account: 'acct-0001', updated: T0 + 1 });
        // A second scan replaces the challenge and keeps the state.
        expect(await store.openChallenge(S1, hsid(5), opening(2), pending)).toMatchObject({ state: 'scanned', challenge: 'ch-2' });
        expect(await store.getSession(S1, hsid(5))).toMatchObject({ state: 'scanned', challenge: 'ch-2' });

        await store.ensureSession(sessionRow(S1, hsid(6), { state: 'provoked' }));
        expect(await store.openChallenge(S1, hsid(6), opening(3), pending)).toMatchObject({ state: 'provoked', challenge: 'ch-3' });

        await store.ensureSession(sessionRow(S1, hsid(7), { state: 'loggedin' }));
        expect(await store.openChallenge(S1, hsid(7), opening(4), pending)).toBeUndefined();
        expect(await store.getSession(S1, hsid(7))).toMatchObject({ state: 'loggedin', challenge: null });

        await store.ensureSession(sessionRow(S1, hsid(8), { expires: T0 + 10 }));
        expect(await store.openChallenge(S1, hsid(8), opening(10), pending)).toBeUndefined();
        expect(await store.getSession(S1, hsid(8))).toMatchObject({ state: 'idle', challenge: null });
        expect(await store.openChallenge(S1, hsid(9), opening(5), pending)).toBeUndefined();
        expect(await store.getSession(S1, hsid(9))).toBeUndefined();
      });

      it('ensureSession is safe under concurrent first use', async () => {
        const rows = await Promise.all(Array.from({ length: 6 }, (_, i) => store.ensureSession(sessionRow(S1, hsid(2), { created: T0 + i }))));
        const created = rows[0]!.created;
        for (const row of rows) expect(row.created).toBe(created);
      });

      it('updateSession applies a patch, unguarded or guarded by state and challenge', async () => {
        await store.ensureSession(sessionRow(S1, hsid(1)));
        expect(await store.updateSession(S1, hsid(1), { state: 'scanned', challenge: 'ch-1', challenge_account: 'acct-0001', challenge_expires: T0 + 10 })).toBe(true);
        const scanned = await store.getSession(S1, hsid(1));
        expect(scanned).toMatchObject({ state: 'scanned', challenge: 'ch-1', challenge_account: 'acct-0001', challenge_expires: T0 + 10 });

        // State guard not met: nothing changes.
        expect(await store.updateSession(S1, hsid(1), { state: 'loggedin' }, { states: ['idle'] })).toBe(false);
        // Challenge guard not met: nothing changes.
        expect(await store.updateSession(S1, hsid(1), { state: 'loggedin' }, { states: ['scanned'], challenge: 'ch-other' })).toBe(false);
        expect(await store.getSession(S1, hsid(1))).toEqual(scanned);

        // Both guards met.
        expect(await store.updateSession(S1, hsid(1), { state: 'loggedin', challenge: null, proof: '{}' }, { states: ['idle', 'scanned'], challenge: 'ch-1' })).toBe(true);
        expect(await store.getSession(S1, hsid(1))).toMatchObject({ state: 'loggedin', challenge: null, proof: '{}' });
        // The challenge is gone: the same guarded update cannot happen twice.
        expect(await store.updateSession(S1, hsid(1), { state: 'cancelled' }, { challenge: 'ch-1' })).toBe(false);
        expect((await store.getSession(S1, hsid(1)))?.state).toBe('loggedin');

        // Unknown sessions are not created by an update.
        expect(await store.updateSession(S1, hsid(9), { state: 'idle' })).toBe(false);
        expect(await store.getSession(S1, hsid(9))).toBeUndefined();
        expect(await store.updateSession(S2, hsid(1), { state: 'idle' })).toBe(false);
      });

      it('lets only one of several concurrent guarded updates win', async () => {
        await store.ensureSession(sessionRow(S1, hsid(3), { state: 'scanned', challenge: 'ch-race' }));
        const results = await Promise.all(
          Array.from({ length: 6 }, (_, i) => store.updateSession(S1, hsid(3), { state: 'loggedin', challenge: null, proof: `p${i}` }, { states: ['scanned'], challenge: 'ch-race' })),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
      });

      it('expireSessions marks overdue pending sessions expired and returns exactly those', async () => {
        const now = T0 + 1_000_000;
        await store.ensureSession(sessionRow(S1, hsid(1), { state: 'idle', expires: now - 1 }));
        await store.ensureSession(sessionRow(S1, hsid(2), { state: 'scanned', expires: now, challenge: 'ch' }));
        await store.ensureSession(sessionRow(S2, hsid(3), { state: 'provoked', expires: now - 100 }));
        await store.ensureSession(sessionRow(S1, hsid(4), { state: 'idle', expires: now + 1 }));
        await store.ensureSession(sessionRow(S1, hsid(5), { state: 'loggedin', expires: now - 1 }));
        await store.ensureSession(sessionRow(S1, hsid(6), { state: 'cancelled', expires: now - 1 }));

        const expired = await store.expireSessions(now, ['idle', 'scanned', 'provoked']);
        const key = (s: { sid: string; hsid: string }) => `${s.sid}/${s.hsid}`;
        expect(expired.map(key).sort()).toEqual([`${S1}/${hsid(1)}`, `${S1}/${hsid(2)}`, `${S2}/${hsid(3)}`]);
        expect(await store.getSession(S1, hsid(2))).toMatchObject({ state: 'expired', updated: now, challenge: null });
        expect(await store.getSession(S2, hsid(3))).toMatchObject({ state: 'expired', updated: now });
        expect((await store.getSession(S1, hsid(4)))?.state).toBe('idle');
        expect((await store.getSession(S1, hsid(5)))?.state).toBe('loggedin');
        expect((await store.getSession(S1, hsid(6)))?.state).toBe('cancelled');
        // Already expired ones are not returned again.
        expect(await store.expireSessions(now, ['idle', 'scanned', 'provoked'])).toEqual([]);
        expect(await store.expireSessions(now + 1, ['idle', 'scanned', 'provoked'])).toEqual([{ sid: S1, hsid: hsid(4) }]);
      });
    });

    describe('offline-code limits and endings of sessions', () => {
      it('takeSessionOtpAttempt counts up to the maximum, per session, also under concurrency', async () => {
        const take = (sid: string, n: number) => store.takeSessionOtpAttempt(sessionRow(sid, hsid(n)), 5, T0, PENDING);
        await store.ensureSession(sessionRow(S1, hsid(1)));
        await store.ensureSession(sessionRow(S1, hsid(2)));
        for (let n = 1; n <= 5; n++) expect((await take(S1, 1))?.otp_failures).toBe(n);
        expect(await take(S1, 1)).toBeUndefined();
        expect((await store.getSession(S1, hsid(1)))?.otp_failures).toBe(5);
        // The same hsid on another server is another session.
        expect((await take(S2, 1))?.otp_failures).toBe(1);
        const taken = await Promise.all(Array.from({ length: 12 }, () => take(S1, 2)));
        expect(taken.filter((r) => r !== undefined).map((r) => r!.otp_failures).sort()).toEqual([1, 2, 3, 4, 5]);
      });

      it('takeSessionOtpAttempt creates a missing session with its first attempt taken, and returns the whole row', async () => {
        const fresh = sessionRow(S1, hsid(9), { announceinfo: null });
        expect(await store.takeSessionOtpAttempt(fresh, 5, T0, PENDING)).toEqual({ ...fresh, otp_failures: 1 });
        expect(await store.getSession(S1, hsid(9))).toEqual({ ...fresh, otp_failures: 1 });
        // Concurrent first calls: one creates, the others count on the row it made.
        const racing = await Promise.all(Array.from({ length: 8 }, () => store.takeSessionOtpAttempt(sessionRow(S1, hsid(8)), 5, T0, PENDING)));
        expect(racing.filter((r) => r !== undefined).map((r) => r!.otp_failures).sort()).toEqual([1, 2, 3, 4, 5]);
      });

      it('takeSessionOtpAttempt takes nothing from a session that is not pending or has expired', async () => {
        await store.ensureSession(sessionRow(S1, hsid(1), { state: 'loggedin' }));
        await store.ensureSession(sessionRow(S1, hsid(2), { state: 'scanned', expires: T0 }));
        await store.ensureSession(sessionRow(S1, hsid(3), { state: 'provoked' }));
        expect(await store.takeSessionOtpAttempt(sessionRow(S1, hsid(1)), 5, T0, PENDING)).toBeUndefined();
        expect(await store.takeSessionOtpAttempt(sessionRow(S1, hsid(2)), 5, T0, PENDING)).toBeUndefined();
        expect((await store.takeSessionOtpAttempt(sessionRow(S1, hsid(2)), 5, T0 - 1, PENDING))?.otp_failures).toBe(1);
        expect((await store.takeSessionOtpAttempt(sessionRow(S1, hsid(3)), 5, T0, PENDING))?.state).toBe('provoked');
        expect((await store.getSession(S1, hsid(1)))).toMatchObject({ state: 'loggedin', otp_failures: 0 });
      });

      it('updateSession guards by account, by a deadline not yet passed, and by an active account', async () => {
        await store.createAccount(accountRow(S1, 'acct-0001'));
        await store.createAccount(accountRow(S1, 'acct-0002', { blocked: 1 }));
        await store.ensureSession(sessionRow(S1, hsid(1), { state: 'loggedin', accountid: 'acct-0001', ping_deadline: T0 + 100 }));
        expect(await store.updateSession(S1, hsid(1), { ping_deadline: T0 + 500 }, { accountid: 'acct-0002' })).toBe(false);
        expect(await store.updateSession(S1, hsid(1), { ping_deadline: T0 + 500 }, { aliveAt: T0 + 100 })).toBe(false);
        expect((await store.getSession(S1, hsid(1)))?.ping_deadline).toBe(T0 + 100);
        expect(await store.updateSession(S1, hsid(1), { ping_deadline: T0 + 500 }, { accountid: 'acct-0001', aliveAt: T0 + 99, states: ['loggedin'] })).toBe(true);
        expect((await store.getSession(S1, hsid(1)))?.ping_deadline).toBe(T0 + 500);
        // No deadline (one-shot) is always alive.
        await store.ensureSession(sessionRow(S1, hsid(2), { state: 'loggedin', accountid: 'acct-0001' }));
        expect(await store.updateSession(S1, hsid(2), { updated: T0 + 1 }, { aliveAt: T0 + 10 ** 9 })).toBe(true);

        await store.ensureSession(sessionRow(S1, hsid(3)));
        expect(await store.updateSession(S1, hsid(3), { state: 'loggedin' }, { activeAccount: 'acct-0002' })).toBe(false);
        expect(await store.updateSession(S1, hsid(3), { state: 'loggedin' }, { activeAccount: 'acct-9999' })).toBe(false);
        expect(await store.updateSession(S2, hsid(3), { state: 'loggedin' }, { activeAccount: 'acct-0001' })).toBe(false);
        expect((await store.getSession(S1, hsid(3)))?.state).toBe('idle');
        expect(await store.updateSession(S1, hsid(3), { state: 'loggedin' }, { activeAccount: 'acct-0001' })).toBe(true);
      });

      it('getAccountAndSession reads both rows as getAccount and getSession do, each missing one as undefined', async () => {
        const account = accountRow(S1, 'acct-0001', { userid: 'alice', lastlogin: T0 + 5, pin_pk: null });
        await store.createAccount(account);
        const session = sessionRow(S1, hsid(1), { state: 'scanned', challenge: 'c1', challenge_account: 'acct-0001', challenge_expires: T0 + 120_000, announceinfo: '{"a":"b"}' });
        await store.ensureSession(session);
        const both = await store.getAccountAndSession(S1, 'acct-0001', hsid(1));
        expect(both.account).toStrictEqual(await store.getAccount(S1, 'acct-0001'));
        expect(both.session).toStrictEqual(await store.getSession(S1, hsid(1)));
        expect(both).toStrictEqual({ account, session });
        expect(await store.getAccountAndSession(S1, 'acct-9999', hsid(1))).toStrictEqual({ account: undefined, session });
        expect(await store.getAccountAndSession(S1, 'acct-0001', hsid(2))).toStrictEqual({ account, session: undefined });
        // Both keys are scoped by server.
        expect(await store.getAccountAndSession(S2, 'acct-0001', hsid(1))).toStrictEqual({ account: undefined, session: undefined });
      });

      it('updateSessionAndAccount patches the account only when the guarded session update won', async () => {
        await store.createAccount(accountRow(S1, 'acct-0001'));
        await store.createAccount(accountRow(S1, 'acct-0002', { blocked: 1 }));
        await store.ensureSession(sessionRow(S1, hsid(1), { state: 'scanned', challenge: 'c1' }));
        const login = { state: 'loggedin', accountid: 'acct-0001', loggedin_at: T0 + 9, challenge: null };
        const accountPatch = { lastlogin: T0 + 9, lastpin: T0 + 9, pin_failures: 0 };
        // A stale challenge, a blocked account: neither row changes.
        expect(await store.updateSessionAndAccount(S1, hsid(1), login, { states: PENDING, challenge: 'c0' }, 'acct-0001', accountPatch)).toBe(false);
        expect(await store.updateSessionAndAccount(S1, hsid(1), login, { states: PENDING, challenge: 'c1' }, 'acct-0002', accountPatch)).toBe(false);
        expect((await store.getSession(S1, hsid(1)))?.state).toBe('scanned');
        expect((await store.getAccount(S1, 'acct-0001'))?.lastlogin).toBeNull();
        expect((await store.getAccount(S1, 'acct-0002'))?.lastlogin).toBeNull();

        await store.recordPinFailure(S1, 'acct-0001', 5);
        expect(await store.updateSessionAndAccount(S1, hsid(1), login, { states: PENDING, challenge: 'c1' }, 'acct-0001', accountPatch)).toBe(true);
        expect(await store.getSession(S1, hsid(1))).toMatchObject(login);
        expect(await store.getAccount(S1, 'acct-0001')).toMatchObject(accountPatch);
        // The same answer again (a replay) loses, and the account keeps the first login's time.
        expect(await store.updateSessionAndAccount(S1, hsid(1), login, { states: PENDING, challenge: 'c1' }, 'acct-0001', { lastlogin: T0 + 99 })).toBe(false);
        expect((await store.getAccount(S1, 'acct-0001'))?.lastlogin).toBe(T0 + 9);
      });

      it('lets only one of several concurrent updateSessionAndAccount calls win', async () => {
        await store.createAccount(accountRow(S1, 'acct-0001'));
        await store.ensureSession(sessionRow(S1, hsid(1), { state: 'scanned', challenge: 'c1' }));
        const results = await Promise.all(Array.from({ length: 8 }, (_, i) => store.updateSessionAndAccount(
          S1, hsid(1), { state: 'loggedin', updated: T0 + i }, { states: PENDING, challenge: 'c1' }, 'acct-0001', { lastlogin: T0 + i },
        )));
        expect(results.filter(Boolean)).toHaveLength(1);
        const winner = results.indexOf(true);
        expect((await store.getAccount(S1, 'acct-0001'))?.lastlogin).toBe(T0 + winner);
        expect((await store.getSession(S1, hsid(1)))?.updated).toBe(T0 + winner);
      });

      it('logoutOverdue logs out exactly the logged-in sessions whose ping deadline has come', async () => {
        const now = T0 + 1_000_000;
        await store.ensureSession(sessionRow(S1, hsid(1), { state: 'loggedin', ping_deadline: now - 1 }));
        await store.ensureSession(sessionRow(S2, hsid(2), { state: 'loggedin', ping_deadline: now }));
        await store.ensureSession(sessionRow(S1, hsid(3), { state: 'loggedin', ping_deadline: now + 1 }));
        await store.ensureSession(sessionRow(S1, hsid(4), { state: 'loggedin', ping_deadline: null }));
        await store.ensureSession(sessionRow(S1, hsid(5), { state: 'loggedout', ping_deadline: now - 1, updated: T0 }));
        await store.ensureSession(sessionRow(S1, hsid(6), { state: 'idle', ping_deadline: now - 1, expires: now + 5 }));

        const ended = await store.logoutOverdue(now);
        const key = (k: { sid: string; hsid: string }) => `${k.sid}/${k.hsid}`;
        expect(ended.map(key).sort()).toEqual([`${S1}/${hsid(1)}`, `${S2}/${hsid(2)}`]);
        expect(await store.getSession(S1, hsid(1))).toMatchObject({ state: 'loggedout', updated: now });
        expect((await store.getSession(S1, hsid(3)))?.state).toBe('loggedin');
        expect((await store.getSession(S1, hsid(4)))?.state).toBe('loggedin');
        expect(await store.getSession(S1, hsid(5))).toMatchObject({ state: 'loggedout', updated: T0 });
        expect((await store.getSession(S1, hsid(6)))?.state).toBe('idle');
        expect(await store.logoutOverdue(now)).toEqual([]);
      });

      it('logoutSessionsOfAccount logs out the logged-in sessions of one account on one server', async () => {
        const now = T0 + 5;
        await store.ensureSession(sessionRow(S1, hsid(1), { state: 'loggedin', accountid: 'acct-0001' }));
        await store.ensureSession(sessionRow(S1, hsid(2), { state: 'loggedin', accountid: 'acct-0001', ping_deadline: now + 60_000 }));
        await store.ensureSession(sessionRow(S1, hsid(3), { state: 'loggedin', accountid: 'acct-0002' }));
        await store.ensureSession(sessionRow(S2, hsid(4), { state: 'loggedin', accountid: 'acct-0001' }));
        await store.ensureSession(sessionRow(S1, hsid(5), { state: 'cancelled', accountid: 'acct-0001' }));

        const ended = await store.logoutSessionsOfAccount(S1, 'acct-0001', now);
        expect(ended.map((k) => k.hsid).sort()).toEqual([hsid(1), hsid(2)]);
        expect(await store.getSession(S1, hsid(2))).toMatchObject({ state: 'loggedout', updated: now });
        expect((await store.getSession(S1, hsid(3)))?.state).toBe('loggedin');
        expect((await store.getSession(S2, hsid(4)))?.state).toBe('loggedin');
        expect((await store.getSession(S1, hsid(5)))?.state).toBe('cancelled');
        expect(await store.logoutSessionsOfAccount(S1, 'acct-0001', now)).toEqual([]);
      });
    });

    describe('request ids', () => {
      it('claims an id once', async () => {
        expect(await store.claimRequestId('req-aaaaaaaaaaaaaaaa', T0 + 120_000)).toBe(true);
        expect(await store.claimRequestId('req-aaaaaaaaaaaaaaaa', T0 + 120_000)).toBe(false);
        expect(await store.claimRequestId('req-aaaaaaaaaaaaaaaa', T0 + 999_999)).toBe(false);
        expect(await store.claimRequestId('req-bbbbbbbbbbbbbbbb', T0 + 120_000)).toBe(true);
      });

      it('lets only one of several concurrent claims win', async () => {
        const results = await Promise.all(Array.from({ length: 8 }, () => store.claimRequestId('req-racerace12345678', T0)));
        expect(results.filter(Boolean)).toHaveLength(1);
      });
    });

    describe('purge', () => {
      it('drops old request ids, used or expired enrol tokens and long-finished sessions, and nothing else', async () => {
        const now = T0 + 10_000_000;
        const retention = 1_000_000;
        await store.claimRequestId('req-old-0000000000', now - 1);
        await store.claimRequestId('req-live-000000000', now + 1);
        await store.createEnrolToken({ token_hash: 'tok-expired', sid: S1, name: 'n', userid: null, expires: now - 1, used: 0 });
        await store.createEnrolToken({ token_hash: 'tok-used', sid: S1, name: 'n', userid: null, expires: now + 1000, used: 1 });
        await store.createEnrolToken({ token_hash: 'tok-live', sid: S1, name: 'n', userid: null, expires: now + 1000, used: 0 });
        const old = now - retention - 1;
        const recent = now - retention + 1;
        await store.ensureSession(sessionRow(S1, hsid(1), { state: 'loggedout', updated: old }));
        await store.ensureSession(sessionRow(S1, hsid(2), { state: 'cancelled', updated: old }));
        await store.ensureSession(sessionRow(S1, hsid(3), { state: 'expired', updated: old }));
        await store.ensureSession(sessionRow(S1, hsid(4), { state: 'expired', updated: recent }));
        await store.ensureSession(sessionRow(S1, hsid(5), { state: 'loggedin', updated: old }));
        await store.ensureSession(sessionRow(S1, hsid(6), { state: 'idle', updated: old, expires: old }));

        await store.purge(now, retention);

        // A purged request id can be claimed again; a live one cannot.
        expect(await store.claimRequestId('req-old-0000000000', now + 1)).toBe(true);
        expect(await store.claimRequestId('req-live-000000000', now + 1)).toBe(false);
        expect(await store.getEnrolToken('tok-expired')).toBeUndefined();
        expect(await store.getEnrolToken('tok-used')).toBeUndefined();
        expect(await store.getEnrolToken('tok-live')).toBeDefined();
        for (const n of [1, 2, 3]) expect(await store.getSession(S1, hsid(n))).toBeUndefined();
        for (const n of [4, 5, 6]) expect(await store.getSession(S1, hsid(n))).toBeDefined();
      });
    });

    describe('push requests', () => {
      it('supersedePending marks the user\'s pending requests superseded and names their sessions once each', async () => {
        const req = (pushid: string, h: string, accountid: string, userkey: string, state = 'pending') => ({
          pushid, sid: S1, hsid: h, accountid, userkey, number: 42, state, created: T0, expires: T0 + 600_000,
        });
        await store.push.createRequests([
          req('p1', hsid(1), 'acct-a', 'u:alice'), req('p2', hsid(1), 'acct-b', 'u:alice'), req('p3', hsid(2), 'acct-a', 'u:alice', 'answered'),
          req('p4', hsid(3), 'acct-c', 'u:bob'),
        ]);
        expect(await store.push.supersedePending(S1, 'u:alice')).toEqual([hsid(1)]);
        expect(await store.push.supersedePending(S1, 'u:alice')).toEqual([]);
        expect(await store.push.listPendingForAccount(S1, 'acct-a', T0)).toEqual([]);
        expect((await store.push.listPendingForAccount(S1, 'acct-c', T0)).map((r) => r.pushid)).toEqual(['p4']);
      });
    });

    describe('counters', () => {
      it('count in fixed windows: up by one while a window is open, a new window once it is over', async () => {
        expect(await store.counters.get('fail:ip:198.51.100.1')).toBeUndefined();
        expect(await store.counters.add('fail:ip:198.51.100.1', T0, 60_000)).toEqual({ count: 1, windowStart: T0 });
        expect(await store.counters.add('fail:ip:198.51.100.1', T0 + 59_999, 60_000)).toEqual({ count: 2, windowStart: T0 });
        expect(await store.counters.add('fail:ip:198.51.100.2', T0 + 10, 60_000)).toEqual({ count: 1, windowStart: T0 + 10 });
        expect(await store.counters.get('fail:ip:198.51.100.1')).toEqual({ count: 2, windowStart: T0 });
        expect(await store.counters.add('fail:ip:198.51.100.1', T0 + 60_000, 60_000)).toEqual({ count: 1, windowStart: T0 + 60_000 });
      });

      it('lose no count when many are added at once', async () => {
        const results = await Promise.all(Array.from({ length: 25 }, () => store.counters.add('fail:ip:2001:db8::1', T0, 60_000)));
        expect(results.map((r) => r.count).sort((x, y) => x - y)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
      });

      it('are purged two hours after their window began', async () => {
        const now = T0 + 10 * 3600_000;
        await store.counters.add('old', now - 2 * 3600_000 - 1, 60_000);
        await store.counters.add('recent', now - 2 * 3600_000 + 1, 60_000);
        await store.purge(now, 24 * 3600_000);
        expect(await store.counters.get('old')).toBeUndefined();
        expect(await store.counters.get('recent')).toBeDefined();
      });
    });
  });
}

storeSuite('SQLite', openSqlite);

describe.skipIf(!PG_URL)('PostgreSQL', () => {
  storeSuite('PostgreSQL', openPostgres);
});

describe.skipIf(!PG_URL)('PostgreSQL: an approval racing a block or a delete', () => {
  it('loses to an account change that commits while the approval waits for it (the guard locks the account row)', async () => {
    const opened = await openPostgres();
    const { store } = opened;
    const other = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${opened.schema}` });
    await other.connect();
    try {
      await store.createServer(serverRow(S1));
      const changes = ['update accounts set blocked = 1 where accountid = $1', 'delete from accounts where accountid = $1'];
      for (const [i, change] of changes.entries()) {
        const accountid = `acct-race-${i}`;
        await store.createAccount(accountRow(S1, accountid));
        await store.ensureSession(sessionRow(S1, hsid(i), { state: 'scanned', challenge: 'c1' }));
        // Another administrator's transaction blocks (or deletes) the account and has not committed yet.
        await other.query('begin');
        await other.query(change, [accountid]);
        const approval = store.updateSessionAndAccount(S1, hsid(i), { state: 'loggedin', accountid }, { states: PENDING, challenge: 'c1' }, accountid, { lastlogin: T0 });
        const single = store.updateSession(S1, hsid(i), { state: 'loggedin', accountid }, { states: PENDING, challenge: 'c1', activeAccount: accountid });
        await new Promise((r) => setTimeout(r, 200));
        await other.query('commit');
        expect(await approval).toBe(false);
        expect(await single).toBe(false);
        expect((await store.getSession(S1, hsid(i)))?.state).toBe('scanned');
      }
    } finally {
      await other.end();
      await opened.dispose();
    }
  });
});
