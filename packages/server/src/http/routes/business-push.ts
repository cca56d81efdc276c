import { type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AccountId, AuditEvent, Page, ProvokeResponse, UserContext, UserId } from '@tapin/protocol';
import type { FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { ServiceContext } from '../../services/context.js';
import { pushClientIp, takeIpPush } from '../../services/push-ip-limit.js';
import { listAudit, provokeAccount, provokeSession, provokeUser } from '../../services/push-login.js';
import { hsidForNonce } from '../../services/sessions.js';
import { NonceHeader, SidParams, bearer, errors } from '../schemas.js';

const description = 'The session (X-Nonce) becomes `provoked` and the page’s watchers get CONFIRMPROVOKE; `number` is what the page shows '
  + '(number matching, unless the server flag NO_NUMBER_MATCHING is set). At most one pending push per user; repeats for the same user wait '
  + '10 s, doubling to 1 h (429 push_rate_limited with Retry-After), and each client IP may ask for 30 a minute (the visitor\'s IP when the context '
  + 'names it in announceinfo.ip or sessioninfo.ip). No active account: 409 push_no_accounts and NOACCOUNTS.';

/** Push login calls of the business API (DESIGN §3, §8). The body (a UserContext) is optional. */
export const businessPushRoutes: FastifyPluginAsyncTypebox<{ ctx: ServiceContext }> = async (app, { ctx }) => {
  const tags = ['push'];
  const body = Type.Union([UserContext, Type.Null()]);
  const response = { 200: ProvokeResponse, ...errors };
  const hsid = (sid: string, headers: { 'x-nonce'?: string | undefined }) => hsidForNonce(sid, headers['x-nonce']);
  const context = (b: UserContext | null | undefined) => b ?? undefined;
  // Every provoke counts against the client IP first, whatever becomes of it.
  const ipLimit = async (req: FastifyRequest) =>
    takeIpPush(ctx, (req.params as { sid: string }).sid, pushClientIp(req.ip, req.body as UserContext | null | undefined));

  app.post('/session/provoke', {
    schema: {
      params: SidParams, headers: NonceHeader, security: bearer, tags, body, response, description,
      summary: 'provokeLogin: push to the account that last logged in on this nonce (only when canprovoke)',
    },
    preHandler: ipLimit,
  }, async (req) => provokeSession(ctx, req.params.sid, hsid(req.params.sid, req.headers), context(req.body)));

  app.post('/users/:userid/provokelogin', {
    schema: {
      params: Type.Object({ sid: SidParams.properties.sid, userid: UserId }), headers: NonceHeader, security: bearer, tags, body, response, description,
      summary: 'provokeLogin: push to every active account of the user',
    },
    preHandler: ipLimit,
  }, async (req) => provokeUser(ctx, req.params.sid, hsid(req.params.sid, req.headers), req.params.userid, context(req.body)));

  app.post('/accounts/:accountid/provokelogin', {
    schema: {
      params: Type.Object({ sid: SidParams.properties.sid, accountid: AccountId }), headers: NonceHeader, security: bearer, tags, body, response, description,
      summary: 'provokeLogin: push to one account',
    },
    preHandler: ipLimit,
  }, async (req) => provokeAccount(ctx, req.params.sid, hsid(req.params.sid, req.headers), req.params.accountid, context(req.body)));

  app.get('/audit', {
    schema: {
      params: SidParams, security: bearer, tags: ['audit'],
      summary: 'Security events, newest first: push_declined_notme (a user answered a push with "I did not try to log in")',
      querystring: Type.Object({
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
        marker: Type.Optional(Type.String({ maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' })),
      }),
      response: { 200: Page(AuditEvent), ...errors },
    },
  }, async (req) => listAudit(ctx, req.params.sid, req.query.limit ?? 100, req.query.marker));
};
