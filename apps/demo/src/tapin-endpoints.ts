import { type LoginStatus, type TapinClient, TapinApiError, type UserContext, generateNonce } from '@tapin/client';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SITE } from './pages.js';
import { REMEMBER_COOKIE, type Visitor, type Visitors, cookie, parseCookies } from './visitors.js';

export interface EndpointOptions {
  tapin: TapinClient;
  visitors: Visitors;
  secure: boolean;
  serverSettings: () => Promise<DemoSettings>;
}

export interface DemoSettings {
  otp: boolean;
  pingTime: number;
}

/** Server flags change rarely; a few seconds of caching spares a Tapin call per page view. */
export function cachedSettings(tapin: TapinClient, ttlMs = 5_000): () => Promise<DemoSettings> {
  let cached: { at: number; value: DemoSettings } | undefined;
  return async () => {
    if (!cached || Date.now() - cached.at > ttlMs) {
      const s = await tapin.getSettings();
      cached = { at: Date.now(), value: { otp: s.serverFlags.includes('ENABLE_OTP'), pingTime: s.pingTime } };
    }
    return cached.value;
  };
}

const USERID_RE = /^[a-z0-9][a-z0-9._-]{2,31}$/;

/** The block's calls, checked before any handler runs (unknown fields refused: the app's Ajv keeps them). */
const HSID = { type: 'string', pattern: '^[A-Za-z0-9_-]{22}$' } as const;
const STATES = ['idle', 'scanned', 'provoked', 'loggedin', 'loggedout', 'cancelled', 'expired'] as const;
const bodyOf = (properties: Record<string, object>, required: string[]) =>
  ({ body: { type: 'object', properties, required, additionalProperties: false } }) as const;
const SCHEMAS = {
  session: bodyOf({}, []),
  status: {
    querystring: {
      type: 'object', required: ['hsid'], additionalProperties: false,
      properties: { hsid: HSID, wait: { type: 'integer', minimum: 0, maximum: 25 }, state: { type: 'string', enum: STATES } },
    },
  },
  complete: bodyOf({ hsid: HSID }, ['hsid']),
  otp: bodyOf({ hsid: HSID, otp: { type: 'string', minLength: 1, maxLength: 64 } }, ['hsid', 'otp']),
  push: bodyOf({ hsid: HSID, username: { type: 'string', minLength: 1, maxLength: 64 } }, ['hsid']),
};
const REMEMBER_SECONDS = 30 * 24 * 3600;

/** The same error shape as Tapin's own, which the login block reads. */
export function fail(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return reply.code(status).type('application/json').send({ error: { code, message } });
}

/** Words for people, for the Tapin errors a visitor can cause; anything else keeps Tapin's own message. */
function sendTapinError(reply: FastifyReply, err: unknown): FastifyReply {
  if (!(err instanceof TapinApiError)) throw err;
  const retry = err.details?.['retryAfter'];
  const messages: Record<string, string> = {
    otp_invalid: 'That code is wrong or has expired.',
    otp_locked: 'Too many wrong codes. Wait a while, or scan the code instead.',
    otp_disabled: 'Offline codes are not enabled on this site.',
    push_no_accounts: 'No phone is linked to that username.',
    // The same words as for a user without a phone: the push form does not tell who has an account here.
    user_not_found: 'No phone is linked to that username.',
    push_rate_limited: `A request was sent a moment ago. Wait${typeof retry === 'number' ? ` ${retry} s` : ' a little'} before sending another.`,
    push_not_allowed: 'Type your username to send a request.',
    session_expired: 'This login code has expired. Get a new code.',
    session_state: 'This login is already being answered on a phone.',
  };
  const status = err.responded && err.status >= 400 && err.status < 500 ? err.status : 502;
  return fail(reply, status, err.code === 'unknown' ? (err.serverCode ?? 'unknown') : err.code, messages[err.code] ?? err.message);
}

/** What the phone shows when it is asked to approve (announceinfo) and in its session list (sessioninfo). */
function contextFor(req: FastifyRequest): UserContext {
  const useragent = (req.headers['user-agent'] ?? '').slice(0, 1024);
  return {
    announceinfo: { info: { site: SITE, action: 'Log in' }, ip: req.ip, useragent },
    sessioninfo: { info: { site: SITE }, ip: req.ip, useragent },
  };
}

/**
 * The endpoints `<tapin-login>` calls on this site. Every call that needs the nonce is made here, server-side,
 * where the nonce lives in the visitor's session; the browser sees only the hsid (DESIGN §2–4).
 */
