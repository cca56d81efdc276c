import { isValidEnrolToken, isValidHsid, isValidSid } from '@tapin/protocol';
import type { FastifyInstance } from 'fastify';

/**
 * What a phone's camera opens when it scans a Tapin QR code and the authenticator app is not built into this
 * server (see authenticator-app.ts): a page that says what the link is and how to use it.
 */
const page = (title: string, body: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${title} — Tapin</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#1b1f24}code{background:#eef1f4;padding:.1rem .3rem;border-radius:4px;word-break:break-all}</style>
</head><body><h1>${title}</h1>${body}</body></html>`;

export async function landingPage(app: FastifyInstance): Promise<void> {
  app.get('/q/:sid/:hsid', { schema: { hide: true } as object }, async (req, reply) => {
    const { sid, hsid } = req.params as { sid: string; hsid: string };
    const ok = isValidSid(sid) && isValidHsid(hsid);
    return reply.code(ok ? 200 : 404).type('text/html').header('cache-control', 'no-store').send(
      page('Log in with Tapin', ok
        ? '<p>This is a Tapin login link. Open it with your Tapin authenticator to approve the login, e.g.</p><p><code>tapin-device login &lt;this URL&gt; --pin &lt;PIN&gt;</code></p>'
        : '<p>This login link is malformed.</p>'));
  });
  app.get('/e/:sid/:token', { schema: { hide: true } as object }, async (req, reply) => {
    const { sid, token } = req.params as { sid: string; token: string };
    const ok = isValidSid(sid) && isValidEnrolToken(token);
    return reply.code(ok ? 200 : 404).type('text/html').header('cache-control', 'no-store').send(
      page('Add this phone to Tapin', ok
        ? '<p>This is a one-use Tapin enrol link (valid for 10 minutes). Open it with your Tapin authenticator, e.g.</p><p><code>tapin-device enrol &lt;this URL&gt; --pin &lt;PIN&gt;</code></p>'
        : '<p>This enrol link is malformed.</p>'));
  });
}
