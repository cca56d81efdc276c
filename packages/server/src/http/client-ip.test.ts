import { randomId } from '@tapin/protocol';
import type { FastifyInstance } from 'fastify';
import { afterEach, expect, it } from 'vitest';
import { createContext } from '../context-factory.js';
import type { ServiceContext } from '../services/context.js';
import { createVirtualServer } from '../services/virtual-servers.js';
import { buildApp } from './app.js';

/**
 * Whose failures count: behind a proxy the client IP comes from X-Forwarded-For. With `--trust-proxy <addresses>`
 * only the named proxies are believed, so a client cannot escape its count by inventing earlier hops.
 */
let ctx: ServiceContext;
let app: FastifyInstance;
afterEach(async () => {
  await app.close();
  await ctx.bus.close();
  await ctx.store.close();
});

async function start(trustProxy: boolean | string) {
  ({ ctx } = await createContext({ db: ':memory:', publicUrl: 'http://localhost', ipFailuresPerMinute: 3 }));
  const { sid } = await createVirtualServer(ctx, 'Test');
  app = await buildApp(ctx, { trustProxy });
  // A proxy on 10.0.0.1 that appends the address it saw to whatever the client sent.
  return (spoofed: string) =>
    app.inject({
      method: 'GET', url: `/v1/servers/${sid}/`, remoteAddress: '10.0.0.1',
      headers: { authorization: `Bearer tapin.${randomId(12)}.${randomId(32)}`, 'x-forwarded-for': `${spoofed}, 198.51.100.4` },
    });
}

it('--trust-proxy with the proxy\'s address: the count is of the address the proxy saw, whatever the client claims', async () => {
  const call = await start('10.0.0.0/8');
  for (let i = 0; i < 3; i++) expect((await call(`192.0.2.${i}`)).statusCode).toBe(401);
  expect((await call('192.0.2.99')).statusCode).toBe(429);
});

it('--trust-proxy without addresses believes every hop: only right behind a proxy that replaces the header', async () => {
  const call = await start(true);
  // Each invented first hop is a new "client": this is why the proxy must overwrite X-Forwarded-For.
  for (let i = 0; i < 5; i++) expect((await call(`192.0.2.${i}`)).statusCode).toBe(401);
});
