import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import websocket from '@fastify/websocket';
import { MAX_FRAME_LENGTH } from '@tapin/protocol';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { ServiceContext } from '../services/context.js';
import { browserSocket } from './browser-socket.js';
import { authenticatorApp } from './authenticator-app.js';
import { authenticateBusiness } from './business-auth.js';
import { installErrorHandling } from './errors.js';
import { installValidation } from './validation.js';
import { businessAdminRoutes } from './routes/business-admin.js';
import { businessPushRoutes } from './routes/business-push.js';
import { businessSessionRoutes } from './routes/business-session.js';
import { deviceRoutes } from './routes/device.js';
import { htmlRoutes, loginBlockScript } from './routes/html.js';

export const BODY_LIMIT = 64 * 1024;

export interface AppOptions {
  logger?: FastifyServerOptions['logger'];
  /**
   * Take the client IP from X-Forwarded-For: `true` trusts every hop (only when the proxy in front replaces the
   * header rather than appending to it), a string trusts only the listed addresses/CIDRs (comma-separated).
   */
  trustProxy?: boolean | string;
  /** Serve HTTPS with this certificate and key (PEM); default plain HTTP (put a TLS proxy in front). */
  https?: { cert: string | Buffer; key: string | Buffer } | undefined;
  /** Where the built authenticator app is (default: @tapin/authenticator's dist, when built). */
  appDir?: string | undefined;
}

/** The HTTP application: business API, device API, browser WebSocket and docs as separate plugins over one context. */
export async function buildApp(ctx: ServiceContext, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    ...(options.https ? { https: options.https } : {}),
    logger: options.logger ?? false,
    trustProxy: options.trustProxy ?? false,
    bodyLimit: BODY_LIMIT,
  }).withTypeProvider<TypeBoxTypeProvider>();

  installValidation(app);
  installErrorHandling(app);
  await app.register(swagger, {
    openapi: {
      info: { title: 'Tapin API', version: '1', description: 'Business API (DESIGN §3) and device API. Errors are `{error: {code, message}}` with stable codes.' },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'tapin.<keyid>.<secret> — one virtual server' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(websocket, { options: { maxPayload: MAX_FRAME_LENGTH * 4 } });

  await app.register(async (business) => {
    business.addHook('onRequest', async (request) => authenticateBusiness(ctx, request));
    await business.register(businessSessionRoutes, { ctx });
    await business.register(businessAdminRoutes, { ctx });
    await business.register(businessPushRoutes, { ctx });
    await business.register(htmlRoutes, { ctx });
  }, { prefix: '/v1/servers/:sid' });
  await app.register(deviceRoutes, { ctx, prefix: '/v1/device/:sid' });
  await app.register(async (ws) => browserSocket(ws, ctx));
  await app.register(authenticatorApp, { dir: options.appDir });
  await app.register(loginBlockScript);
  app.get('/healthz', { schema: { hide: true } as object }, async () => ({ ok: true }));
  return app;
}
