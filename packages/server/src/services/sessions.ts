import {
  type LoginStatus, type SessionInfo, type SessionState, type UserContext, MAX_CONTEXT_BYTES, TapinError,
  buildLoginUrl, deriveHsid, isValidNonce, utf8Encode,
} from '@tapin/protocol';
import { nodeSha256 } from '../crypto/hashes.js';
import type { SessionRow } from '../store/store.js';
import type { ServiceContext } from './context.js';
import { canProvoke } from './push-login.js';

/** States in which a session still waits for a phone; only these expire. */
export const PENDING_STATES: readonly SessionState[] = ['idle', 'scanned', 'provoked'];

export function isPending(row: SessionRow): boolean {
  return (PENDING_STATES as readonly string[]).includes(row.state);
}

/**
 * The state as the outside world sees it, whether or not the sweep has run yet: a pending session past its expiry
 * is expired, and a logged-in session whose phone stopped pinging is logged out.
 */
export function effectiveState(row: SessionRow, now: number): SessionState {
  if (isPending(row) && row.expires <= now) return 'expired';
  if (row.state === 'loggedin' && row.ping_deadline !== null && row.ping_deadline <= now) return 'loggedout';
  return row.state as SessionState;
}

export function hsidForNonce(sid: string, nonce: unknown): string {
  if (!isValidNonce(nonce)) throw new TapinError('invalid_nonce');
  return deriveHsid(sid, nonce, nodeSha256);
}

/** A session springs into being on the first business call that presents its nonce (DESIGN §2). */
export async function ensureSession(ctx: ServiceContext, sid: string, hsid: string): Promise<SessionRow> {
  return (await ctx.store.getSession(sid, hsid)) ?? ctx.store.ensureSession(newSession(ctx, sid, hsid));
}

/** A new idle session for `hsid`, as the first call that names its nonce creates it. */
export function newSession(ctx: ServiceContext, sid: string, hsid: string, context: Pick<SessionRow, 'announceinfo' | 'sessioninfo'> = { announceinfo: null, sessioninfo: null }): SessionRow {
  const now = ctx.now();
  return {
    sid, hsid, state: 'idle', created: now, expires: now + ctx.lifetimes.sessionMs, updated: now,
    accountid: null, userid: null, otplogin: 0, challenge: null, challenge_account: null, challenge_expires: null,
    ...context, proof: null, loggedin_at: null, otp_failures: 0, ping_deadline: null,
  };
}

export function loginStatus(ctx: ServiceContext, row: SessionRow): LoginStatus {
  const state = effectiveState(row, ctx.now());
  const loggedin = state === 'loggedin';
  return {
    loggedin,
    accountid: row.accountid,
    userid: row.userid,
    otplogin: row.otplogin === 1,
    canprovoke: canProvoke(row, ctx.now()),
    hsid: row.hsid,
    loginqrdata: buildLoginUrl(ctx.publicUrl, row.sid, row.hsid),
    state,
    expires: isPending(row) ? row.expires : null,
  };
}

export async function getStatus(ctx: ServiceContext, sid: string, hsid: string, waitSeconds = 0): Promise<LoginStatus> {
  if (waitSeconds <= 0) return loginStatus(ctx, await ensureSession(ctx, sid, hsid));
  // Long-poll: answer as soon as anything happens to the session, or with the unchanged status at the deadline.
  // Subscribe before reading, so a change between the read and the subscription cannot be missed.
  let changed!: () => void;
  const happened = new Promise<void>((resolve) => (changed = resolve));
  const unsubscribe = ctx.bus.subscribe(sid, hsid, () => changed());
  let timer: NodeJS.Timeout | undefined;
  try {
    const status = loginStatus(ctx, await ensureSession(ctx, sid, hsid));
    if (status.state !== 'loggedin' && !(PENDING_STATES as readonly string[]).includes(status.state)) return status;
    await Promise.race([happened, new Promise<void>((resolve) => (timer = setTimeout(resolve, waitSeconds * 1000)))]);
    const after = await ctx.store.getSession(sid, hsid);
    return after ? loginStatus(ctx, after) : status;
  } finally {
    clearTimeout(timer);
    unsubscribe();
  }
}

/** The JSON text of an announceinfo or sessioninfo, checked against the 4 KiB limit. */
export function contextJson(info: SessionInfo | undefined, what: string): string | undefined {
  if (info === undefined) return undefined;
  const json = JSON.stringify(info);
  if (utf8Encode(json).length > MAX_CONTEXT_BYTES) throw new TapinError('context_too_large', `${what} is larger than 4 KiB.`);
  return json;
}

