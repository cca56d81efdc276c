import {
  type AnswerRequest, type AnswerResponse, type DeviceSession, type SessionInfo, TapinError, constantTimeEqual,
  hashAnnounceinfo, loginStatement, matchReturnUrl, randomId,
} from '@tapin/protocol';
import type { AccountRow, ServerRow, SessionRow } from '../store/store.js';
import { MAX_PIN_FAILURES, type ServiceContext } from './context.js';
import { numberChoices, pushAnswered, pushDeclinedNotMe } from './push-login.js';
import { PENDING_STATES, effectiveState, logoutSessionsOfAccount } from './sessions.js';
import { requireServer, returnUrls, serverFlags } from './virtual-servers.js';

/**
 * When a logged-in session ends unless the phone pings: two ping intervals, so that one lost ping does not log
 * anyone out. Null when pingTime is 0 (a one-shot login, which lasts until logout).
 */
export function pingDeadline(server: ServerRow, now: number): number | null {
  return server.ping_time > 0 ? now + 2 * server.ping_time * 1000 : null;
}

/** pinTimeout (minutes): −1 never ask, 0 always, N ask when the last PIN is older than N minutes. */
export function pinRequired(server: ServerRow, account: AccountRow, now: number): boolean {
  if (account.pin_pk === null || server.pin_timeout < 0) return false;
  if (server.pin_timeout === 0 || account.lastpin === null) return true;
  return now - account.lastpin > server.pin_timeout * 60_000;
}

async function pendingSession(ctx: ServiceContext, sid: string, hsid: string): Promise<SessionRow> {
  return requirePending(ctx, await ctx.store.getSession(sid, hsid));
}

function requirePending(ctx: ServiceContext, row: SessionRow | undefined, answering = false): SessionRow {
  if (!row) throw new TapinError('session_not_found');
  const state = effectiveState(row, ctx.now());
  if (state === 'expired') throw new TapinError('session_expired');
  if (!(PENDING_STATES as readonly string[]).includes(state)) {
    // Every challenge of a finished session has been used: a second answer is a replay, whether it loses the race
    // (see answerSession) or comes after the first one was stored.
    if (answering) throw new TapinError('challenge_replayed');
    throw new TapinError('session_state', `The session is ${state}.`);
  }
  return row;
}

const parseInfo = (json: string | null): SessionInfo | null => (json === null ? null : (JSON.parse(json) as SessionInfo));

/**
 * The phone opened the session: issue a one-time challenge and tell the page a phone is on it. With a return URL
 * (app-to-app login) that the virtual server does not allow, nothing happens at all: no challenge, no CONFIRMSCAN.
 */
export async function fetchSession(ctx: ServiceContext, account: AccountRow, hsid: string, returnUrl?: string): Promise<DeviceSession> {
  const server = await requireServer(ctx, account.sid);
  // Ensure the phone will only ever send the user back to a place this server allows (no open redirect).
  const allowedReturn = returnUrl === undefined ? undefined : matchReturnUrl(returnUrl, returnUrls(server));
  if (returnUrl !== undefined && allowedReturn === undefined) throw new TapinError('return_url_not_allowed');
  const now = ctx.now();
  const challenge = randomId(24);
  const challengeExpires = now + ctx.lifetimes.challengeMs;
  // One statement opens the challenge; only when it finds nothing to open is the session read, to say why.
  const row = await ctx.store.openChallenge(
    account.sid, hsid, { challenge, challenge_account: account.accountid, challenge_expires: challengeExpires, updated: now }, PENDING_STATES,
  );
  if (!row) {
    await pendingSession(ctx, account.sid, hsid);
    throw new TapinError('session_state');
  }
  // A pushed session's page already shows CONFIRMPROVOKE (and the number); a scan is news.
  // (`row` is the session as it now stands: an idle one has become scanned, a provoked one stays provoked.)
  if (row.state !== 'provoked') await ctx.bus.publish({ sid: account.sid, hsid, type: 'CONFIRMSCAN' });
  const number = row.state === 'provoked' ? await ctx.store.push.latestNumber(account.sid, hsid) : null;
  return {
    sid: account.sid, hsid, accountid: account.accountid, state: row.state as 'scanned' | 'provoked',
    announceinfo: parseInfo(row.announceinfo), challenge, challengeExpires,
    pinRequired: pinRequired(server, account, now), expires: row.expires,
    sessioninfo: parseInfo(row.sessioninfo), serverFlags: serverFlags(server), pingTime: server.ping_time,
    ...(number !== null ? { numbers: numberChoices(number) } : {}),
    ...(allowedReturn !== undefined ? { returnUrl: allowedReturn } : {}),
  };
}

