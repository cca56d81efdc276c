import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { type ContextOptions, createContext } from './context-factory.js';
import { buildApp } from './http/app.js';
import type { ServiceContext } from './services/context.js';
import { expireOverdue } from './services/sessions.js';
import { type CreatedServer, createVirtualServer } from './services/virtual-servers.js';

export interface ServeOptions extends Omit<ContextOptions, 'publicUrl'> {
  port: number;
  host: string;
  publicUrl?: string | undefined;
  logger?: FastifyServerOptions['logger'];
  trustProxy?: boolean;
  /** How often overdue sessions are marked expired and old rows purged. */
  sweepIntervalMs?: number;
}

export interface RunningServer {
  app: FastifyInstance;
  ctx: ServiceContext;
  url: string;
  database: string;
  /** Set when the database was empty and a first virtual server was made. */
  created: CreatedServer | undefined;
  keyCreated: string | undefined;
  close(): Promise<void>;
}

/** Starts a Tapin server: database, migrations, first virtual server if there is none, HTTP + WebSocket, sweeper. */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const shownHost = options.host === '0.0.0.0' || options.host === '::' ? 'localhost' : options.host;
  // The public URL goes into QR codes, so it must be known before the first request; with port 0 it is fixed up below.
  let publicUrl = options.publicUrl ?? `http://${shownHost}:${options.port}`;
  const { ctx, keyCreated, description } = await createContext({ ...options, publicUrl });
  let created: CreatedServer | undefined;
  if ((await ctx.store.listServers()).length === 0) created = await createVirtualServer(ctx, 'Tapin');

  const app = await buildApp(ctx, { logger: options.logger, trustProxy: options.trustProxy ?? false });
  await app.listen({ port: options.port, host: options.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  if (!options.publicUrl) {
    publicUrl = `http://${shownHost}:${port}`;
    ctx.publicUrl = publicUrl;
  }

  let sweeping = false;
  const sweep = async () => {
    if (sweeping) return;
    sweeping = true;
    try {
      await expireOverdue(ctx);
      await ctx.store.purge(ctx.now(), ctx.lifetimes.sessionRetentionMs);
    } catch (err) {
      app.log.error({ err }, 'session sweep failed');
    } finally {
      sweeping = false;
    }
  };
  const timer = setInterval(() => void sweep(), options.sweepIntervalMs ?? 5_000);
  timer.unref();

  return {
    app, ctx, url: `http://${shownHost}:${port}`, database: description, created, keyCreated,
    async close() {
      clearInterval(timer);
      await app.close();
      await ctx.bus.close();
      await ctx.store.close();
    },
  };
}
