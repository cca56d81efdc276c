import { type AppLoginRequest, type AppLoginResponse, generateNonce } from '@tapin/protocol';
import type { AccountRow } from '../store/store.js';
import type { ServiceContext } from './context.js';
import { fetchSession } from './device-sessions.js';
import { ensureSession, hsidForNonce, setContext } from './sessions.js';
import { requireServer } from './virtual-servers.js';

/**
 * In-app login: an app that embeds the SDK logs its own account in to its own back-end, with no QR code and no push.
 * The account asks (signed request) for a fresh session; the server makes the nonce, opens the session for that
 * account (a one-time challenge, as a scan would) and hands back both. The phone then answers it with the usual
 * signed `tapin/login/1` statement — PIN rules, proofs and audit stay exactly those of any other login — and gives
 * the nonce to the app's back-end, which reads the result with getSession and its API key.
 *
 * Why the nonce may go to the phone here: a nonce is the business back-end's secret because whoever holds it can
 * read the login it names (with an API key of that virtual server). In a QR login the phone never sees it, since the
 * phone is not the party the site trusts. In an in-app login the app *is* the party logging in, and the nonce names
 * a session that only this account can answer (the challenge is bound to it); its only use is to be handed over,
 * on the app's own TLS connection, to the app's own back-end. Holding it gains nobody else anything: reading it
 * needs the API key, and a nonce someone else obtained names their own account's login, not the victim's. A back-end
 * should still accept each nonce once and bind it to the app session it creates.
 */
export async function appLogin(ctx: ServiceContext, account: AccountRow, body: AppLoginRequest): Promise<AppLoginResponse> {
  const server = await requireServer(ctx, account.sid);
  const nonce = generateNonce();
  const hsid = hsidForNonce(account.sid, nonce);
  if (body.announceinfo !== undefined || body.sessioninfo !== undefined) await setContext(ctx, account.sid, hsid, body);
  else await ensureSession(ctx, account.sid, hsid);
  const session = await fetchSession(ctx, account, hsid);
  return { ...session, nonce, inactivityTimeout: server.inactivity_timeout };
}