/**
 * Approve or decline. The login statement is the authentication: it is signed by the account's key over the
 * one-time challenge, so it needs no request signature of its own and cannot be replayed. Each check names the
 * rule it enforces; nothing is written until every check has passed (except the wrong-PIN count, by design).
 */
export async function answerSession(ctx: ServiceContext, sid: string, hsid: string, body: AnswerRequest): Promise<AnswerResponse> {
  const now = ctx.now();
  const server = await requireServer(ctx, sid);
  const { account, session } = await ctx.store.getAccountAndSession(sid, body.accountid, hsid);
  if (!account) throw new TapinError('account_not_found');
  if (account.blocked) throw new TapinError('account_blocked');
  const row = requirePending(ctx, session, true);

  // Ensure the challenge is the one we issued, to this account, and still fresh.
  if (!row.challenge || row.challenge_account !== account.accountid || !constantTimeEqual(row.challenge, body.challenge)) {
    throw new TapinError('challenge_replayed');
  }
  if (row.challenge_expires === null || row.challenge_expires <= now) throw new TapinError('challenge_expired');

  const announceinfo = hashAnnounceinfo(parseInfo(row.announceinfo));
  const statement = loginStatement({ sid, hsid, accountid: account.accountid, challenge: row.challenge, decision: body.decision, announceinfo });
  if (!ctx.keys.verify(account.auth_pk, statement, body.signature)) throw new TapinError('bad_signature');

  // Number matching (push login): approving a provoked session needs the number its page shows, whichever phone
  // answers (one that was pushed to, or one that scanned the QR code); a wrong pick cancels the login.
  const number = row.state === 'provoked' && body.decision === 'approve' ? await ctx.store.push.latestNumber(sid, hsid) : null;
  if (number !== null && body.number !== number) {
    const cancelled = await ctx.store.updateSession(sid, hsid, { state: 'cancelled', challenge: null, updated: now }, { states: PENDING_STATES, challenge: row.challenge });
    if (!cancelled) throw new TapinError('challenge_replayed');
    await pushAnswered(ctx, sid, hsid, account, false);
    await ctx.bus.publish({ sid, hsid, type: 'CANCEL' });
    throw new TapinError('number_wrong');
  }

  let pinChecked = false;
  if (body.decision === 'approve' && account.pin_pk !== null && (body.pinsignature !== undefined || pinRequired(server, account, now))) {
    if (body.pinsignature === undefined) throw new TapinError('pin_required');
    if (!ctx.keys.verify(account.pin_pk, statement, body.pinsignature)) {
      const failures = await ctx.store.recordPinFailure(sid, account.accountid, MAX_PIN_FAILURES);
      const attemptsLeft = Math.max(0, MAX_PIN_FAILURES - failures);
      if (attemptsLeft === 0) {
        // Whoever is guessing the PIN holds the phone: what it is logged in to ends with the block.
        await logoutSessionsOfAccount(ctx, sid, account.accountid);
        throw new TapinError('account_blocked', 'Wrong PIN 5 times in a row: the account is blocked.', { attemptsLeft });
      }
      throw new TapinError('pin_wrong', undefined, { attemptsLeft });
    }
    pinChecked = true;
  }

  const approve = body.decision === 'approve';
  const proof = JSON.stringify({ statement: new TextDecoder().decode(statement), signature: body.signature, pinsignature: body.pinsignature ?? null });
  const guard = { states: PENDING_STATES, challenge: row.challenge };
  // An approval records the login on the account in the same step (one statement on PostgreSQL).
  const changed = approve
    ? await ctx.store.updateSessionAndAccount(
      sid, hsid,
      {
        state: 'loggedin', accountid: account.accountid, userid: account.userid, otplogin: 0, proof, loggedin_at: now, challenge: null,
        updated: now, ping_deadline: pingDeadline(server, now),
      },
      guard,
      account.accountid, { lastlogin: now, ...(pinChecked ? { lastpin: now, pin_failures: 0 } : {}) },
    )
    : await ctx.store.updateSession(sid, hsid, { state: 'cancelled', challenge: null, updated: now }, guard);
  if (!changed) {
    // The account was blocked or deleted while this answer was on its way, or another answer won the race.
    const current = await ctx.store.getAccount(sid, account.accountid);
    if (!current) throw new TapinError('account_not_found');
    if (current.blocked) throw new TapinError('account_blocked');
    throw new TapinError('challenge_replayed');
  }
  if (row.state === 'provoked') {
    await pushAnswered(ctx, sid, hsid, account, approve);
    if (!approve && body.notme === true) await pushDeclinedNotMe(ctx, sid, hsid, account);
  }
  await ctx.bus.publish({ sid, hsid, type: approve ? 'LOGIN' : 'CANCEL' });
  return { hsid, state: approve ? 'loggedin' : 'cancelled', pingTime: approve ? server.ping_time : 0 };
}
