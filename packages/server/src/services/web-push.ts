import { type PushSubscriptionBody, TapinError } from '@tapin/protocol';
import webpush from 'web-push';
import type { AccountRow } from '../store/store.js';
import type { PushRequestRow } from '../store/push-store.js';
import type { ServiceContext } from './context.js';

/**
 * Web Push (DESIGN §8, delivery 2 of 3): RFC 8030 delivery through whatever push service the phone subscribed at
 * (a vendor's, or a self-hosted UnifiedPush/ntfy), RFC 8291 encryption to the subscription's keys, RFC 8292
 * VAPID identification with a key pair made the first time it is needed and kept in the database.
 */
const VAPID_CONTEXT = 'vapid-private-key';
const cache = new WeakMap<ServiceContext, Promise<{ publicKey: string; privateKey: string }>>();

/** The deployment's VAPID keys (base64url, as web-push wants them); made and stored on first use. */
export function vapidKeys(ctx: ServiceContext): Promise<{ publicKey: string; privateKey: string }> {
  let keys = cache.get(ctx);
  if (!keys) {
    keys = (async () => {
      let row = await ctx.store.push.getVapid();
      if (!row) {
        const made = webpush.generateVAPIDKeys();
        row = await ctx.store.push.saveVapid({
          id: 'default', public_key: made.publicKey, private_key_enc: ctx.box.seal(Buffer.from(made.privateKey, 'base64url'), VAPID_CONTEXT), created: ctx.now(),
        });
      }
      return { publicKey: row.public_key, privateKey: Buffer.from(ctx.box.open(row.private_key_enc, VAPID_CONTEXT)).toString('base64url') };
    })();
    keys.catch(() => cache.delete(ctx));
    cache.set(ctx, keys);
  }
  return keys;
}

/** Plain-http endpoints are for tests and closed networks only: TAPIN_WEBPUSH_ALLOW_HTTP=1. */
const allowHttp = () => process.env['TAPIN_WEBPUSH_ALLOW_HTTP'] === '1';

export async function saveSubscription(ctx: ServiceContext, account: AccountRow, body: PushSubscriptionBody): Promise<{ ok: true }> {
  const url = new URL(body.endpoint);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && allowHttp())) {
    throw new TapinError('bad_request', 'A push endpoint must be https.');
  }
  await ctx.store.push.saveSubscription({
    endpoint: body.endpoint, sid: account.sid, accountid: account.accountid, p256dh: body.keys.p256dh, auth: body.keys.auth, created: ctx.now(),
  });
  return { ok: true };
}

/** The subject VAPID names (a contact the push service can reach): the public URL. */
const subjectOf = (ctx: ServiceContext) => (ctx.publicUrl.startsWith('https:') ? ctx.publicUrl : 'mailto:admin@localhost');

/**
 * Sends each request's ids (never details) to the subscriptions of its account. Failures are not the caller's
 * business (the device socket and the pull still deliver); a subscription the push service says is gone is dropped.
 */
export async function sendWebPushes(ctx: ServiceContext, requests: PushRequestRow[]): Promise<void> {
  const keys = await vapidKeys(ctx);
  await Promise.all(requests.map(async (r) => {
    for (const sub of await ctx.store.push.listSubscriptions(r.sid, r.accountid)) {
      try {
        // web-push builds the request (RFC 8291 encryption, RFC 8292 VAPID header); we send it, so that the
        // transport is ours: a timeout, no redirects, and plain http only where allowed (tests, closed networks).
        const details = webpush.generateRequestDetails(
          { endpoint: sub.endpoint, keys: { p256dh: sub.p256dh, auth: sub.auth } },
          JSON.stringify({ type: 'push', pushid: r.pushid, sid: r.sid, hsid: r.hsid, accountid: r.accountid }),
          {
            vapidDetails: { subject: subjectOf(ctx), publicKey: keys.publicKey, privateKey: keys.privateKey },
            TTL: Math.max(0, Math.floor((r.expires - ctx.now()) / 1000)), urgency: 'high', contentEncoding: 'aes128gcm',
          },
        );
        if (!details.endpoint.startsWith('https:') && !allowHttp()) throw new Error('plain http push endpoint');
        const response = await fetch(details.endpoint, {
          method: details.method, headers: details.headers as Record<string, string>, body: new Uint8Array(details.body as Buffer),
          redirect: 'error', signal: AbortSignal.timeout(10_000),
        });
        await response.arrayBuffer().catch(() => undefined);
        if (!response.ok) throw Object.assign(new Error(`push service answered ${response.status}`), { statusCode: response.status });
      } catch (err) {
        const status = (err as { statusCode?: number }).statusCode;
        if (status === 404 || status === 410) await ctx.store.push.deleteSubscription(sub.endpoint);
      }
    }
  }));
}