export async function setContext(ctx: ServiceContext, sid: string, hsid: string, context: UserContext): Promise<LoginStatus> {
  const announceinfo = contextJson(context.announceinfo, 'announceinfo');
  const sessioninfo = contextJson(context.sessioninfo, 'sessioninfo');
  // Usually the first call on a session, so it tries to create the session with its context (one write, no read);
  // a session that exists already goes the way of any update.
  const created = await ctx.store.insertSession(newSession(ctx, sid, hsid, { announceinfo: announceinfo ?? null, sessioninfo: sessioninfo ?? null }));
  if (created) return loginStatus(ctx, created);
  const row = await ctx.store.getSession(sid, hsid);
  if (!row) throw new TapinError('session_not_found');
  const state = effectiveState(row, ctx.now());
  if (state === 'expired') throw new TapinError('session_expired');
  if (state !== 'loggedin' && !isPending(row)) throw new TapinError('session_state', `The session is ${state}.`);
  // What the user approves must not change under their thumb: announceinfo is fixed once a phone has scanned.
  if (announceinfo !== undefined && state !== 'idle') {
    throw new TapinError('session_state', 'announceinfo can only be set before a phone has scanned the session.');
  }
  const patch: Partial<SessionRow> = { updated: ctx.now() };
  if (announceinfo !== undefined) patch.announceinfo = announceinfo;
  if (sessioninfo !== undefined) patch.sessioninfo = sessioninfo;
  await ctx.store.updateSession(sid, hsid, patch);
  // An unguarded update of our own fields: the row as it now stands is known without reading it back.
  return loginStatus(ctx, { ...row, ...patch });
}

export async function logout(ctx: ServiceContext, sid: string, hsid: string): Promise<LoginStatus> {
  const row = await ensureSession(ctx, sid, hsid);
  if (effectiveState(row, ctx.now()) !== 'loggedin') throw new TapinError('not_logged_in');
  const changed = await ctx.store.updateSession(sid, hsid, { state: 'loggedout', updated: ctx.now() }, { states: ['loggedin'], aliveAt: ctx.now() });
  if (!changed) throw new TapinError('not_logged_in');
  await ctx.bus.publish({ sid, hsid, type: 'LOGOUT' });
  return loginStatus(ctx, (await ctx.store.getSession(sid, hsid))!);
}

/** Assigns the account that logged in on this session to a business user (created if new). */
export async function registerUser(ctx: ServiceContext, sid: string, hsid: string, userid: string): Promise<LoginStatus> {
  const row = await ensureSession(ctx, sid, hsid);
  if (effectiveState(row, ctx.now()) !== 'loggedin' || !row.accountid) throw new TapinError('not_logged_in');
  const account = await ctx.store.getAccount(sid, row.accountid);
  if (!account) throw new TapinError('account_not_found');
  await ctx.store.ensureUser(sid, userid, ctx.now());
  await ctx.store.updateAccount(sid, row.accountid, { userid });
  await ctx.store.updateSession(sid, hsid, { userid, updated: ctx.now() });
  return loginStatus(ctx, (await ctx.store.getSession(sid, hsid))!);
}

/** Marks overdue sessions expired and tells their watchers; run periodically. */
export async function expireOverdue(ctx: ServiceContext): Promise<number> {
  const expired = await ctx.store.expireSessions(ctx.now(), PENDING_STATES);
  for (const { sid, hsid } of expired) await ctx.bus.publish({ sid, hsid, type: 'EXPIRED' });
  return expired.length;
}

/** Logs out the sessions whose phone stopped pinging (pingTime > 0) and tells their watchers; run periodically. */
export async function logoutOverdue(ctx: ServiceContext): Promise<number> {
  const ended = await ctx.store.logoutOverdue(ctx.now());
  for (const { sid, hsid } of ended) await ctx.bus.publish({ sid, hsid, type: 'LOGOUT' });
  return ended.length;
}

/** Ends every logged-in session of an account that was blocked or deleted, and tells their watchers. */
export async function logoutSessionsOfAccount(ctx: ServiceContext, sid: string, accountid: string): Promise<number> {
  const ended = await ctx.store.logoutSessionsOfAccount(sid, accountid, ctx.now());
  for (const key of ended) await ctx.bus.publish({ ...key, type: 'LOGOUT' });
  return ended.length;
}
