import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { TapinApiError, TapinClient } from '@tapin/client';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import QRCode from 'qrcode';
import type { Html } from './html.js';
import { accountPage, enrolPage, errorPage, homePage, loginPage, signupPage } from './pages.js';
import { cachedSettings, fail, tapinEndpoints } from './tapin-endpoints.js';
import { type Visitor, Visitors } from './visitors.js';

export interface DemoOptions {
  /** The Tapin server's URL as this back-end reaches it (business API). */
  tapinUrl: string;
  sid: string;
  apiKey: string;
  /** Cookies get `Secure` (set it when the site is served over https). */
  secure?: boolean;
  /** Passed to the login block: how often it renews an unused code by itself (default: the block's own). */
  maxRenewals?: number;
  logger?: boolean;
}

const USERID_RE = /^[a-z0-9][a-z0-9._-]{2,31}$/;
const SIGNUP_HOLD_MS = 10 * 60_000;
const publicDir = join(import.meta.dirname, '..', 'public');

/**
 * The demo business website: sign-up with an enrol QR, a login page with `<tapin-login>`, a protected account
 * page and logout — everything through @tapin/client, the way an integrator would build it.
 */
export async function buildDemoApp(options: DemoOptions): Promise<FastifyInstance> {
  const tapin = new TapinClient({ url: options.tapinUrl, sid: options.sid, apiKey: options.apiKey });
  const secure = options.secure ?? false;
  const visitors = new Visitors(secure);
  // Unknown fields are refused rather than silently dropped (Fastify's Ajv removes them by default).
  const app = Fastify({ logger: options.logger ?? false, bodyLimit: 16 * 1024, ajv: { customOptions: { removeAdditional: false } } });
  const tapinOrigin = new URL(options.tapinUrl);
  const socketOrigin = `${tapinOrigin.protocol === 'https:' ? 'wss:' : 'ws:'}//${tapinOrigin.host}`;
  // Usernames being enrolled right now, so that two visitors cannot claim the same one at once.
  const held = new Map<string, { visitor: string; until: number }>();

  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  app.addHook('onSend', async (_req, reply) => {
    void reply.header('x-content-type-options', 'nosniff').header('referrer-policy', 'same-origin');
    if (String(reply.getHeader('content-type') ?? '').startsWith('text/html')) {
      // The login block needs no inline script or style: a strict policy works, with the Tapin socket allowed.
      void reply.header('content-security-policy', `default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; `
        + `connect-src 'self' ${socketOrigin}; frame-ancestors 'none'; base-uri 'none'; form-action 'self'`);
      void reply.header('cache-control', 'no-store');
    }
  });

  // State-changing calls come from this site's own pages only (JSON calls need a CORS preflight anyway; forms carry a token).
  app.addHook('preHandler', async (req, reply) => {
    if (req.method !== 'POST') return;
    const origin = req.headers.origin;
    const site = req.headers['sec-fetch-site'];
    if ((origin && origin !== `${req.protocol}://${req.headers.host}`) || site === 'cross-site') {
      return fail(reply, 403, 'cross_site', 'Cross-site requests are not accepted.');
    }
  });

  const page = (reply: FastifyReply, body: Html, status = 200) => reply.code(status).type('text/html; charset=utf-8').send(body.value);
  const checkCsrf = (visitor: Visitor | undefined, body: unknown) =>
    !!visitor && typeof body === 'object' && body !== null && (body as Record<string, unknown>)['csrf'] === visitor.csrf;

  // Before the routes are registered, so that the block's endpoints (a plugin of their own) answer with it too.
  app.setErrorHandler((err: { statusCode?: number; message: string }, req, reply) => {
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) return fail(reply, status, 'bad_request', err.message);
    req.log.error({ err }, 'demo error');
    if (req.url.startsWith('/auth/') || req.url.startsWith('/signup/status')) {
      return fail(reply, 502, 'server_error', 'The login service did not answer. Try again in a moment.');
    }
    return page(reply, errorPage(500, 'The login service did not answer. Try again in a moment.'), 500);
  });
  const serverSettings = cachedSettings(tapin);
  await app.register(tapinEndpoints, { tapin, visitors, secure, serverSettings });

  app.get('/', async (req, reply) => page(reply, homePage(visitors.peek(req)?.user)));

  app.get('/signup', async (req, reply) => page(reply, signupPage({ csrf: visitors.get(req, reply).csrf })));

  app.post<{ Body: Record<string, string> }>('/signup', async (req, reply) => {
    const visitor = visitors.peek(req);
    if (!checkCsrf(visitor, req.body)) return page(reply, errorPage(403, 'This form has expired. Go back and try again.'), 403);
    const userid = String(req.body['userid'] ?? '').trim().toLowerCase();
    const again = (error: string) => page(reply, signupPage({ csrf: visitor!.csrf, userid, error }), 400);
    if (!USERID_RE.test(userid)) return again('Choose 3–32 characters: lower-case letters, digits, dots, hyphens or underscores, starting with a letter or digit.');
    const hold = held.get(userid);
    if (hold && hold.until > Date.now() && hold.visitor !== visitor!.id) return again('That username is being claimed right now. Choose another.');
    try {
      await tapin.getUser(userid);
      return again('That username is taken. Choose another.');
    } catch (err) {
      if (!(err instanceof TapinApiError) || err.code !== 'user_not_found') throw err;
    }
    // The enrol link carries the userid: the phone's new account is assigned to this user as it enrols.
    const enrolment = await tapin.enrol({ name: 'Tapin demo', userid });
    held.set(userid, { visitor: visitor!.id, until: Date.now() + SIGNUP_HOLD_MS });
    visitor!.signup = { userid, enrolUrl: enrolment.data, expires: enrolment.expires };
    return reply.code(303).header('location', '/signup/enrol').send();
  });

  app.get('/signup/enrol', async (req, reply) => {
    const signup = visitors.peek(req)?.signup;
    if (!signup) return reply.code(303).header('location', '/signup').send();
    const qrDataUrl = await QRCode.toDataURL(signup.enrolUrl, { errorCorrectionLevel: 'M', margin: 2, scale: 8 });
    return page(reply, enrolPage({ ...signup, qrDataUrl }));
  });

  // Polled by the enrol page: has a phone enrolled for this user yet?
  app.get('/signup/status', async (req, reply) => {
    const signup = visitors.peek(req)?.signup;
    if (!signup) return fail(reply, 409, 'no_signup', 'No sign-up in progress.');
    const accounts = await tapin.getUserAccounts(signup.userid).catch((err: unknown) => {
      if (err instanceof TapinApiError && err.code === 'user_not_found') return { items: [] };
      throw err;
    });
    if (accounts.items.length > 0) held.delete(signup.userid);
    return { enrolled: accounts.items.length > 0, expired: accounts.items.length === 0 && signup.expires < Date.now() };
  });

  app.get<{ Querystring: { notice?: string } }>('/login', async (req, reply) => {
    if (visitors.peek(req)?.user) return reply.code(303).header('location', '/account').send();
    return page(reply, loginPage({ notice: req.query.notice ?? Object.keys(req.query)[0], maxRenewals: options.maxRenewals }));
  });

  app.get('/account', async (req, reply) => {
    const visitor = visitors.peek(req);
    const user = visitor?.user;
    if (!visitor || !user) return reply.code(303).header('location', '/login').send();
    // Tapin is the truth: the phone may have logged out, or stopped pinging.
    const status = await tapin.getSession(user.nonce);
    if (!status.loggedin) {
      visitors.destroy(visitor, reply);
      return reply.code(303).header('location', '/login?ended').send();
    }
    const account = await tapin.getAccount(user.accountid).catch(() => undefined);
    const { pingTime } = await serverSettings();
    return page(reply, accountPage({ user, csrf: visitor.csrf, state: status.state, device: account?.description, enrolled: account?.created, pingTime }));
  });

  app.post('/logout', async (req, reply) => {
    const visitor = visitors.peek(req);
    if (!checkCsrf(visitor, req.body)) return page(reply, errorPage(403, 'This form has expired. Go back and try again.'), 403);
    if (visitor!.user) {
      // Logging out at Tapin tells the phone (its history shows the session ended) and any watching page.
      await tapin.logout(visitor!.user.nonce).catch((err: unknown) => {
        if (!(err instanceof TapinApiError) || err.code !== 'not_logged_in') throw err;
      });
    }
    visitors.destroy(visitor!, reply);
    return reply.code(303).header('location', '/login?loggedout').send();
  });

  const assets: Record<string, { file: () => string; type: string }> = {
    // Served from the installed package, as an integrator would (or copy it into your own static files).
    'tapin-login.js': { file: () => createRequire(import.meta.url).resolve('@tapin/login-block/bundle'), type: 'text/javascript; charset=utf-8' },
    'demo.css': { file: () => join(publicDir, 'demo.css'), type: 'text/css; charset=utf-8' },
    'enrol.js': { file: () => join(publicDir, 'enrol.js'), type: 'text/javascript; charset=utf-8' },
  };
  app.get<{ Params: { name: string } }>('/assets/:name', async (req, reply) => {
    const asset = Object.hasOwn(assets, req.params.name) ? assets[req.params.name] : undefined;
    if (!asset) return page(reply, errorPage(404, 'No such file.'), 404);
    return reply.type(asset.type).header('cache-control', 'no-cache').send(await readFile(asset.file()));
  });

  app.setNotFoundHandler((_req: FastifyRequest, reply) => page(reply, errorPage(404, 'There is no such page.'), 404));
  return app;
}
