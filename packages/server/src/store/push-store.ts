import type { Kysely } from 'kysely';
import type { AuditEventTable, Database, PushLimitTable, PushRequestTable, PushSubscriptionTable, VapidKeyTable } from '../db/tables.js';

export type VapidKeyRow = VapidKeyTable;
export type PushSubscriptionRow = PushSubscriptionTable;

export type AuditEventRow = AuditEventTable;

export type PushRequestRow = PushRequestTable;
export type PushLimitRow = PushLimitTable;

/** Persistence of push login requests and their anti-fatigue limits (DESIGN §8). Each method is one atomic step. */
export class PushStore {
  constructor(private readonly db: Kysely<Database>) {}

  async createRequests(rows: PushRequestRow[]): Promise<void> {
    if (rows.length > 0) await this.db.insertInto('push_requests').values(rows).execute();
  }

  /**
   * Marks every pending request of the user superseded (at most one pending push per user) and returns the
   * sessions they were for, so that those can be cancelled too.
   */
  async supersedePending(sid: string, userkey: string): Promise<string[]> {
    const rows = await this.db.updateTable('push_requests').set({ state: 'superseded' })
      .where('sid', '=', sid).where('userkey', '=', userkey).where('state', '=', 'pending')
      .returning('hsid').execute();
    return [...new Set(rows.map((r) => r.hsid))];
  }

  listPendingForAccount(sid: string, accountid: string, now: number): Promise<PushRequestRow[]> {
    return this.db.selectFrom('push_requests').selectAll()
      .where('sid', '=', sid).where('accountid', '=', accountid).where('state', '=', 'pending').where('expires', '>', now)
      .orderBy('created').execute();
  }

  /** The number the page shows for a session's latest push (null when none, or number matching is off). */
  async latestNumber(sid: string, hsid: string): Promise<number | null> {
    const row = await this.db.selectFrom('push_requests').select('number')
      .where('sid', '=', sid).where('hsid', '=', hsid).orderBy('created', 'desc').executeTakeFirst();
    return row?.number ?? null;
  }

  /** Ends every pending request of a session (it was answered, or cancelled). */
  async closeSession(sid: string, hsid: string): Promise<void> {
    await this.db.updateTable('push_requests').set({ state: 'answered' })
      .where('sid', '=', sid).where('hsid', '=', hsid).where('state', '=', 'pending').execute();
  }

  getLimit(sid: string, userkey: string): Promise<PushLimitRow | undefined> {
    return this.db.selectFrom('push_limits').selectAll().where('sid', '=', sid).where('userkey', '=', userkey).executeTakeFirst();
  }

  /**
   * Compare-and-set of the user's limit row: inserts it when `previous` is undefined, else updates it only if
   * `next_allowed` is still what was read. False when a concurrent provoke got there first.
   */
  async setLimit(row: PushLimitRow, previous: PushLimitRow | undefined): Promise<boolean> {
    if (!previous) {
      try {
        await this.db.insertInto('push_limits').values(row).execute();
        return true;
      } catch {
        return false;
      }
    }
    const result = await this.db.updateTable('push_limits')
      .set({ next_allowed: row.next_allowed, interval_ms: row.interval_ms, last_provoke: row.last_provoke, blocked_until: row.blocked_until })
      .where('sid', '=', row.sid).where('userkey', '=', row.userkey).where('next_allowed', '=', previous.next_allowed)
      .executeTakeFirst();
    return result.numUpdatedRows === 1n;
  }

  async clearLimit(sid: string, userkey: string): Promise<void> {
    await this.db.updateTable('push_limits').set({ interval_ms: 0, next_allowed: 0 }).where('sid', '=', sid).where('userkey', '=', userkey).execute();
  }

  /** Stops pushes to the user until `until` (inserting the limit row when there is none). */
  async blockUser(sid: string, userkey: string, until: number, now: number): Promise<void> {
    const result = await this.db.updateTable('push_limits').set({ blocked_until: until })
      .where('sid', '=', sid).where('userkey', '=', userkey).executeTakeFirst();
    if (result.numUpdatedRows === 0n) {
      await this.db.insertInto('push_limits')
        .values({ sid, userkey, next_allowed: now, interval_ms: 0, last_provoke: now, blocked_until: until })
        .onConflict((oc) => oc.columns(['sid', 'userkey']).doUpdateSet({ blocked_until: until }))
        .execute();
    }
  }

  async addAudit(row: AuditEventRow): Promise<void> {
    await this.db.insertInto('audit_events').values(row).execute();
  }

  /** Newest first; `marker` is the id of the last event of the previous page (ids sort by time). */
  async listAudit(sid: string, limit: number, marker?: string): Promise<{ items: AuditEventRow[]; marker: string | null }> {
    let q = this.db.selectFrom('audit_events').selectAll().where('sid', '=', sid);
    if (marker) q = q.where('id', '<', marker);
    const rows = await q.orderBy('id', 'desc').limit(limit + 1).execute();
    const items = rows.slice(0, limit);
    return { items, marker: rows.length > limit ? (items.at(-1)?.id ?? null) : null };
  }

  getVapid(): Promise<VapidKeyRow | undefined> {
    return this.db.selectFrom('vapid_keys').selectAll().where('id', '=', 'default').executeTakeFirst();
  }

  /** Stores the key pair unless another process stored one first; returns the stored one either way. */
  async saveVapid(row: VapidKeyRow): Promise<VapidKeyRow> {
    await this.db.insertInto('vapid_keys').values(row).onConflict((oc) => oc.column('id').doNothing()).execute();
    return (await this.getVapid())!;
  }

  /** Registers (or moves to this account) a subscription, by its endpoint. */
  async saveSubscription(row: PushSubscriptionRow): Promise<void> {
    await this.db.insertInto('push_subscriptions').values(row)
      .onConflict((oc) => oc.column('endpoint').doUpdateSet({ sid: row.sid, accountid: row.accountid, p256dh: row.p256dh, auth: row.auth, created: row.created }))
      .execute();
  }

  listSubscriptions(sid: string, accountid: string): Promise<PushSubscriptionRow[]> {
    return this.db.selectFrom('push_subscriptions').selectAll().where('sid', '=', sid).where('accountid', '=', accountid).execute();
  }

  async deleteSubscription(endpoint: string): Promise<void> {
    await this.db.deleteFrom('push_subscriptions').where('endpoint', '=', endpoint).execute();
  }

  async purge(now: number): Promise<void> {
    await this.db.deleteFrom('push_requests').where('expires', '<', now - 24 * 3600_000).execute();
  }
}
