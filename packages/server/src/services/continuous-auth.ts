import { type DeviceSessionState, TapinError } from '@tapin/protocol';
import type { AccountRow, ServerRow, SessionRow } from '../store/store.js';
import type { ServiceContext } from './context.js';
import { pingDeadline } from './device-sessions.js';
import { effectiveState } from './sessions.js';
import { requireServer } from './virtual-servers.js';

/**
 * Continuous authentication (DESIGN §2, §7): while a session is logged in, the phone that approved it pings every
 * pingTime seconds; a session whose pings stop ends (see `logoutOverdue`). The phone can also end it itself.
 * Both calls come as signed requests, so `account` is already authenticated, unblocked and existing.
 */

/** Only the account that logged a session in may ping or end it; to any other caller the session does not exist. */
async function ownSession(ctx: ServiceContext, account: AccountRow, hsid: string): Promise<SessionRow> {
  const row = await ctx.store.getSession(account.sid, hsid);
  if (!row || row.accountid !== account.accountid) throw new TapinError('session_not_found');
  return row;
}

/** Where the session stands; pingTime 0 tells the phone to stop pinging (ended, or one-shot). */
function stateOf(row: SessionRow, server: ServerRow, now: number): DeviceSessionState {
  const state = effectiveState(row, now);
  return { hsid: row.hsid, state, pingTime: state === 'loggedin' && row.ping_deadline !== null ? server.ping_time : 0 };
}

async function reread(ctx: ServiceContext, row: SessionRow): Promise<SessionRow> {
  return (await ctx.store.getSession(row.sid, row.hsid)) ?? row;
}

/**
 * Where a session this account logged in stands, changing nothing: unlike a ping it does not keep the session
 * alive, so a phone listing its history does not hold sessions open that it means to let expire.
 */
export async function sessionState(ctx: ServiceContext, account: AccountRow, hsid: string): Promise<DeviceSessionState> {
  const server = await requireServer(ctx, account.sid);
  return stateOf(await ownSession(ctx, account, hsid), server, ctx.now());
}

/**
 * A ping moves a logged-in session's deadline to two ping intervals from now. A session that has ended is answered
 * with its state (200), so the phone learns it is over; a late ping does not revive a session whose deadline passed.
 */
export async function pingSession(ctx: ServiceContext, account: AccountRow, hsid: string, idleSeconds?: number): Promise<DeviceSessionState> {
  const server = await requireServer(ctx, account.sid);
  const row = await ownSession(ctx, account, hsid);
  const now = ctx.now();
  // One-shot sessions have no deadline to move, and keep none even if pingTime was switched on since.
  if (effectiveState(row, now) !== 'loggedin' || row.ping_deadline === null) return stateOf(row, server, now);
  // An in-app login reports how long the app has gone unused: an open but unattended app does not keep it alive.
  // The report comes from the phone that owns the session, which could as well log out itself; the server holds
  // the timeout so that the site's administrator sets it, and ends the session the same way a phone logout does.
  if (idleSeconds !== undefined && server.inactivity_timeout > 0 && idleSeconds >= server.inactivity_timeout) {
    return logoutFromPhone(ctx, account, hsid);
  }
  await ctx.store.updateSession(
    account.sid, hsid,
    // pingTime switched to 0 since the login: the session becomes one-shot rather than ending at once.
    { ping_deadline: pingDeadline(server, now) },
    { states: ['loggedin'], accountid: account.accountid, aliveAt: now },
  );
  return stateOf(await reread(ctx, row), server, now);
}

/** The phone ends a session it logged in; the page's watchers get LOGOUT. Ending an ended session is no error. */
export async function logoutFromPhone(ctx: ServiceContext, account: AccountRow, hsid: string): Promise<DeviceSessionState> {
  const server = await requireServer(ctx, account.sid);
  const row = await ownSession(ctx, account, hsid);
  const now = ctx.now();
  if (effectiveState(row, now) !== 'loggedin') return stateOf(row, server, now);
  const ended = await ctx.store.updateSession(
    account.sid, hsid, { state: 'loggedout', updated: now }, { states: ['loggedin'], accountid: account.accountid, aliveAt: now },
  );
  if (ended) await ctx.bus.publish({ sid: account.sid, hsid, type: 'LOGOUT' });
  return stateOf(await reread(ctx, row), server, now);
}
