import {
  type AuditEvent, type PendingPush, type ProvokeResponse, type SessionState, type UserContext, SERVER_FLAGS, TapinError, randomBytes, randomId,
} from '@tapin/protocol';
import type { AccountRow, SessionRow } from '../store/store.js';
import type { PushRequestRow } from '../store/push-store.js';
import type { ServiceContext } from './context.js';
import { contextJson, effectiveState, ensureSession } from './sessions.js';
import { requireServer, serverFlags } from './virtual-servers.js';
import { sendWebPushes } from './web-push.js';

/** Anti-fatigue defaults (DESIGN §8): repeated provokes for one user wait 10 s, doubling up to 1 h. */
export const PUSH_BACKOFF_MIN_MS = 10_000;
export const PUSH_BACKOFF_MAX_MS = 3600_000;
/** Accounts a user-wide provoke reaches at most. */
const MAX_PUSH_ACCOUNTS = 20;

/** States from which a session may (re)start as a push login: never while a phone is on it or it is logged in. */
const PROVOKABLE: readonly SessionState[] = ['idle', 'provoked', 'loggedout', 'cancelled', 'expired'];

/**
 * Whether `POST /session/provoke` may push this session: an account logged in on this nonce before, and the
 * session is not logged in or being answered now.
 */
export function canProvoke(row: SessionRow, now: number): boolean {
  const state = effectiveState(row, now);
  return row.accountid !== null && state !== 'idle' && PROVOKABLE.includes(state);
}

const userKey = (account: AccountRow) => (account.userid === null ? `a:${account.accountid}` : `u:${account.userid}`);

/** A 2-digit number (10–99) for number matching. */
export function randomNumber(): number {
  // Rejection sampling: bytes 180–255 would make the low numbers likelier.
  for (;;) {
    const byte = randomBytes(1)[0] ?? 0;
    if (byte < 180) return 10 + (byte % 90);
  }
}

/** The three numbers the phone offers: the right one and two other distinct 2-digit numbers, shuffled. */
export function numberChoices(right: number): number[] {
  const set = new Set([right]);
  while (set.size < 3) set.add(randomNumber());
  const list = [...set];
  for (let i = list.length - 1; i > 0; i--) {
    const j = (randomBytes(1)[0] ?? 0) % (i + 1);
    [list[i], list[j]] = [list[j]!, list[i]!];
  }
  return list;
}

/** Takes the user's push slot or throws push_rate_limited with the wait in Retry-After. */
async function takePushSlot(ctx: ServiceContext, sid: string, userkey: string, now: number): Promise<void> {
  const previous = await ctx.store.push.getLimit(sid, userkey);
  const wait = (until: number) => new TapinError('push_rate_limited', undefined, { retryAfter: Math.max(1, Math.ceil((until - now) / 1000)) });
  const blockedUntil = previous?.blocked_until ?? null;
  if (blockedUntil !== null && blockedUntil > now) throw wait(blockedUntil);
  if (previous && previous.next_allowed > now) throw wait(previous.next_allowed);
  // The back-off grows while provokes keep coming; an hour of quiet (or a login) starts it over. Quiet counts from
  // when the wait ended, not from the last provoke: else a wait of the full hour (the cap) would itself reset it.
  const repeat = previous !== undefined && previous.interval_ms > 0 && now - previous.next_allowed < PUSH_BACKOFF_MAX_MS;
  const interval = repeat ? Math.min(previous.interval_ms * 2, PUSH_BACKOFF_MAX_MS) : PUSH_BACKOFF_MIN_MS;
  const taken = await ctx.store.push.setLimit(
    { sid, userkey, next_allowed: now + interval, interval_ms: interval, last_provoke: now, blocked_until: previous?.blocked_until ?? null },
    previous,
  );
  if (!taken) throw wait(now + 1000);
}

/**
 * Sends a push login for the session to `accounts` (one user's). The session becomes `provoked`, each active
 * account gets a pending request (ids only; the phone fetches the details), the page's watchers get CONFIRMPROVOKE.
 */
