import { type ExpressionBuilder, type Kysely, sql } from 'kysely';
import type { DatabaseHandle } from '../db/database.js';
import type { Database } from '../db/tables.js';
import { CounterStore } from './counter-store.js';
import { PrecompiledQueries, type Slots, definedKeys, slotted } from './precompiled.js';
import { PushStore } from './push-store.js';
import { escapeLike, isUniqueViolation, page } from './store-helpers.js';
import {
  type SessionUpdateArgs, accountAndSession, guardedSessionUpdate, sessionAndAccountUpdate, sessionUpdateArgs, sessionUpdateShape,
} from './session-statements.js';
import {
  type AccountRow, type ApiKeyRow, type ChallengeOpening, DuplicateKeyError, type EnrolTokenRow, type ListOptions, type OtpAttempt, type PageOf,
  type ServerRow, type SessionGuard, type SessionKey, type SessionRow, type Store, type UserRow,
} from './store.js';

/** Counter windows are purged this long after they began: longer than any window in use (a minute or an hour). */
const COUNTER_RETENTION_MS = 2 * 3600_000;

/** The one Store implementation, over Kysely, for SQLite and PostgreSQL alike. */
export class KyselyStore implements Store {
  readonly dialect: 'sqlite' | 'postgres';
  readonly push: PushStore;
  readonly counters: CounterStore;
  private readonly db: Kysely<Database>;
  /** The queries every login runs, compiled once (see PrecompiledQueries); the rest are built per call. */
  private readonly q: PrecompiledQueries;

  constructor(private readonly handle: DatabaseHandle) {
    this.db = handle.db;
    this.q = new PrecompiledQueries(handle.db);
    this.push = new PushStore(handle.db);
    this.counters = new CounterStore(handle.db, this.q);
    this.dialect = handle.dialect;
  }

  async createServer(row: ServerRow): Promise<void> {
    await this.db.insertInto('servers').values(row).execute();
  }

  getServer(sid: string): Promise<ServerRow | undefined> {
    return this.q.first('getServer', (p: Slots<{ sid: string }>) => this.db.selectFrom('servers').selectAll().where('sid', '=', p('sid')), { sid });
  }

  listServers(): Promise<ServerRow[]> {
    return this.db.selectFrom('servers').selectAll().orderBy('created').execute();
  }

  async updateServer(sid: string, patch: Partial<Omit<ServerRow, 'sid'>>): Promise<void> {
    if (Object.keys(patch).length === 0) return;
    await this.db.updateTable('servers').set(patch).where('sid', '=', sid).execute();
  }

  async createApiKey(row: Omit<ApiKeyRow, 'revoked'>): Promise<void> {
    await this.db.insertInto('api_keys').values({ ...row, revoked: null }).execute();
  }

  getApiKey(keyid: string): Promise<ApiKeyRow | undefined> {
    return this.q.first('getApiKey', (p: Slots<{ keyid: string }>) => this.db.selectFrom('api_keys').selectAll().where('keyid', '=', p('keyid')), { keyid });
  }

  listApiKeys(sid: string): Promise<Pick<ApiKeyRow, 'keyid' | 'created' | 'revoked'>[]> {
    return this.db.selectFrom('api_keys').select(['keyid', 'created', 'revoked']).where('sid', '=', sid).orderBy('created').orderBy('keyid').execute();
  }

  async revokeApiKey(sid: string, keyid: string, now: number): Promise<boolean> {
    const result = await this.db.updateTable('api_keys').set({ revoked: now }).where('sid', '=', sid).where('keyid', '=', keyid).where('revoked', 'is', null).executeTakeFirst();
    return result.numUpdatedRows === 1n;
  }

  async createEnrolToken(row: EnrolTokenRow): Promise<void> {
    await this.db.insertInto('enrol_tokens').values(row).execute();
  }

