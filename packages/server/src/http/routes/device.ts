import { type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  AnswerRequest, AnswerResponse, AppLoginRequest, AppLoginResponse, DEVICE_HEADERS, DeviceSession, DeviceSessionState, EnrolRequest, EnrolResponse, Hsid,
  MAX_RETURN_URL_LENGTH, PendingPush, PinChangeRequest, PushSubscriptionBody, SignedServerParams, TapinError,
} from '@tapin/protocol';
import type { FastifyRequest } from 'fastify';
import Type from 'typebox';
import { appLogin } from '../../services/app-login.js';
import type { ServiceContext } from '../../services/context.js';
import { logoutFromPhone, pingSession, sessionState } from '../../services/continuous-auth.js';
import { authenticateDevice } from '../../services/device-auth.js';
import { answerSession, fetchSession } from '../../services/device-sessions.js';
import { deleteAccount } from '../../services/directory.js';
import { enrol, enrolInfo } from '../../services/enrolment.js';
import { changePin } from '../../services/pin-change.js';
import { pendingPushes } from '../../services/push-login.js';
import { saveSubscription, vapidKeys } from '../../services/web-push.js';
import { countingFailures } from '../client-ip.js';
import { deviceSocket } from '../device-socket.js';
import { SidParams, errors } from '../schemas.js';

declare module 'fastify' {
  interface FastifyRequest {
    rawBody?: string;
  }
}

/** Failures that may be someone guessing; each counts against the client IP. */
const GUESSABLE = ['bad_signature', 'enrol_token_invalid', 'account_not_found', 'request_replayed', 'challenge_replayed'] as const;

const SignedHeaders = Type.Object({
  [DEVICE_HEADERS.account]: Type.Optional(Type.String()),
  [DEVICE_HEADERS.time]: Type.Optional(Type.String()),
  [DEVICE_HEADERS.reqid]: Type.Optional(Type.String()),
  [DEVICE_HEADERS.signature]: Type.Optional(Type.String()),
});

