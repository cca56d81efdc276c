import { type ErrorCode, TapinError, devicePaths } from '@tapin/protocol';
import type { FastifyInstance } from 'fastify';
import type {} from '@fastify/websocket';
import type { WebSocket } from 'ws';
import type { ServiceContext } from '../services/context.js';
import { authenticateDevice } from '../services/device-auth.js';
import { pushChannel } from '../services/push-login.js';

/** How long a new device socket may take to authenticate. */
const AUTH_TIMEOUT_MS = 10_000;

/**
 * The device WebSocket (DESIGN §8, delivery 1 of 3): while the app is open it hears of each push at once. The
 * first frame authenticates (a signed request over GET and the socket path); after that the server only sends
 * `{"type":"push", pushid, sid, hsid}` — ids, never details, which the phone fetches with its key.
 */
export function deviceSocket(app: FastifyInstance, ctx: ServiceContext): void {
  app.get('/ws', { websocket: true }, (socket: WebSocket, req) => {
    const { sid } = req.params as { sid: string };
    let unsubscribe: (() => void) | undefined;
    const sent = new Set<string>();
    // Closing codes tell the phone whether to come back: 1008 (with the error code as the reason) means this account
    // will not be let in as it is (bad signature, blocked, deleted); 1013 (try again later) a slow first frame.
    const refuse = (code: ErrorCode) => socket.close(1008, code);
    const timer = setTimeout(() => socket.close(1013, 'server_timeout'), AUTH_TIMEOUT_MS);

    const deliver = async (accountid: string) => {
      const account = await ctx.store.getAccount(sid, accountid);
      if (!account || account.blocked) return refuse(account ? 'account_blocked' : 'account_not_found');
      for (const push of await ctx.store.push.listPendingForAccount(sid, accountid, ctx.now())) {
        if (sent.has(push.pushid)) continue;
        sent.add(push.pushid);
        if (socket.readyState === socket.OPEN) socket.send(JSON.stringify({ type: 'push', pushid: push.pushid, sid, hsid: push.hsid }));
      }
    };

    socket.on('message', (data, isBinary) => {
      if (unsubscribe || isBinary) return refuse('bad_request');
      let auth: { account?: unknown; time?: unknown; reqid?: unknown; signature?: unknown };
      try {
        auth = JSON.parse(data.toString()) as typeof auth;
      } catch {
        return refuse('bad_request');
      }
      const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
      authenticateDevice(ctx, {
        sid, accountid: str(auth.account), time: str(auth.time), reqid: str(auth.reqid), signature: str(auth.signature),
        method: 'GET', path: devicePaths.socket(sid), rawBody: '',
      }).then(async (account) => {
        clearTimeout(timer);
        if (socket.readyState !== socket.OPEN) return;
        // Subscribe before the first listing, so that no push can slip between the two.
        unsubscribe = ctx.bus.subscribe(sid, pushChannel(account.accountid), () => void deliver(account.accountid).catch(() => undefined));
        socket.send(JSON.stringify({ type: 'ready', accountid: account.accountid }));
        await deliver(account.accountid);
      }).catch((err: unknown) => refuse(err instanceof TapinError ? err.code : 'internal'));
    });
    socket.on('close', () => {
      clearTimeout(timer);
      unsubscribe?.();
    });
    socket.on('error', () => socket.terminate());
  });
}
