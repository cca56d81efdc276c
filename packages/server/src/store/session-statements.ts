import { type QueryCreator, sql } from 'kysely';
import type { Database } from '../db/tables.js';
import { type Slots, slotted } from './precompiled.js';
import type { AccountRow, SessionGuard, SessionRow } from './store.js';

/** The arguments of a guarded session update: the patch's columns by name, the key and the guard's values with a `$`. */
export type SessionUpdateArgs = Record<string, unknown> & {
  $sid: string; $hsid: string; $challenge?: string; $accountid?: string; $aliveAt?: number; $active?: string;
  /** The account that `sessionAndAccountUpdate` patches; its columns' values are named `account.<column>`. */
  $account?: string;
};

export function sessionUpdateArgs(sid: string, hsid: string, patch: object, guard: SessionGuard): SessionUpdateArgs {
  const { challenge, accountid, aliveAt, activeAccount } = guard;
  return { ...patch, $sid: sid, $hsid: hsid, $challenge: challenge, $accountid: accountid, $aliveAt: aliveAt, $active: activeAccount };
}

/**
 * What changes a guarded update's SQL text: the columns set and which guards apply (the states are constants of
 * the text, as they come from a few fixed lists).
 */
export function sessionUpdateShape(columns: string[], guard: SessionGuard): string {
  const { states, challenge, accountid, aliveAt, activeAccount } = guard;
  return [columns.join(','), states?.join(',') ?? '', challenge !== undefined, accountid !== undefined, aliveAt !== undefined, activeAccount !== undefined].join('|');
}

/**
 * UPDATE sessions with the guard (see SessionGuard) as conditions of the same statement: a compare-and-set. With
 * `lockAccount` (PostgreSQL) the active-account condition locks the account's row: without the lock it reads the
 * statement's snapshot, so a login racing a block or a delete that commits meanwhile would still win. The lock waits
 * for such a change and re-reads the row after it. (SQLite has one writer at a time; it needs no lock, nor has one.)
 */
export function guardedSessionUpdate(db: QueryCreator<Database>, columns: string[], guard: SessionGuard, p: Slots<SessionUpdateArgs>, lockAccount: boolean) {
  let q = db.updateTable('sessions').set(slotted(columns, p) as Partial<SessionRow>).where('sid', '=', p('$sid')).where('hsid', '=', p('$hsid'));
  if (guard.states) q = q.where('state', 'in', [...guard.states]);
  if (guard.challenge !== undefined) q = q.where('challenge', '=', p('$challenge')!);
  if (guard.accountid !== undefined) q = q.where('accountid', '=', p('$accountid')!);
  if (guard.aliveAt !== undefined) q = q.where((eb) => eb.or([eb('ping_deadline', 'is', null), eb('ping_deadline', '>', p('$aliveAt')!)]));
  if (guard.activeAccount !== undefined) {
    q = q.where((eb) => {
      const active = eb.selectFrom('accounts').select('accountid').where('accounts.sid', '=', p('$sid')).where('accounts.accountid', '=', p('$active')!).where('accounts.blocked', '=', 0);
      // NO KEY UPDATE, not SHARE: two answers that each held a share lock and then updated the account would deadlock.
      return eb.exists(lockAccount ? active.forNoKeyUpdate() : active);
    });
  }
  return q;
}

/**
 * PostgreSQL only. The guarded session update and, when it changed the row, the account's patch, as one statement:
 * a data-modifying WITH runs both, the account's only if the session's returned its row. Selects how many
 * sessions changed (0 or 1).
 */
export function sessionAndAccountUpdate(db: QueryCreator<Database>, columns: string[], guard: SessionGuard, accountColumns: string[], p: Slots<SessionUpdateArgs>) {
  return db
    .with('changed', (qc) => guardedSessionUpdate(qc, columns, guard, p, true).returning('hsid'))
    .with('account', (qc) => qc
      .updateTable('accounts')
      .set(slotted(accountColumns, p, 'account.') as Partial<AccountRow>)
      .where('sid', '=', p('$sid'))
      .where('accountid', '=', p('$account')!)
      .where((eb) => eb.exists(eb.selectFrom('changed').select('hsid')))
      .returning('accountid'))
    .selectNoFrom((eb) => [eb.selectFrom('changed').select((e) => e.fn.countAll<number>().as('n')).as('sessions')]);
}

/**
 * PostgreSQL only. An account and a session by their keys in one statement, each as a JSON object of its row
 * (null when there is none): every column is text or a number, which JSON keeps as they are. (A boolean, timestamp
 * or bytea column would come back in another form than getAccount's; the store suite compares the two on PostgreSQL.)
 */
export function accountAndSession(db: QueryCreator<Database>, p: Slots<{ sid: string; accountid: string; hsid: string }>) {
  return db.selectNoFrom((eb) => [
    eb.selectFrom('accounts as a').select(sql<AccountRow>`to_jsonb(a)`.as('row')).where('a.sid', '=', p('sid')).where('a.accountid', '=', p('accountid')).as('account'),
    eb.selectFrom('sessions as s').select(sql<SessionRow>`to_jsonb(s)`.as('row')).where('s.sid', '=', p('sid')).where('s.hsid', '=', p('hsid')).as('session'),
  ]);
}
