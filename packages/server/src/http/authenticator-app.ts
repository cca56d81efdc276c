import { readFile, readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { isValidEnrolToken, isValidHsid, isValidSid } from '@tapin/protocol';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { contentEtag } from './content-etag.js';
import { landingPage } from './landing.js';

/**
 * The installable authenticator app (apps/authenticator, DESIGN §5), served at `/app/` — and, on the same origin,
 * as the answer to the login and enrol links (`/q/…`, `/e/…`), so a phone's camera opening a link lands in the app,
 * which finds its keys (IndexedDB is per origin) and takes the link over.
 *
 * The app is a handful of built files, read into memory once: the URL only ever selects one of them by name, so no
 * request reaches the file system. Without a built app (`npm run build` not run) the links answer the plain
 * landing pages instead.
 */
export const APP_PREFIX = '/app/';

interface AppFile {
  body: Buffer;
  type: string;
  etag: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
};

/**
 * The app shows logos from the sites that log in (https: or data: images) and talks only to this origin. No
 * framing (clickjacking an Approve button), no referrer: enrol and login links must not leak to logo hosts.
 */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; img-src 'self' https: data:; script-src 'self'; style-src 'self'; connect-src 'self'; " +
    "worker-src 'self'; manifest-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
};

/** Where `npm run build` put the app, or undefined when it is not there. */
export function defaultAppDir(): string | undefined {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('@tapin/authenticator/package.json')), 'dist');
  } catch {
    return undefined;
  }
}

async function loadApp(dir: string): Promise<Map<string, AppFile> | undefined> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return undefined;
  }
  const files = new Map<string, AppFile>();
  for (const name of names) {
    const type = TYPES[extname(name)];
    if (!type || !/^[A-Za-z0-9._-]+$/.test(name)) continue;
    const body = await readFile(join(dir, name));
    files.set(name, { body, type, etag: contentEtag(body) });
  }
  return files.has('index.html') ? files : undefined;
}

function send(reply: FastifyReply, ifNoneMatch: string | undefined, file: AppFile, extra: Record<string, string> = {}): FastifyReply {
  // Small files that change with every release: always revalidated (cheap with the ETag), never stale.
  void reply.headers({ ...SECURITY_HEADERS, 'cache-control': 'no-cache', etag: file.etag, ...extra });
  if (ifNoneMatch === file.etag) return reply.code(304).send();
  return reply.type(file.type).send(file.body);
}

export async function authenticatorApp(app: FastifyInstance, options: { dir?: string | undefined }): Promise<void> {
  const dir = options.dir ?? defaultAppDir();
  const files = dir ? await loadApp(dir) : undefined;
  if (!files) {
    app.log.warn('the authenticator app is not built (npm run build): /q/ and /e/ links get plain landing pages');
    await app.register(landingPage);
    return;
  }
  const index = files.get('index.html')!;
  const hide = { schema: { hide: true } as object };
  const etagOf = (h: string | string[] | undefined) => (typeof h === 'string' ? h : undefined);

  app.get('/app', hide, async (_req, reply) => reply.redirect(APP_PREFIX, 301));
  app.get(APP_PREFIX, hide, async (req, reply) => send(reply, etagOf(req.headers['if-none-match']), index));
  app.get(`${APP_PREFIX}:file`, hide, async (req, reply) => {
    const file = files.get((req.params as { file: string }).file);
    if (!file) return reply.code(404).type('text/plain').send('Not found');
    // The service worker lives under /app/ but serves the links too (/q/, /e/), so it may control the whole origin.
    const extra: Record<string, string> = (req.params as { file: string }).file === 'sw.js' ? { 'service-worker-allowed': '/' } : {};
    return send(reply, etagOf(req.headers['if-none-match']), file, extra);
  });

  // The links a camera opens: the app itself, which reads the link from its own address.
  app.get('/q/:sid/:hsid', hide, async (req, reply) => {
    const { sid, hsid } = req.params as { sid: string; hsid: string };
    if (!isValidSid(sid) || !isValidHsid(hsid)) return reply.code(404).type('text/html').send('<!doctype html><title>Tapin</title><p>This login link is malformed.</p>');
    return send(reply, etagOf(req.headers['if-none-match']), index, { 'cache-control': 'no-store' });
  });
  app.get('/e/:sid/:token', hide, async (req, reply) => {
    const { sid, token } = req.params as { sid: string; token: string };
    if (!isValidSid(sid) || !isValidEnrolToken(token)) return reply.code(404).type('text/html').send('<!doctype html><title>Tapin</title><p>This enrol link is malformed.</p>');
    return send(reply, etagOf(req.headers['if-none-match']), index, { 'cache-control': 'no-store' });
  });
}
