import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { SERVER_FLAGS, TapinError } from '@tapin/protocol';
import type { FastifyInstance, FastifyReply } from 'fastify';
import QRCode from 'qrcode';
import Type from 'typebox';
import type { ServiceContext } from '../../services/context.js';
import { getStatus, hsidForNonce } from '../../services/sessions.js';
import { requireServer, serverFlags } from '../../services/virtual-servers.js';
import { contentEtag } from '../content-etag.js';
import { NonceHeader, SidParams, bearer, errors } from '../schemas.js';

/** Where the Tapin server serves the login block's script (public, CORS-enabled: host pages load it cross-origin). */
export const LOGIN_BLOCK_PATH = '/static/tapin-login.js';

interface Bundle {
  code: Buffer;
  etag: string;
  /** Subresource Integrity value, so a page that includes the footer runs exactly this script. */
  integrity: string;
}

let bundle: Promise<Bundle> | undefined;

/**
 * The block's bundle from @tapin/login-block (built by `npm run build`), read once. The server does not import
 * the block: it only serves the file, as it would any static asset.
 */
function loadBundle(): Promise<Bundle> {
  bundle ??= (async () => {
    const file = createRequire(import.meta.url).resolve('@tapin/login-block/bundle');
    const code = await readFile(file);
    return {
      code,
      etag: contentEtag(code),
      integrity: `sha384-${createHash('sha384').update(code).digest('base64')}`,
    };
  })().catch((err: unknown) => {
    bundle = undefined;
    throw new TapinError('unavailable', `The login block is not built (npm run build): ${err instanceof Error ? err.message : String(err)}`);
  });
  return bundle;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * An endpoint URL a page may be sent to: a path on the page's own site, or an absolute http(s) URL. Anything else
 * (`javascript:`, protocol-relative `//evil`) is refused rather than written into the page.
 */
const PageUrl = Type.String({ maxLength: 2048, pattern: '^(/(?![/\\\\])|https?://)[^\\s<>"\'`]*$' });

const LoginQuery = Type.Object({
  redirect: Type.Optional({ ...PageUrl, description: 'Where the page goes once logged in (default: stay and fire the tapin-login event)' }),
  complete: Type.Optional({ ...PageUrl, description: "Your endpoint the block POSTs {hsid} to on LOGIN; it checks getSession with the nonce and starts the user's session" }),
  status: Type.Optional({ ...PageUrl, description: 'Your long-poll endpoint (GET ?hsid&wait → {hsid, state}), used when the WebSocket cannot connect' }),
  otp: Type.Optional({ ...PageUrl, description: 'Your offline-code endpoint (POST {hsid, otp}); shown when the server has ENABLE_OTP' }),
  push: Type.Optional({ ...PageUrl, description: 'Your push endpoint (GET → {available}, POST {hsid, username?} → {number})' }),
  return: Type.Optional({ ...PageUrl, description: 'Where the authenticator app returns to on a phone (default: the page)' }),
}, { additionalProperties: false });

/**
 * getHtmlLogin and getHtmlFooter (DESIGN §3): the login block as ready HTML for integrators who do not bundle.
 * The business back-end fetches the login HTML with its API key and the nonce, pastes it into its page, and puts
 * the footer (one script tag) before </body>. Nothing secret is in either: the HTML carries only the hsid.
 */
export const htmlRoutes: FastifyPluginAsyncTypebox<{ ctx: ServiceContext }> = async (app, { ctx }) => {
  app.get('/session/html/login', {
    schema: {
      params: SidParams, headers: NonceHeader, security: bearer, tags: ['html'], querystring: LoginQuery,
      summary: 'getHtmlLogin: a ready <tapin-login> element for this session (text/html), with a no-script QR fallback',
      response: { 200: Type.String({ description: 'text/html fragment' }), ...errors },
    },
  }, async (req, reply) => {
    const { sid } = req.params;
    const status = await getStatus(ctx, sid, hsidForNonce(sid, req.headers['x-nonce']));
    if (status.state === 'expired') throw new TapinError('session_expired');
    if (status.state !== 'idle' && status.state !== 'scanned' && status.state !== 'provoked') throw new TapinError('session_state', `The session is ${status.state}.`);
    const otp = serverFlags(await requireServer(ctx, sid)).includes(SERVER_FLAGS.ENABLE_OTP);
    const q = req.query;
    const attrs: Array<[string, string | true | undefined]> = [
      ['sid', sid], ['hsid', status.hsid], ['qrdata', status.loginqrdata],
      ['expires-in', String(Math.max(1, (status.expires ?? ctx.now()) - ctx.now()))],
      ['socket-url', `${ctx.publicUrl.replace(/^http/, 'ws')}/v1/ws`],
      ['otp', otp || undefined], ['canprovoke', status.canprovoke || undefined],
      ['redirect', q.redirect], ['complete-url', q.complete], ['status-url', q.status], ['otp-url', q.otp], ['push-url', q.push], ['return-url', q.return],
    ];
    const attributes = attrs.filter(([, v]) => v !== undefined).map(([k, v]) => (v === true ? k : `${k}="${escapeHtml(v as string)}"`)).join(' ');
    const svg = await QRCode.toString(status.loginqrdata, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
    const noscript = `<noscript><img src="data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}" width="220" height="220" `
      + 'alt="QR code to log in with Tapin: scan it with the Tapin app on your phone">'
      + (q.redirect ? `<p><a href="${escapeHtml(q.redirect)}">Continue once you have approved on your phone</a></p>` : '')
      + '</noscript>';
    const html = `<tapin-login ${attributes}>${noscript}</tapin-login>`;
    // A string with its own content type bypasses the JSON serializer.
    return (reply as unknown as FastifyReply).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(html);
  });

  app.get('/html/footer', {
    schema: {
      params: SidParams, security: bearer, tags: ['html'],
      summary: 'getHtmlFooter: the <script> tag that loads the login block (with Subresource Integrity); put it before </body>',
      response: { 200: Type.String({ description: 'text/html fragment' }), ...errors },
    },
  }, async (_req, reply) => {
    const { integrity } = await loadBundle();
    const html = `<script type="module" src="${escapeHtml(ctx.publicUrl + LOGIN_BLOCK_PATH)}" integrity="${integrity}" crossorigin="anonymous"></script>`;
    return (reply as unknown as FastifyReply).type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(html);
  });
};

/** The block's script itself, for pages on any origin (module scripts are fetched with CORS). */
export async function loginBlockScript(app: FastifyInstance): Promise<void> {
  app.get(LOGIN_BLOCK_PATH, { schema: { hide: true } as object }, async (req, reply) => {
    const { code, etag } = await loadBundle();
    void reply
      .header('access-control-allow-origin', '*')
      .header('cross-origin-resource-policy', 'cross-origin')
      .header('x-content-type-options', 'nosniff')
      // Not content-hashed in its name, so cached briefly and revalidated by ETag.
      .header('cache-control', 'public, max-age=300')
      .header('etag', etag);
    if (req.headers['if-none-match'] === etag) return reply.code(304).send();
    return reply.type('text/javascript; charset=utf-8').send(code);
  });
}