  getEnrolToken(tokenHash: string): Promise<EnrolTokenRow | undefined> {
    return this.db.selectFrom('enrol_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
  }

  async consumeEnrolToken(tokenHash: string, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('enrol_tokens')
      .set({ used: 1 })
      .where('token_hash', '=', tokenHash)
      .where('used', '=', 0)
      .where('expires', '>', now)
      .executeTakeFirst();
    return result.numUpdatedRows === 1n;
  }

  async createAccount(row: AccountRow): Promise<void> {
    try {
      await this.db.insertInto('accounts').values(row).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw new DuplicateKeyError();
      throw err;
    }
  }

  getAccount(sid: string, accountid: string): Promise<AccountRow | undefined> {
    return this.q.first(
      'getAccount',
      (p: Slots<{ sid: string; accountid: string }>) => this.db.selectFrom('accounts').selectAll().where('sid', '=', p('sid')).where('accountid', '=', p('accountid')),
      { sid, accountid },
    );
  }

  async listAccounts(sid: string, options: ListOptions & { userid?: string }): Promise<PageOf<AccountRow>> {
    let q = this.db.selectFrom('accounts').selectAll().where('sid', '=', sid);
    if (options.userid !== undefined) q = q.where('userid', '=', options.userid);
    if (options.marker) q = q.where('accountid', '>', options.marker);
    const rows = await q.orderBy('accountid').limit(options.limit + 1).execute();
    return page(rows, options.limit, (r) => r.accountid);
  }

  async updateAccount(sid: string, accountid: string, patch: Partial<Omit<AccountRow, 'sid' | 'accountid'>>): Promise<boolean> {
    const columns = definedKeys(patch);
    if (columns.length === 0) return (await this.getAccount(sid, accountid)) !== undefined;
    type Args = typeof patch & { $sid: string; $accountid: string };
    const changed = await this.q.affected(
      `updateAccount:${columns.join(',')}`,
      (p: Slots<Args>) => this.db.updateTable('accounts').set(slotted(columns, p) as typeof patch).where('sid', '=', p('$sid')).where('accountid', '=', p('$accountid')),
      { ...patch, $sid: sid, $accountid: accountid },
    );
    return changed === 1;
  }

  async recordPinFailure(sid: string, accountid: string, maxFailures: number): Promise<number> {
    const row = await this.db
      .updateTable('accounts')
      .set((eb) => ({
        pin_failures: eb('pin_failures', '+', 1),
        blocked: eb.case().when('pin_failures', '>=', maxFailures - 1).then(1).else(eb.ref('blocked')).end(),
      }))
      .where('sid', '=', sid)
      .where('accountid', '=', accountid)
      .returning('pin_failures')
      .executeTakeFirst();
    return row?.pin_failures ?? maxFailures;
  }

  async deleteAccount(sid: string, accountid: string): Promise<boolean> {
    const result = await this.db.deleteFrom('accounts').where('sid', '=', sid).where('accountid', '=', accountid).executeTakeFirst();
    return result.numDeletedRows === 1n;
  }

  async deleteAccountsOfUser(sid: string, userid: string): Promise<string[]> {
    const rows = await this.db.deleteFrom('accounts').where('sid', '=', sid).where('userid', '=', userid).returning('accountid').execute();
    return rows.map((r) => r.accountid);
  }

  findAccountByOtpref(sid: string, otpref: number): Promise<AccountRow | undefined> {
    return this.q.first(
      'findAccountByOtpref',
      (p: Slots<{ sid: string; otpref: number }>) => this.db.selectFrom('accounts').selectAll().where('sid', '=', p('sid')).where('otpref', '=', p('otpref')),
      { sid, otpref },
    );
  }

  async takeAccountOtpAttempt(sid: string, accountid: string, now: number, windowMs: number, max: number): Promise<OtpAttempt | undefined> {
    // One statement decides and counts, so two processes cannot both take the last attempt. Both dialects evaluate
    // every SET expression against the row as it was, so `opens` means the same thing in both assignments.
    type Args = { sid: string; accountid: string; now: number; over: number; max: number };
    const row = await this.q.first('takeAccountOtpAttempt', (p: Slots<Args>) => {
      const opens = (eb: ExpressionBuilder<Database, 'accounts'>) => eb.or([eb('otp_window', 'is', null), eb('otp_window', '<=', p('over'))]);
      return this.db
        .updateTable('accounts')
        .set((eb) => ({
          otp_window: eb.case().when(opens(eb)).then(p('now')).else(eb.ref('otp_window')).end(),
          otp_failures: eb.case().when(opens(eb)).then(1).else(eb('otp_failures', '+', 1)).end(),
        }))
        .where('sid', '=', p('sid'))
        .where('accountid', '=', p('accountid'))
        .where((eb) => eb.or([opens(eb), eb('otp_failures', '<', p('max'))]))
        .returning(['otp_failures', 'otp_window']);
    }, { sid, accountid, now, over: now - windowMs, max });
    return row && row.otp_window !== null ? { count: row.otp_failures, window: row.otp_window } : undefined;
  }

  async returnAccountOtpAttempt(sid: string, accountid: string, window: number, lastlogin?: number): Promise<void> {
    type Args = { sid: string; accountid: string; window: number; lastlogin: number };
    // Only into the window it was taken from: a new window starts with nothing to give back (and never below 0).
    const givesBack = (eb: ExpressionBuilder<Database, 'accounts'>, p: Slots<Args>) => eb.and([eb('otp_window', '=', p('window')), eb('otp_failures', '>', 0)]);
    if (lastlogin === undefined) {
      await this.q.execute('returnAccountOtpAttempt', (p: Slots<Args>) => this.db
        .updateTable('accounts')
        .set((eb) => ({ otp_failures: eb('otp_failures', '-', 1) }))
        .where('sid', '=', p('sid'))
        .where('accountid', '=', p('accountid'))
        .where((eb) => givesBack(eb, p)), { sid, accountid, window, lastlogin: 0 });
      return;
    }
    await this.q.execute('returnAccountOtpAttempt+lastlogin', (p: Slots<Args>) => this.db
      .updateTable('accounts')
      .set((eb) => ({
        otp_failures: eb.case().when(givesBack(eb, p)).then(eb('otp_failures', '-', 1)).else(eb.ref('otp_failures')).end(),
        lastlogin: p('lastlogin'),
      }))
      .where('sid', '=', p('sid'))
      .where('accountid', '=', p('accountid')), { sid, accountid, window, lastlogin });
  }

  async ensureUser(sid: string, userid: string, now: number): Promise<void> {
    await this.db
      .insertInto('users')
      .values({ sid, userid, attributes: '{}', created: now })
      .onConflict((oc) => oc.columns(['sid', 'userid']).doNothing())
      .execute();
  }

  private usersWithCounts() {
    return this.db
      .selectFrom('users as u')
      .select(['u.sid', 'u.userid', 'u.attributes', 'u.created'])
      .select((eb) =>
        eb
          .selectFrom('accounts as a')
          .select((e) => e.fn.countAll<number>().as('n'))
          .whereRef('a.sid', '=', 'u.sid')
          .whereRef('a.userid', '=', 'u.userid')
          .as('accounts'),
      );
  }

  async getUser(sid: string, userid: string): Promise<UserRow | undefined> {
    const row = await this.usersWithCounts().where('u.sid', '=', sid).where('u.userid', '=', userid).executeTakeFirst();
    return row && { ...row, accounts: Number(row.accounts ?? 0) };
  }

  async listUsers(sid: string, options: ListOptions): Promise<PageOf<UserRow>> {
    let q = this.usersWithCounts().where('u.sid', '=', sid);
    // lower() on both sides: SQLite's LIKE ignores case, PostgreSQL's does not, and both must answer alike.
    if (options.search) q = q.where(sql<boolean>`lower(u.userid) like ${`%${escapeLike(options.search.toLowerCase())}%`} escape '\\'`);
    if (options.marker) q = q.where('u.userid', '>', options.marker);
    const rows = await q.orderBy('u.userid').limit(options.limit + 1).execute();
    return page(rows.map((r) => ({ ...r, accounts: Number(r.accounts ?? 0) })), options.limit, (r) => r.userid);
  }

  async setUserAttributes(sid: string, userid: string, attributes: string): Promise<boolean> {
    const result = await this.db.updateTable('users').set({ attributes }).where('sid', '=', sid).where('userid', '=', userid).executeTakeFirst();
    return result.numUpdatedRows === 1n;
  }

  async deleteUser(sid: string, userid: string): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      await trx.updateTable('accounts').set({ userid: null }).where('sid', '=', sid).where('userid', '=', userid).execute();
      const result = await trx.deleteFrom('users').where('sid', '=', sid).where('userid', '=', userid).executeTakeFirst();
      return result.numDeletedRows === 1n;
    });
  }

  async ensureSession(row: SessionRow): Promise<SessionRow> {
    const inserted = await this.insertSession(row);
    if (inserted) return inserted;
    // Another request created it first: read theirs.
    const stored = await this.getSession(row.sid, row.hsid);
    if (!stored) throw new Error('session vanished after insert');
    return stored;
  }

  insertSession(row: SessionRow): Promise<SessionRow | undefined> {
    const columns = definedKeys(row);
    return this.q.first(`insertSession:${columns.join(',')}`, (p: Slots<SessionRow>) => this.db
      .insertInto('sessions')
      .values(slotted(columns, p) as unknown as SessionRow)
      .onConflict((oc) => oc.columns(['sid', 'hsid']).doNothing())
      .returningAll(), row);
  }

  async getAccountAndSession(sid: string, accountid: string, hsid: string): Promise<{ account: AccountRow | undefined; session: SessionRow | undefined }> {
    if (this.dialect !== 'postgres') return { account: await this.getAccount(sid, accountid), session: await this.getSession(sid, hsid) };
    const row = await this.q.first('getAccountAndSession', (p: Slots<{ sid: string; accountid: string; hsid: string }>) => accountAndSession(this.db, p), { sid, accountid, hsid });
    return { account: row?.account ?? undefined, session: row?.session ?? undefined };
  }

  getSession(sid: string, hsid: string): Promise<SessionRow | undefined> {
    return this.q.first(
      'getSession',
      (p: Slots<SessionKey>) => this.db.selectFrom('sessions').selectAll().where('sid', '=', p('sid')).where('hsid', '=', p('hsid')),
      { sid, hsid },
    );
  }

  async updateSession(sid: string, hsid: string, patch: Partial<Omit<SessionRow, 'sid' | 'hsid'>>, guard: SessionGuard = {}): Promise<boolean> {
    const columns = definedKeys(patch);
    if (columns.length === 0) return false;
    const changed = await this.q.affected(`updateSession:${sessionUpdateShape(columns, guard)}`, (p: Slots<SessionUpdateArgs>) =>
      guardedSessionUpdate(this.db, columns, guard, p, this.dialect === 'postgres'), sessionUpdateArgs(sid, hsid, patch, guard));
    return changed === 1;
  }

  async updateSessionAndAccount(
    sid: string, hsid: string, patch: Partial<Omit<SessionRow, 'sid' | 'hsid'>>, sessionGuard: Omit<SessionGuard, 'activeAccount'>,
    accountid: string, accountPatch: Partial<Omit<AccountRow, 'sid' | 'accountid'>>,
  ): Promise<boolean> {
    // The account patched is the one that must be active: no caller can patch an account the guard did not check.
    const guard: SessionGuard = { ...sessionGuard, activeAccount: accountid };
    const columns = definedKeys(patch);
    const accountColumns = definedKeys(accountPatch);
    // SQLite runs statements in-process, without a round trip: two cost what one does.
    if (this.dialect !== 'postgres' || columns.length === 0 || accountColumns.length === 0) {
      if (!(await this.updateSession(sid, hsid, patch, guard))) return false;
      if (accountColumns.length > 0) await this.updateAccount(sid, accountid, accountPatch);
      return true;
    }
    const args: SessionUpdateArgs = { ...sessionUpdateArgs(sid, hsid, patch, guard), $account: accountid };
    for (const c of accountColumns) args[`account.${c}`] = accountPatch[c as keyof typeof accountPatch];
    const row = await this.q.first(`updateSessionAndAccount:${sessionUpdateShape(columns, guard)}:${accountColumns.join(',')}`,
      (p: Slots<SessionUpdateArgs>) => sessionAndAccountUpdate(this.db, columns, guard, accountColumns, p), args);
    return Number(row?.sessions ?? 0) === 1;
  }

  openChallenge(sid: string, hsid: string, opening: ChallengeOpening, pendingStates: readonly string[]): Promise<SessionRow | undefined> {
    type Args = ChallengeOpening & SessionKey;
    return this.q.first(`openChallenge:${pendingStates.join(',')}`, (p: Slots<Args>) => this.db
      .updateTable('sessions')
      .set((eb) => ({
        state: eb.case().when('state', '=', 'idle').then('scanned').else(eb.ref('state')).end(),
        challenge: p('challenge'), challenge_account: p('challenge_account'), challenge_expires: p('challenge_expires'), updated: p('updated'),
      }))
      .where('sid', '=', p('sid'))
      .where('hsid', '=', p('hsid'))
      .where('state', 'in', [...pendingStates])
      .where('expires', '>', p('updated'))
      .returningAll(), { ...opening, sid, hsid });
  }

  takeSessionOtpAttempt(fresh: SessionRow, max: number, now: number, pendingStates: readonly string[]): Promise<SessionRow | undefined> {
    const row = { ...fresh, otp_failures: 1 };
    const columns = definedKeys(row);
    type Args = SessionRow & { max: number; now: number };
    // Inserting first costs nothing when the session exists (the conflict turns it into the guarded update), and
    // spares a read and a second write when otpLogin is the first call that names the nonce. The columns are
    // qualified because PostgreSQL finds a bare name in DO UPDATE ambiguous (the row, or the proposed `excluded`).
    return this.q.first(`takeSessionOtpAttempt:${columns.join(',')}:${pendingStates.join(',')}`, (p: Slots<Args>) => this.db
      .insertInto('sessions')
      .values(slotted(columns, p) as unknown as SessionRow)
      .onConflict((oc) => oc
        .columns(['sid', 'hsid'])
        .doUpdateSet((eb) => ({ otp_failures: eb('sessions.otp_failures', '+', 1) }))
        .where('sessions.otp_failures', '<', p('max'))
        .where('sessions.state', 'in', [...pendingStates])
        .where('sessions.expires', '>', p('now')))
      .returningAll(), { ...row, max, now });
  }

  logoutOverdue(now: number): Promise<SessionKey[]> {
    return this.db
      .updateTable('sessions')
      .set({ state: 'loggedout', updated: now })
      .where('state', '=', 'loggedin')
      .where('ping_deadline', 'is not', null)
      .where('ping_deadline', '<=', now)
      .returning(['sid', 'hsid'])
      .execute();
  }

  logoutSessionsOfAccount(sid: string, accountid: string, now: number): Promise<SessionKey[]> {
    return this.db
      .updateTable('sessions')
      .set({ state: 'loggedout', updated: now })
      .where('sid', '=', sid)
      .where('accountid', '=', accountid)
      .where('state', '=', 'loggedin')
      .returning(['sid', 'hsid'])
      .execute();
  }

  async expireSessions(now: number, pendingStates: readonly string[]): Promise<SessionKey[]> {
    return this.db
      .updateTable('sessions')
      .set({ state: 'expired', updated: now, challenge: null })
      .where('state', 'in', [...pendingStates])
      .where('expires', '<=', now)
      .returning(['sid', 'hsid'])
      .execute();
  }

  async claimRequestId(reqid: string, expires: number): Promise<boolean> {
    const inserted = await this.q.affected('claimRequestId', (p: Slots<{ reqid: string; expires: number }>) => this.db
      .insertInto('request_ids')
      .values({ reqid: p('reqid'), expires: p('expires') })
      .onConflict((oc) => oc.column('reqid').doNothing()), { reqid, expires });
    return inserted === 1;
  }

  async purge(now: number, sessionRetentionMs: number): Promise<void> {
    await this.db.deleteFrom('request_ids').where('expires', '<', now).execute();
    await this.db.deleteFrom('enrol_tokens').where((eb) => eb.or([eb('expires', '<', now), eb('used', '=', 1)])).execute();
    await this.db
      .deleteFrom('sessions')
      .where('state', 'in', ['loggedout', 'cancelled', 'expired'])
      .where('updated', '<', now - sessionRetentionMs)
      .execute();
    await this.push.purge(now);
    await this.counters.purge(now - COUNTER_RETENTION_MS);
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}