/** The device API: what the phone calls. Paths mirror `devicePaths` in @tapin/protocol. */
export const deviceRoutes: FastifyPluginAsyncTypebox<{ ctx: ServiceContext }> = async (app, { ctx }) => {
  // Keep the exact bytes: a signed request's body hash is over what was sent, not over a re-serialization.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    req.rawBody = body as string;
    if ((body as string).length === 0) return done(null, undefined);
    try {
      done(null, JSON.parse(body as string));
    } catch {
      done(new TapinError('bad_request', 'The body is not valid JSON.'), undefined);
    }
  });

  const device = async (req: FastifyRequest) => {
    const { sid } = req.params as { sid: string };
    const h = req.headers;
    const one = (name: string) => {
      const v = h[name];
      return typeof v === 'string' ? v : undefined;
    };
    return authenticateDevice(ctx, {
      sid,
      accountid: one(DEVICE_HEADERS.account),
      time: one(DEVICE_HEADERS.time),
      reqid: one(DEVICE_HEADERS.reqid),
      signature: one(DEVICE_HEADERS.signature),
      method: req.method,
      // The whole request target, query included: nothing the server reads may be left unsigned.
      path: req.url,
      rawBody: req.rawBody ?? '',
    });
  };
  const tags = ['device'];

  app.get('/enrol/:token', {
    schema: {
      tags, summary: 'Enrolment info: the signed server parameters for an enrol link',
      params: Type.Object({ sid: SidParams.properties.sid, token: Type.String({ minLength: 22, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }) }),
      response: { 200: Type.Object({ name: Type.String(), server: SignedServerParams }), ...errors },
    },
  }, (req) => countingFailures(ctx, req, GUESSABLE, () => enrolInfo(ctx, req.params.sid, req.params.token)));

  app.post('/enrol', {
    schema: { tags, summary: 'Enrol: register the phone’s keys with a one-use enrol token', params: SidParams, body: EnrolRequest, response: { 200: EnrolResponse, ...errors } },
  }, (req) => countingFailures(ctx, req, GUESSABLE, () => enrol(ctx, req.params.sid, req.body)));

  app.post('/sessions/:hsid/fetch', {
    schema: {
      tags, summary: 'Fetch a session (signed request): announceinfo and a one-time challenge; the page gets CONFIRMSCAN. With ?return= (app-to-app login) the URL must match the server’s returnUrls, else return_url_not_allowed and nothing happens',
      params: Type.Object({ sid: SidParams.properties.sid, hsid: Hsid }), headers: SignedHeaders,
      querystring: Type.Object({ return: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_RETURN_URL_LENGTH })) }, { additionalProperties: false }),
      response: { 200: DeviceSession, ...errors },
    },
  }, (req) => countingFailures(ctx, req, GUESSABLE, async () => fetchSession(ctx, await device(req), req.params.hsid, req.query.return)));

  app.post('/sessions/:hsid/answer', {
    schema: {
      tags, summary: 'Approve or decline, signed over the challenge (and with the PIN key when asked)',
      params: Type.Object({ sid: SidParams.properties.sid, hsid: Hsid }), body: AnswerRequest,
      response: { 200: AnswerResponse, ...errors },
    },
  }, (req) => countingFailures(ctx, req, GUESSABLE, () => answerSession(ctx, req.params.sid, req.params.hsid, req.body)));

  const SessionParams = Type.Object({ sid: SidParams.properties.sid, hsid: Hsid });
  app.post('/sessions/:hsid/ping', {
    schema: {
      tags, summary: 'Ping (signed request): keeps a session this account logged in alive for 2 × pingTime; an ended session answers its state. ?idle= (in-app login): seconds since the app was last used; at inactivityTimeout the session ends',
      params: SessionParams, headers: SignedHeaders,
      querystring: Type.Object({ idle: Type.Optional(Type.Integer({ minimum: 0, maximum: 10 ** 9 })) }, { additionalProperties: false }),
      response: { 200: DeviceSessionState, ...errors },
    },
  }, (req) => countingFailures(ctx, req, GUESSABLE, async () => pingSession(ctx, await device(req), req.params.hsid, req.query.idle)));

  app.get('/sessions/:hsid', {
    schema: {
      tags, summary: 'State of a session this account logged in (signed request); changes nothing — unlike a ping it does not keep the session alive',
      params: SessionParams, headers: SignedHeaders, response: { 200: DeviceSessionState, ...errors },
    },
  }, (req) => countingFailures(ctx, req, GUESSABLE, async () => sessionState(ctx, await device(req), req.params.hsid)));

  app.post('/app-login', {
    schema: {
      tags, summary: 'In-app login (signed request): a fresh session for the calling account, opened with a challenge, and its nonce for the app’s own back-end; answer it like any login',
      params: SidParams, headers: SignedHeaders, body: AppLoginRequest, response: { 200: AppLoginResponse, ...errors },
    },
  }, (req) => countingFailures(ctx, req, GUESSABLE, async () => appLogin(ctx, await device(req), req.body)));

  app.post('/pin', {
    schema: {
      tags, summary: 'Change the PIN (signed request): the current and the new second-factor key both sign tapin/pin/1; a wrong current PIN counts as a wrong PIN',
      params: SidParams, headers: SignedHeaders, body: PinChangeRequest, response: { 200: Type.Object({ ok: Type.Boolean() }), ...errors },
    },
  }, (req) => countingFailures(ctx, req, GUESSABLE, async () => changePin(ctx, await device(req), req.body)));

  app.post('/sessions/:hsid/logout', {
    schema: {
      tags, summary: 'Log out (signed request) a session this account logged in; the page’s watchers get LOGOUT',
      params: SessionParams, headers: SignedHeaders, response: { 200: DeviceSessionState, ...errors },
    },
  }, (req) => countingFailures(ctx, req, GUESSABLE, async () => logoutFromPhone(ctx, await device(req), req.params.hsid)));

  app.get('/pushes', {
    schema: {
      tags, summary: 'Pending push logins for the calling account (signed request): ids only; fetch each session for the details',
      params: SidParams, headers: SignedHeaders, response: { 200: Type.Object({ items: Type.Array(PendingPush) }), ...errors },
    },
  }, (req) => countingFailures(ctx, req, GUESSABLE, async () => pendingPushes(ctx, await device(req))));

  deviceSocket(app, ctx);

  app.get('/push/vapid', {
    schema: { tags, summary: 'The VAPID public key to subscribe with (applicationServerKey, base64url)', params: SidParams, response: { 200: Type.Object({ publicKey: Type.String() }), ...errors } },
  }, async () => ({ publicKey: (await vapidKeys(ctx)).publicKey }));

  app.post('/push/subscription', {
    schema: {
      tags, summary: 'Register a Web Push subscription for the calling account (signed request); pushes then carry ids only',
      params: SidParams, headers: SignedHeaders, body: PushSubscriptionBody, response: { 200: Type.Object({ ok: Type.Boolean() }), ...errors },
    },
  }, (req) => countingFailures(ctx, req, GUESSABLE, async () => saveSubscription(ctx, await device(req), req.body)));

  app.get('/account', {
    schema: {
      tags, summary: 'The calling account’s own state (signed request); a blocked or deleted account gets an error',
      params: SidParams, headers: SignedHeaders,
      response: { 200: Type.Object({ accountid: Type.String(), userid: Type.Union([Type.String(), Type.Null()]), description: Type.String(), blocked: Type.Boolean() }), ...errors },
    },
  }, (req) => countingFailures(ctx, req, GUESSABLE, async () => {
    const account = await device(req);
    return { accountid: account.accountid, userid: account.userid, description: account.description, blocked: account.blocked === 1 };
  }));

  app.delete('/account', {
    schema: {
      tags, summary: 'The phone removes its own account (signed request); its logged-in sessions end',
      params: SidParams, headers: SignedHeaders, response: { 200: Type.Object({ ok: Type.Boolean() }), ...errors },
    },
  }, (req) => countingFailures(ctx, req, GUESSABLE, async () => {
    const account = await device(req);
    await deleteAccount(ctx, account.sid, account.accountid);
    return { ok: true };
  }));
};
