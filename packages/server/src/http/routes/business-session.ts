import { type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { LoginStatus, OtpRequest, UserContext, UserId, buildLoginUrl } from '@tapin/protocol';
import type { FastifyReply } from 'fastify';
import QRCode from 'qrcode';
import Type from 'typebox';
import type { ServiceContext } from '../../services/context.js';
import { createEnrolment } from '../../services/enrolment.js';
import { otpLogin } from '../../services/otp-login.js';
import { ensureSession, getStatus, hsidForNonce, logout, registerUser, setContext } from '../../services/sessions.js';
import { NonceHeader, SidParams, bearer, errors } from '../schemas.js';

/** The session calls of the business API (DESIGN §3). The nonce travels only in X-Nonce. */
export const businessSessionRoutes: FastifyPluginAsyncTypebox<{ ctx: ServiceContext }> = async (app, { ctx }) => {
  const tags = ['session'];
  const base = { params: SidParams, headers: NonceHeader, security: bearer, tags };
  const nonceOf = (sid: string, headers: { 'x-nonce'?: string | undefined }) => hsidForNonce(sid, headers['x-nonce']);

  app.get('/session', {
    schema: {
      ...base,
      summary: 'getSession: the LoginStatus of the session named by X-Nonce',
      querystring: Type.Object({ wait: Type.Optional(Type.Integer({ minimum: 0, maximum: 60, description: 'Long-poll: wait up to N s for a change' })) }),
      response: { 200: LoginStatus, ...errors },
    },
  }, async (req) => getStatus(ctx, req.params.sid, nonceOf(req.params.sid, req.headers), req.query.wait ?? 0));

  app.put('/session/context', {
    schema: { ...base, summary: 'setContext: announceinfo (shown when approving) and sessioninfo (session overview)', body: UserContext, response: { 200: LoginStatus, ...errors } },
  }, async (req) => setContext(ctx, req.params.sid, nonceOf(req.params.sid, req.headers), req.body));

  app.get('/session/qr', {
    schema: {
      ...base,
      summary: 'getQrLogin: the login QR data, or the QR image with ?format=svg|png',
      querystring: Type.Object({ format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('svg'), Type.Literal('png')])) }),
      response: { 200: Type.Object({ data: Type.String(), hsid: Type.String() }, { description: 'JSON, or image/svg+xml / image/png with ?format' }), ...errors },
    },
  }, async (req, reply) => {
    const hsid = nonceOf(req.params.sid, req.headers);
    const row = await ensureSession(ctx, req.params.sid, hsid);
    const data = buildLoginUrl(ctx.publicUrl, row.sid, row.hsid);
    const format = req.query.format ?? 'json';
    void reply.header('cache-control', 'no-store');
    // Images bypass the JSON response schema: a string or Buffer with its own content type is sent as is.
    const image = reply as unknown as FastifyReply;
    if (format === 'svg') return image.type('image/svg+xml').send(await QRCode.toString(data, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 }));
    if (format === 'png') return image.type('image/png').send(await QRCode.toBuffer(data, { type: 'png', errorCorrectionLevel: 'M', margin: 2, scale: 6 }));
    return { data, hsid };
  });

  app.post('/session/otp', {
    schema: {
      ...base,
      summary: 'otpLogin: log in with the offline code the phone shows (server flag ENABLE_OTP); one-shot, otplogin: true',
      description: 'The code is good in its 2-minute interval and the one before, once. 5 wrong codes lock the session and 10 wrong codes an hour lock the '
        + 'account (429 otp_locked, with Retry-After for the account). A wrong account reference and a wrong code are both 401 otp_invalid.',
      body: OtpRequest,
      response: { 200: LoginStatus, ...errors },
    },
  }, async (req) => otpLogin(ctx, req.params.sid, nonceOf(req.params.sid, req.headers), req.body.otp));

  app.post('/session/logout', {
    schema: { ...base, summary: 'logout: end the logged-in session; watchers get LOGOUT and the phone’s next ping sees loggedout', response: { 200: LoginStatus, ...errors } },
  }, async (req) => logout(ctx, req.params.sid, nonceOf(req.params.sid, req.headers)));

  app.post('/session/registeruser', {
    schema: { ...base, summary: 'registerUser: assign the logged-in account to a business user', body: Type.Object({ userid: UserId }, { additionalProperties: false }), response: { 200: LoginStatus, ...errors } },
  }, async (req) => registerUser(ctx, req.params.sid, nonceOf(req.params.sid, req.headers), req.body.userid));

  app.post('/enrolments', {
    schema: {
      params: SidParams, security: bearer, tags: ['enrolment'],
      summary: 'enrol: a one-use enrol link (10 min) to show as a QR code to a phone',
      body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 128, description: 'Suggested account name' }), userid: Type.Optional(UserId) }, { additionalProperties: false }),
      response: { 200: Type.Object({ data: Type.String(), expires: Type.Integer() }), ...errors },
    },
  }, async (req) => createEnrolment(ctx, req.params.sid, req.body.name, req.body.userid));
};
