import { type ClientFrameType, type Frame, type ServerFrameType, TapinError, formatFrame, frameForState, isValidHsid, isValidSid, parseClientFrame } from '@tapin/protocol';
import type { FastifyInstance } from 'fastify';
import type {} from '@fastify/websocket';
import type { WebSocket } from 'ws';
import type { ServiceContext } from '../services/context.js';
import { takeIpPush } from '../services/push-ip-limit.js';
import { canProvoke, provokeSession } from '../services/push-login.js';
import { effectiveState } from '../services/sessions.js';

export const MAX_WATCHES_PER_SOCKET = 64;
const MAX_ERRORS_PER_SOCKET = 16;

/**
 * The browser WebSocket (DESIGN §4). It carries only public handles and state changes, never identity: whoever
 * holds a QR code's hsid may watch it, and the business back-end reads who logged in with getSession.
 */
export async function browserSocket(app: FastifyInstance, ctx: ServiceContext): Promise<void> {
  app.get('/v1/ws', { websocket: true }, (socket: WebSocket, req) => {
    const watches = new Map<string, () => void>();
    let errors = 0;

    const send = (text: string) => {
      if (socket.readyState === socket.OPEN) socket.send(text);
    };
    const fail = (code: TapinError['code'], hsid = '-', sid = '-', retryAfter?: number) => {
      send(formatFrame('ERROR', hsid, sid, code, retryAfter));
      // A client that keeps sending garbage is broken or hostile; either way it gets no more of our time.
      if (++errors >= MAX_ERRORS_PER_SOCKET) socket.close(1008, 'too many errors');
    };

    const register = async (frame: Frame<ClientFrameType>) => {
      const key = `${frame.sid}/${frame.hsid}`;
      if (!watches.has(key) && watches.size >= MAX_WATCHES_PER_SOCKET) return fail('rate_limited', frame.hsid, frame.sid);
      // Subscribe before reading the state, so that no change can slip between the two.
      const fresh = !watches.has(key);
      if (fresh) watches.set(key, ctx.bus.subscribe(frame.sid, frame.hsid, (event) => void changed(event.type, event.hsid, event.sid).catch(() => undefined)));
      const row = await ctx.store.getSession(frame.sid, frame.hsid);
      if (!row) {
        if (fresh) {
          watches.get(key)?.();
          watches.delete(key);
        }
        return fail('session_not_found', frame.hsid, frame.sid);
      }
      const type = frameForState(effectiveState(row, ctx.now()));
      await relay(type, frame.hsid, frame.sid);
      if (canProvoke(row, ctx.now())) send(formatFrame('CANPROVOKE', frame.hsid, frame.sid));
    };

    // A session that ends without a login (logged out, cancelled, expired) may be provokable again: say so, as
    // REGISTER does, so that a page that stays open can offer the push without registering anew.
    const changed = async (type: ServerFrameType, hsid: string, sid: string) => {
      await relay(type, hsid, sid);
      if (type !== 'LOGOUT' && type !== 'CANCEL' && type !== 'EXPIRED') return;
      const row = await ctx.store.getSession(sid, hsid);
      if (row && canProvoke(row, ctx.now())) send(formatFrame('CANPROVOKE', hsid, sid));
    };

    // CONFIRMPROVOKE carries the number the page shows (number matching) as its fourth field.
    const relay = async (type: ServerFrameType, hsid: string, sid: string) => {
      const number = type === 'CONFIRMPROVOKE' ? await ctx.store.push.latestNumber(sid, hsid).catch(() => null) : null;
      send(number === null ? formatFrame(type, hsid, sid) : formatFrame(type, hsid, sid, String(number).padStart(2, '0')));
    };

    // PROVOKE names the session by its hsid, but a push needs the nonce's owner: only a watcher of a session that
    // canprovoke (an account logged in on it before) may ask, and the push goes to that account only.
    const provoke = async (frame: Frame<ClientFrameType>) => {
      if (!watches.has(`${frame.sid}/${frame.hsid}`)) return fail('session_state', frame.hsid, frame.sid);
      await takeIpPush(ctx, frame.sid, req.ip);
      await provokeSession(ctx, frame.sid, frame.hsid);
    };

    socket.on('message', (data, isBinary) => {
      const frame = isBinary ? undefined : parseClientFrame(data.toString());
      if (!frame) return fail('bad_request');
      if (!isValidHsid(frame.hsid) || !isValidSid(frame.sid)) return fail('invalid_hsid');
      const key = `${frame.sid}/${frame.hsid}`;
      switch (frame.type) {
        case 'REGISTER':
          register(frame).catch(() => fail('internal', frame.hsid, frame.sid));
          return;
        case 'LOGOUT': {
          // Stop watching. Ending a login is the business back-end's call (logout with the nonce), not a page's.
          watches.get(key)?.();
          watches.delete(key);
          return;
        }
        case 'PROVOKE':
          provoke(frame).catch((e: unknown) => {
            const retryAfter = e instanceof TapinError ? e.details?.['retryAfter'] : undefined;
            fail(e instanceof TapinError ? e.code : 'internal', frame.hsid, frame.sid, typeof retryAfter === 'number' ? retryAfter : undefined);
          });
          return;
      }
    });
    socket.on('close', () => {
      for (const unsubscribe of watches.values()) unsubscribe();
      watches.clear();
    });
    socket.on('error', () => socket.terminate());
  });
}
