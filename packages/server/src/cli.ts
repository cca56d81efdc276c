#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { TapinError } from '@tapin/protocol';
import { createContext } from './context-factory.js';
import { startServer } from './server.js';
import { createApiKey, listApiKeys, revokeApiKey } from './services/api-key-admin.js';
import { createVirtualServer } from './services/virtual-servers.js';

const DEFAULT_DB = './tapin.db';
const dbOf = (opts: { db?: string }) => opts.db ?? process.env['TAPIN_DATABASE_URL'] ?? DEFAULT_DB;

/** A commander parser for a whole number in [min, max]; `what` names it in the error a person sees. */
function wholeNumber(min: number, max: number, what: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(what);
    return n;
  };
}

const port = wholeNumber(0, 65_535, 'a port is a whole number from 0 to 65535');
const seconds = wholeNumber(1, 86_400, 'a whole number of seconds from 1 to 86400');
const sweepMs = wholeNumber(50, 60_000, 'a whole number of milliseconds from 50 to 60000');
const blockSeconds = wholeNumber(0, 7 * 86_400, 'a whole number of seconds from 0 to 604800 (7 days)');
const perMinute = wholeNumber(1, 1_000_000, 'a whole number from 1 to 1000000');
const poolSize = wholeNumber(1, 1000, 'a whole number of connections from 1 to 1000');
const envPoolSize = wholeNumber(1, 1000, 'TAPIN_DB_POOL must be a whole number of connections from 1 to 1000');

/** Admin commands open the same database as `serve`, do one thing and close it again. */
async function withContext<T>(db: string, fn: (ctx: Awaited<ReturnType<typeof createContext>>['ctx']) => Promise<T>): Promise<T> {
  const { ctx } = await createContext({ db, publicUrl: process.env['TAPIN_PUBLIC_URL'] ?? 'http://localhost:8470' });
  try {
    return await fn(ctx);
  } finally {
    await ctx.bus.close();
    await ctx.store.close();
  }
}

const program = new Command('tapin')
  .description('Tapin server: log in by approving on your phone.')
  .showHelpAfterError();

