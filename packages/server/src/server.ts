import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { type ContextOptions, type CreatedContext, createContext } from './context-factory.js';
import { buildApp } from './http/app.js';
import { consoleBusLog } from './services/event-bus.js';
import type { ServiceContext } from './services/context.js';
import { expireOverdue, logoutOverdue } from './services/sessions.js';
import { type CreatedServer, createVirtualServer } from './services/virtual-servers.js';
import { vapidKeys } from './services/web-push.js';

/**
 * The sweep runs often because it decides how soon a page learns that a phone went quiet: with pingTime 1 s a
 * session ends 2 s after the last ping, and the page hears LOGOUT at most one sweep later. Both sweep queries
 * are indexed updates that usually touch nothing.
 */
const DEFAULT_SWEEP_INTERVAL_MS = 1_000;
const PURGE_INTERVAL_MS = 60_000;

export interface ServeOptions extends Omit<ContextOptions, 'publicUrl'> {
  port: number;
  host: string;
  publicUrl?: string | undefined;
  logger?: FastifyServerOptions['logger'];
  /** See AppOptions.trustProxy. */
  trustProxy?: boolean | string;
  /** Serve HTTPS with this certificate and key (PEM), e.g. from `--tls-cert/--tls-key`. */
  https?: { cert: string | Buffer; key: string | Buffer } | undefined;
  /** See AppOptions.appDir. */
  appDir?: string | undefined;
  /** How often overdue sessions are marked expired, silent phones' sessions logged out, and old rows purged. */
  sweepIntervalMs?: number;
}

export interface RunningServer {
  app: FastifyInstance;
  ctx: ServiceContext;
  url: string;
  database: string;
  /** Where events and failure counts are shared between instances (DESIGN §10). */
  sharing: CreatedContext['sharing'];
  /** Set when the database was empty and a first virtual server was made. */
  created: CreatedServer | undefined;
  keyCreated: string | undefined;
  close(): Promise<void>;
}

/** Starts a Tapin server: database, migrations, first virtual server if there is none, HTTP + WebSocket, sweeper. */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const shownHost = options.host === '0.0.0.0' || options.host === '::' ? 'localhost' : options.host;
  // The public URL goes into QR codes, so it must be known before the first request; with port 0 it is fixed up below.
  const scheme = options.https ? 'https' : 'http';
  let publicUrl = options.publicUrl ?? `${scheme}://${shownHost}:${options.port}`;
  // The bus reports connection trouble to the app's log once there is one.
  let app: FastifyInstance | undefined;
  const busLog: NonNullable<ContextOptions['busLog']> = (level, message, err) => {
    if (!app) return (options.busLog ?? consoleBusLog)(level, message, err);
    if (level === 'warn') app.log.warn({ err }, message);
    else app.log.info(message);
  };
  const { ctx, keyCreated, description, sharing } = await createContext({ ...options, publicUrl, busLog });
  const closeContext = async () => {
    await ctx.bus.close();
    await ctx.store.close();
  };
  let created: CreatedServer | undefined;
  try {
    if ((await ctx.store.listServers()).length === 0) created = await createVirtualServer(ctx, 'Tapin');
    // Web Push: the VAPID key pair is made at the first start and kept (DESIGN §8). Opening it also proves that
    // this instance has the same master key as the others on the database.
    await vapidKeys(ctx).catch((err: unknown) => {
      if (err instanceof Error && /unable to authenticate/.test(err.message)) {
        throw new Error(`the master key cannot open the secrets stored in ${description}: every instance on one database needs the same key (TAPIN_SECRET_KEY or key file)`);
      }
      throw err;
    });
    app = await buildApp(ctx, { logger: options.logger, trustProxy: options.trustProxy ?? false, https: options.https, appDir: options.appDir });
    await app.listen({ port: options.port, host: options.host });
  } catch (err) {
    await app?.close();
    await closeContext();
    throw err;
  }
  const started = app;
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  if (!options.publicUrl) {
    publicUrl = `${scheme}://${shownHost}:${port}`;
    ctx.publicUrl = publicUrl;
  }

  let sweeping = false;
  let purged = -Infinity;
  const sweep = async () => {
    if (sweeping) return;
    sweeping = true;
    try {
      await expireOverdue(ctx);
      await logoutOverdue(ctx);
      // Purging is housekeeping with no watcher waiting on it: once a minute is plenty.
      if (ctx.now() - purged >= PURGE_INTERVAL_MS) {
        await ctx.store.purge(ctx.now(), ctx.lifetimes.sessionRetentionMs);
        purged = ctx.now();
      }
    } catch (err) {
      started.log.error({ err }, 'session sweep failed');
    } finally {
      sweeping = false;
    }
  };
  const timer = setInterval(() => void sweep(), options.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS);
  timer.unref();

  return {
    app, ctx, url: `${scheme}://${shownHost}:${port}`, database: description, sharing, created, keyCreated,
    async close() {
      clearInterval(timer);
      await started.close();
      await closeContext();
    },
  };
}
