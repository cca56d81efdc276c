import { REQUEST_WINDOW_MS, TapinError, requestStatement, sha256Base64url } from '@tapin/protocol';
import type { AccountRow } from '../store/store.js';
import type { ServiceContext } from './context.js';

export interface SignedRequest {
  sid: string;
  accountid: string | undefined;
  time: string | undefined;
  reqid: string | undefined;
  signature: string | undefined;
  method: string;
  path: string;
  rawBody: string;
}

const REQID_RE = /^[A-Za-z0-9_-]{16,64}$/;
const ACCOUNT_RE = /^[A-Za-z0-9_-]{8,64}$/;

/**
 * Authenticates a phone's request: the account's key signed method, path, body hash, time and a random request id.
 * Checks run cheapest first; the request id is claimed only after the signature verifies, so garbage cannot fill
 * the replay table, and a claimed id makes a second delivery of the same bytes fail.
 */
export async function authenticateDevice(ctx: ServiceContext, req: SignedRequest): Promise<AccountRow> {
  const { accountid, time, reqid, signature } = req;
  if (!accountid || !time || !reqid || !signature || !ACCOUNT_RE.test(accountid) || !REQID_RE.test(reqid) || !/^\d{1,15}$/.test(time)) {
    throw new TapinError('bad_signature', 'The request is not signed (tapin-account, tapin-time, tapin-request-id, tapin-signature).');
  }
  const sentAt = Number(time);
  // Ensure the request is recent: ids are remembered only for the window.
  if (Math.abs(ctx.now() - sentAt) > REQUEST_WINDOW_MS) throw new TapinError('request_expired');
  const account = await ctx.store.getAccount(req.sid, accountid);
  if (!account) throw new TapinError('account_not_found');
  const statement = requestStatement({
    sid: req.sid, accountid, method: req.method, path: req.path, time: sentAt, reqid, body: sha256Base64url(req.rawBody),
  });
  if (!ctx.keys.verify(account.auth_pk, statement, signature)) throw new TapinError('bad_signature');
  if (!(await ctx.store.claimRequestId(reqid, sentAt + REQUEST_WINDOW_MS))) throw new TapinError('request_replayed');
  if (account.blocked) throw new TapinError('account_blocked');
  return account;
}