async function provoke(ctx: ServiceContext, sid: string, hsid: string, accounts: AccountRow[], context: UserContext | undefined): Promise<ProvokeResponse> {
  const announceinfo = contextJson(context?.announceinfo, 'announceinfo');
  const sessioninfo = contextJson(context?.sessioninfo, 'sessioninfo');
  const now = ctx.now();
  const server = await requireServer(ctx, sid);
  const row = await ensureSession(ctx, sid, hsid);
  const state = effectiveState(row, now);
  if (!PROVOKABLE.includes(state)) throw new TapinError('session_state', `The session is ${state}.`);
  const active = accounts.filter((a) => a.blocked === 0);
  if (active.length === 0) {
    await ctx.bus.publish({ sid, hsid, type: 'NOACCOUNTS' });
    throw new TapinError('push_no_accounts');
  }
  const userkey = userKey(active[0]!);
  await takePushSlot(ctx, sid, userkey, now);

  const expires = now + ctx.lifetimes.sessionMs;
  const changed = await ctx.store.updateSession(
    sid, hsid,
    {
      state: 'provoked', expires, updated: now, challenge: null, challenge_account: null, challenge_expires: null,
      // A restarted session shows what this push is about, not what an earlier login showed.
      ...(state === 'idle' || state === 'provoked' ? {} : { announceinfo: null, sessioninfo: null, ping_deadline: null }),
      ...(announceinfo !== undefined ? { announceinfo } : {}),
      ...(sessioninfo !== undefined ? { sessioninfo } : {}),
    },
    { states: [row.state] },
  );
  if (!changed) throw new TapinError('session_state');

  const number = serverFlags(server).includes(SERVER_FLAGS.NO_NUMBER_MATCHING) ? null : randomNumber();
  // At most one pending push per user: a new one replaces the old, and the old one's session ends with it. Left
  // provoked, a phone that had opened it could still answer it, and the page would wait for nothing.
  await ctx.store.push.closeSession(sid, hsid);
  for (const older of await ctx.store.push.supersedePending(sid, userkey)) {
    if (older === hsid) continue;
    const cancelled = await ctx.store.updateSession(sid, older, { state: 'cancelled', challenge: null, updated: now }, { states: ['provoked'] });
    if (cancelled) await ctx.bus.publish({ sid, hsid: older, type: 'CANCEL' });
  }
  const requests = active.map((a): PushRequestRow => ({
    pushid: randomId(16), sid, hsid, accountid: a.accountid, userkey, number, state: 'pending', created: now, expires,
  }));
  await ctx.store.push.createRequests(requests);
  // Web Push goes out in the background: the answer does not wait for push services.
  void sendWebPushes(ctx, requests).catch(() => undefined);
  await ctx.bus.publish({ sid, hsid, type: 'CONFIRMPROVOKE' });
  for (const a of active) await ctx.bus.publish({ sid, hsid: pushChannel(a.accountid), type: 'CONFIRMPROVOKE' });
  return { hsid, state: 'provoked', accounts: active.length, number, expires };
}

/** The event-bus key on which a device socket hears that its account has a new push (the bus is keyed by sid + name). */
export const pushChannel = (accountid: string) => `push:${accountid}`;

/** `POST /session/provoke`: to the account that last logged in on this nonce, when canprovoke. */
export async function provokeSession(ctx: ServiceContext, sid: string, hsid: string, context?: UserContext): Promise<ProvokeResponse> {
  const row = await ensureSession(ctx, sid, hsid);
  if (!canProvoke(row, ctx.now())) throw new TapinError('push_not_allowed');
  const account = await ctx.store.getAccount(sid, row.accountid!);
  return provoke(ctx, sid, hsid, account ? [account] : [], context);
}

/** `POST /users/{userid}/provokelogin`: to every account of the user. */
export async function provokeUser(ctx: ServiceContext, sid: string, hsid: string, userid: string, context?: UserContext): Promise<ProvokeResponse> {
  await requireServer(ctx, sid);
  const user = await ctx.store.getUser(sid, userid);
  if (!user) throw new TapinError('user_not_found');
  const { items } = await ctx.store.listAccounts(sid, { limit: MAX_PUSH_ACCOUNTS, userid });
  return provoke(ctx, sid, hsid, items, context);
}

/** `POST /accounts/{accountid}/provokelogin`. */
export async function provokeAccount(ctx: ServiceContext, sid: string, hsid: string, accountid: string, context?: UserContext): Promise<ProvokeResponse> {
  await requireServer(ctx, sid);
  const account = await ctx.store.getAccount(sid, accountid);
  if (!account) throw new TapinError('account_not_found');
  return provoke(ctx, sid, hsid, [account], context);
}

/** The pending pushes of the calling account (the device pull). */
export async function pendingPushes(ctx: ServiceContext, account: AccountRow): Promise<{ items: PendingPush[] }> {
  const rows = await ctx.store.push.listPendingForAccount(account.sid, account.accountid, ctx.now());
  return { items: rows.map((r) => ({ pushid: r.pushid, sid: r.sid, hsid: r.hsid, created: r.created, expires: r.expires })) };
}

/**
 * "I did not try to log in": someone else asked for this push. Pushes to the user stop for `pushBlockMs` and an
 * audit event tells the business.
 */
export async function pushDeclinedNotMe(ctx: ServiceContext, sid: string, hsid: string, account: AccountRow): Promise<void> {
  const now = ctx.now();
  const until = now + ctx.lifetimes.pushBlockMs;
  await ctx.store.push.blockUser(sid, userKey(account), until, now);
  // Ids that sort by time (for the newest-first listing), unique by their random tail.
  const id = `${now.toString(36).padStart(10, '0')}${randomId(8)}`;
  await ctx.store.push.addAudit({ id, sid, type: 'push_declined_notme', at: now, userid: account.userid, accountid: account.accountid, hsid, blocked_until: until });
}

/** Security-relevant events, newest first. */
export async function listAudit(ctx: ServiceContext, sid: string, limit: number, marker?: string): Promise<{ items: AuditEvent[]; marker: string | null }> {
  await requireServer(ctx, sid);
  const page = await ctx.store.push.listAudit(sid, limit, marker);
  return {
    items: page.items.map((r) => ({
      id: r.id, type: r.type as AuditEvent['type'], at: r.at, userid: r.userid, accountid: r.accountid, hsid: r.hsid, blockedUntil: r.blocked_until,
    })),
    marker: page.marker,
  };
}

/** A session ended (answered, cancelled): its pending pushes go, and a login resets the user's back-off. */
export async function pushAnswered(ctx: ServiceContext, sid: string, hsid: string, account: AccountRow, loggedIn: boolean): Promise<void> {
  await ctx.store.push.closeSession(sid, hsid);
  if (loggedIn) await ctx.store.push.clearLimit(sid, userKey(account));
}