program
  .command('serve')
  .description('Run the server (business API, device API, browser WebSocket, docs at /docs)')
  .option('--port <port>', 'port to listen on (0 = any free port)', port, 8470)
  .option('--host <host>', 'address to listen on (0.0.0.0 for every interface)', '127.0.0.1')
  .option('--db <url>', `SQLite file, :memory:, or postgres://… (default: $TAPIN_DATABASE_URL or ${DEFAULT_DB})`)
  .option('--public-url <url>', 'the URL phones reach this server at; it goes into QR codes (default: http://<host>:<port>)', process.env['TAPIN_PUBLIC_URL'])
  .option('--key-file <path>', 'master key that encrypts secrets at rest (default: tapin.key beside the SQLite file; $TAPIN_SECRET_KEY overrides)')
  .option('--log-level <level>', 'fatal, error, warn, info (one line per request), debug or silent', 'warn')
  .option(
    '--trust-proxy [addresses]',
    'take the client IP from X-Forwarded-For, behind your own reverse proxy or load balancer: with no value from any peer (only when the proxy replaces the header), ' +
      'else only from these comma-separated addresses/CIDRs (e.g. 10.0.0.0/8)',
    false,
  )
  .option('--db-pool <connections>', 'PostgreSQL: the most connections this instance opens for its queries; size max_connections for instances × (this + 5) (default: $TAPIN_DB_POOL or 10)', poolSize)
  .option('--redis <url>', 'redis://… shared by several instances: session events (pub/sub) and failure counters (default: $TAPIN_REDIS_URL; without it PostgreSQL shares them with LISTEN/NOTIFY and a table)', process.env['TAPIN_REDIS_URL'])
  .option('--redis-prefix <prefix>', 'put before every Redis channel and key, so that deployments can share one Redis', process.env['TAPIN_REDIS_PREFIX'] ?? 'tapin:')
  .option('--tls-cert <file>', 'serve HTTPS with this PEM certificate (chain); needs --tls-key. Phones need HTTPS to install the app')
  .option('--tls-key <file>', 'the PEM private key of --tls-cert')
  .option('--session-lifetime <seconds>', 'how long a session waits for a phone before it expires', seconds, 600)
  .option('--sweep-interval <ms>', 'how often sessions past their time are ended: a page hears LOGOUT at most this long after a silent phone\'s 2 × pingTime', sweepMs, 1000)
  .option('--push-block <seconds>', 'how long "I did not try to log in" stops pushes to that user (0: it only cancels and records the audit event)', blockSeconds, 3600)
  .option('--push-ip-limit <count>', 'push logins (provokes) one client IP may ask for per virtual server per minute, then 429 push_rate_limited', perMinute, 30)
  .option('--json', 'print the startup facts as one JSON line (for scripts)', false)
  .action(async (opts: {
    port: number; host: string; db?: string; dbPool?: number; publicUrl?: string; keyFile?: string; logLevel: string; trustProxy: boolean | string; redis?: string; redisPrefix: string;
    sessionLifetime: number; sweepInterval: number; pushBlock: number; pushIpLimit: number; json: boolean; tlsCert?: string; tlsKey?: string;
  }) => {
    if ((opts.tlsCert === undefined) !== (opts.tlsKey === undefined)) throw new InvalidArgumentError('--tls-cert and --tls-key go together');
    // Read here rather than as the option's default, so that a bad value is reported like a bad --db-pool.
    const envPool = process.env['TAPIN_DB_POOL'];
    const dbPool = opts.dbPool ?? (envPool ? envPoolSize(envPool) : undefined);
    const read = (file: string, what: string) => {
      try {
        return readFileSync(file);
      } catch (err) {
        throw new InvalidArgumentError(`cannot read the TLS ${what} ${file}: ${err instanceof Error ? err.message : String(err)}`);
      }
    };
    const https = opts.tlsCert && opts.tlsKey ? { cert: read(opts.tlsCert, 'certificate'), key: read(opts.tlsKey, 'key') } : undefined;
    const running = await startServer({
      https,
      db: dbOf(opts), dbPool, port: opts.port, host: opts.host, publicUrl: opts.publicUrl, keyFile: opts.keyFile,
      trustProxy: opts.trustProxy, redis: opts.redis || undefined, redisPrefix: opts.redisPrefix,
      lifetimes: { sessionMs: opts.sessionLifetime * 1000, pushBlockMs: opts.pushBlock * 1000 }, sweepIntervalMs: opts.sweepInterval,
      ipPushesPerMinute: opts.pushIpLimit,
      // With --json, stdout carries only the facts line for scripts; the log goes to stderr.
      logger: opts.logLevel === 'silent' ? false : { level: opts.logLevel, ...(opts.json ? { stream: process.stderr } : {}) },
    });
    const facts = {
      url: running.url, publicUrl: running.ctx.publicUrl, database: running.database, eventBus: running.sharing.bus, counters: running.sharing.counters,
      sid: running.created?.sid ?? null, apiKey: running.created?.apiKey ?? null,
    };
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(facts)}\n`);
    } else {
      const shared = running.sharing.bus === 'in-process' ? 'events in this process' : `events and counters shared through ${running.sharing.description}`;
      const lines = [`Tapin is running at ${running.url} (${running.database}; ${shared})`, `  API docs: ${running.url}/docs`];
      if (running.keyCreated) lines.push(`  Created the master key ${running.keyCreated} — back it up; without it enrolled phones stop working.`);
      if (running.created) {
        lines.push(
          '', 'The database was empty, so a virtual server was created. Its API key is shown only now:',
          `  sid:     ${running.created.sid}`, `  API key: ${running.created.apiKey}`, '',
          'Try it:',
          `  curl -s -X POST ${running.url}/v1/servers/${running.created.sid}/enrolments -H 'authorization: Bearer ${running.created.apiKey}' -H 'content-type: application/json' -d '{"name":"my phone","userid":"alice"}'`,
          '  npx tapin-device --home ~/.tapin-device enrol <data from above> --pin 1234',
        );
      }
      process.stdout.write(`${lines.join('\n')}\n`);
    }
    const stop = async () => {
      await running.close();
      process.exit(0);
    };
    process.once('SIGINT', () => void stop());
    process.once('SIGTERM', () => void stop());
  });

const server = program.command('server').description('Manage virtual servers');
server
  .command('create')
  .description('Create a virtual server with its own keys and a first API key (shown once)')
  .requiredOption('--name <name>', 'display name shown on phones')
  .option('--db <url>', 'database (default: $TAPIN_DATABASE_URL or ./tapin.db)')
  .option('--json', 'print JSON', false)
  .action(async (opts: { name: string; db?: string; json: boolean }) => {
    if (opts.name.length < 1 || opts.name.length > 128) throw new InvalidArgumentError('--name must be 1–128 characters');
    const created = await withContext(dbOf(opts), (ctx) => createVirtualServer(ctx, opts.name));
    if (opts.json) process.stdout.write(`${JSON.stringify(created)}\n`);
    else process.stdout.write(`Created virtual server "${created.name}"\n  sid:     ${created.sid}\n  API key: ${created.apiKey}   (shown only now)\n`);
  });
server
  .command('list')
  .description('List virtual servers')
  .option('--db <url>', 'database (default: $TAPIN_DATABASE_URL or ./tapin.db)')
  .option('--json', 'print JSON', false)
  .action(async (opts: { db?: string; json: boolean }) => {
    const rows = await withContext(dbOf(opts), (ctx) => ctx.store.listServers());
    const list = rows.map((r) => ({ sid: r.sid, name: r.name, created: new Date(r.created).toISOString() }));
    if (opts.json) process.stdout.write(`${JSON.stringify(list)}\n`);
    else process.stdout.write(list.length ? `${list.map((s) => `${s.sid}  ${s.name}  (created ${s.created})`).join('\n')}\n` : 'No virtual servers yet.\n');
  });

const apikey = program.command('apikey').description('Manage API keys');
apikey
  .command('create')
  .description('Create another API key for a virtual server (shown once, stored hashed)')
  .requiredOption('--sid <sid>', 'the virtual server')
  .option('--db <url>', 'database (default: $TAPIN_DATABASE_URL or ./tapin.db)')
  .option('--json', 'print JSON', false)
  .action(async (opts: { sid: string; db?: string; json: boolean }) => {
    const apiKey = await withContext(dbOf(opts), (ctx) => createApiKey(ctx, opts.sid));
    if (opts.json) process.stdout.write(`${JSON.stringify({ sid: opts.sid, apiKey })}\n`);
    else process.stdout.write(`API key for ${opts.sid}: ${apiKey}   (shown only now)\n`);
  });
apikey
  .command('list')
  .description("List a virtual server's API keys by id (the middle part of tapin.<keyid>.<secret>), revoked ones marked; secrets are never shown")
  .requiredOption('--sid <sid>', 'the virtual server')
  .option('--db <url>', 'database (default: $TAPIN_DATABASE_URL or ./tapin.db)')
  .option('--json', 'print JSON', false)
  .action(async (opts: { sid: string; db?: string; json: boolean }) => {
    const keys = await withContext(dbOf(opts), (ctx) => listApiKeys(ctx, opts.sid));
    if (opts.json) process.stdout.write(`${JSON.stringify(keys)}\n`);
    else process.stdout.write(keys.length ? `${keys.map((k) => `${k.keyid}  created ${k.created}${k.revoked ? `  REVOKED ${k.revoked}` : ''}`).join('\n')}\n` : `${opts.sid} has no API key.\n`);
  });
apikey
  .command('revoke')
  .description('Revoke an API key, named by its id or given whole; running servers refuse it within a second')
  .argument('<key>', "the key id (see apikey list), the whole key, or - to read either from stdin (keeps a key out of shell history and ps)")
  // A key id is base64url and may begin with '-': it is the argument, not an unknown option.
  .allowUnknownOption()
  .requiredOption('--sid <sid>', 'the virtual server')
  .option('--db <url>', 'database (default: $TAPIN_DATABASE_URL or ./tapin.db)')
  .option('--json', 'print JSON', false)
  .action(async (key: string, opts: { sid: string; db?: string; json: boolean }) => {
    const given = key === '-' ? (await readStdin()).trim() : key;
    const { keyid, keysLeft } = await withContext(dbOf(opts), (ctx) => revokeApiKey(ctx, opts.sid, given));
    if (opts.json) process.stdout.write(`${JSON.stringify({ sid: opts.sid, revoked: keyid, keysLeft })}\n`);
    else {
      const after = keysLeft === 0 ? `\n${opts.sid} has no valid API key left: create one with tapin apikey create --sid ${opts.sid}` : '';
      process.stdout.write(`Revoked API key ${keyid} of ${opts.sid}; running servers refuse it within a second.${after}\n`);
    }
  });

/** All of stdin, up to 4 KiB (a key is 77 characters; more is not a key). */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 4096) throw new InvalidArgumentError('stdin holds more than a key');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

program.parseAsync().catch((err: unknown) => {
  // A person at a terminal gets one clear line, not a stack trace.
  const message = err instanceof TapinError ? `${err.message} (${err.code})` : err instanceof Error ? err.message : String(err);
  // Scripts that asked for --json get the error in the same shape as the API's (and tapin-device's) errors.
  if (process.argv.includes('--json')) {
    const code = err instanceof TapinError ? err.code : 'cli_error';
    process.stderr.write(`${JSON.stringify({ error: { code, message: err instanceof TapinError ? err.message : message } })}\n`);
  } else {
    process.stderr.write(`tapin: ${message}\n`);
  }
  process.exit(1);
});