export async function tapinEndpoints(app: FastifyInstance, { tapin, visitors, secure, serverSettings }: EndpointOptions): Promise<void> {

  const remembered = (req: FastifyRequest) => {
    const name = parseCookies(req.headers.cookie).get(REMEMBER_COOKIE);
    return name && USERID_RE.test(name) ? name : undefined;
  };

  /** The login is real only if Tapin says so now, for this visitor's own nonce; then this site starts its session. */
  const establish = async (req: FastifyRequest, reply: FastifyReply, visitor: Visitor, status: LoginStatus) => {
    const login = visitor.login!;
    if (!status.loggedin || !status.accountid) return fail(reply, 409, 'not_logged_in', 'The login did not complete. Get a new code and try again.');
    if (!status.userid) {
      // An account enrolled without a user: it belongs to nobody here. End its Tapin session rather than keep it.
      await tapin.logout(login.nonce).catch(() => undefined);
      visitor.login = undefined;
      return fail(reply, 403, 'not_registered', 'This phone is not linked to an account on this site. Sign up first.');
    }
    const next = visitors.rotate(visitor, reply);
    next.user = {
      userid: status.userid, accountid: status.accountid, otplogin: status.otplogin, nonce: login.nonce, hsid: login.hsid,
      at: Date.now(), ip: req.ip, useragent: (req.headers['user-agent'] ?? '').slice(0, 300),
    };
    void reply.header('set-cookie', cookie(REMEMBER_COOKIE, status.userid, { secure, maxAge: REMEMBER_SECONDS }));
    return { redirect: '/account', userid: status.userid, otplogin: status.otplogin };
  };

  /** The login in progress for this hsid, or an error answer when there is none (another tab renewed it, or none began). */
  const pendingLogin = (req: FastifyRequest, reply: FastifyReply, hsid: unknown) => {
    const visitor = visitors.peek(req);
    if (!visitor?.login) {
      void fail(reply, 409, 'no_login', 'No login is in progress in this browser. Reload the page.');
      return undefined;
    }
    if (visitor.login.hsid !== hsid) {
      void fail(reply, 409, 'session_changed', 'The login code has changed (another tab?). Use the code shown now.');
      return undefined;
    }
    return visitor;
  };

  // A fresh Tapin session for this visitor: new nonce (kept here), context for the phone, the public side for the page.
  app.post('/auth/tapin/session', { schema: SCHEMAS.session }, async (req, reply) => {
    const visitor = visitors.get(req, reply);
    const nonce = generateNonce();
    let status: LoginStatus;
    try {
      status = await tapin.setContext(nonce, contextFor(req));
    } catch (err) {
      return sendTapinError(reply, err);
    }
    visitor.login = { nonce, hsid: status.hsid };
    const { otp } = await serverSettings();
    return {
      sid: tapin.sid,
      hsid: status.hsid,
      qrdata: status.loginqrdata,
      expiresIn: Math.max(1_000, (status.expires ?? Date.now() + 60_000) - Date.now()),
      otp,
      // One click: Tapin can push on this nonce, or this browser remembers whose phone to ask.
      canprovoke: status.canprovoke || remembered(req) !== undefined,
    };
  });

  // Long-poll fallback for pages whose WebSocket cannot connect. Answers state only, never identity.
  app.get<{ Querystring: { hsid: string; wait?: number; state?: string } }>('/auth/tapin/status', { schema: SCHEMAS.status }, async (req, reply) => {
    const visitor = visitors.peek(req);
    const login = visitor?.login;
    if (!login) return fail(reply, 409, 'no_login', 'No login is in progress in this browser.');
    if (login.hsid !== req.query.hsid) return fail(reply, 409, 'session_changed', 'The login code has changed (another tab?). Reload the page.');
    // Stop waiting at Tapin when the browser goes away.
    const gone = new AbortController();
    reply.raw.on('close', () => gone.abort());
    try {
      // Tapin's wait is for a change from now: a state the page has not seen yet is answered at once.
      const now = await tapin.getSession(login.nonce, { signal: gone.signal });
      const wait = req.query.wait ?? 0;
      const status = now.state !== req.query.state || wait === 0 ? now : await tapin.getSession(login.nonce, { wait, signal: gone.signal });
      return { hsid: status.hsid, state: status.state };
    } catch (err) {
      if (gone.signal.aborted) return reply;
      return sendTapinError(reply, err);
    }
  });

  // The page saw LOGIN: read who logged in, with the nonce, and start this site's session.
  app.post<{ Body: { hsid: string } }>('/auth/tapin/complete', { schema: SCHEMAS.complete }, async (req, reply) => {
    const visitor = pendingLogin(req, reply, req.body.hsid);
    if (!visitor) return reply;
    try {
      return await establish(req, reply, visitor, await tapin.getSession(visitor.login!.nonce));
    } catch (err) {
      return sendTapinError(reply, err);
    }
  });

  app.post<{ Body: { hsid: string; otp: string } }>('/auth/tapin/otp', { schema: SCHEMAS.otp }, async (req, reply) => {
    const visitor = pendingLogin(req, reply, req.body.hsid);
    if (!visitor) return reply;
    const otp = req.body.otp;
    if (otp.trim() === '') return fail(reply, 400, 'otp_invalid', 'Type the 12-character code your phone shows.');
    try {
      return await establish(req, reply, visitor, await tapin.otpLogin(visitor.login!.nonce, otp));
    } catch (err) {
      return sendTapinError(reply, err);
    }
  });

  // Push login: available on this Tapin server (the block shows the option only when this says so).
  app.get('/auth/tapin/push', async () => ({ available: true }));

  app.post<{ Body: { hsid: string; username?: string } }>('/auth/tapin/push', { schema: SCHEMAS.push }, async (req, reply) => {
    const visitor = pendingLogin(req, reply, req.body.hsid);
    if (!visitor) return reply;
    const typed = req.body.username;
    if (typed !== undefined && !USERID_RE.test(typed.trim().toLowerCase())) {
      return fail(reply, 400, 'bad_username', 'That is not a username here (3–32 lower-case letters, digits, dots, hyphens, underscores).');
    }
    const userid = typed !== undefined ? typed.trim().toLowerCase() : remembered(req);
    const nonce = visitor.login!.nonce;
    try {
      // Number matching: the page shows `number`; the phone must pick it among three.
      const sent = userid ? await tapin.provokeUserLogin(nonce, userid, contextFor(req)) : await tapin.provokeLogin(nonce, contextFor(req));
      return { number: sent.number };
    } catch (err) {
      return sendTapinError(reply, err);
    }
  });
}
