import { devicePaths } from '@tapin/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, type Phone, business, enrolPhone, errorOf, generateNonce, startHarness } from '../test-support/harness.js';
import { WebPushReceiver } from '../test-support/web-push-receiver.js';

/**
 * Web Push (RFC 8030/8291/8292) to a real push endpoint in the test: VAPID JWT checked, aes128gcm decrypted with
 * the subscription's keys, and the payload is ids only.
 */
let h: Harness;
let receiver: WebPushReceiver;
let call: ReturnType<typeof business>;
let users = 0;

beforeAll(async () => {
  process.env['TAPIN_WEBPUSH_ALLOW_HTTP'] = '1';
  h = await startHarness({ ipFailuresPerMinute: 1_000_000 });
  call = business(h.app, h.a.sid, h.a.apiKey);
  receiver = await WebPushReceiver.start();
});
afterAll(async () => {
  delete process.env['TAPIN_WEBPUSH_ALLOW_HTTP'];
  await receiver.close();
  await h.close();
});

async function subscribe(phone: Phone, body: unknown) {
  const path = devicePaths.pushSubscription(h.a.sid);
  const raw = JSON.stringify(body);
  return h.app.inject({ method: 'POST', url: path, payload: raw, headers: { 'content-type': 'application/json', ...(await phone.signedHeaders('POST', path, raw)) } });
}

describe('Web Push', () => {
  it('a provoke reaches the subscription: VAPID verifies, the body decrypts, the payload is ids only', async () => {
    const userid = `wp${++users}`;
    const phone = await enrolPhone(h, { userid });
    const vapid = await h.app.inject({ method: 'GET', url: devicePaths.vapid(h.a.sid) });
    expect(vapid.statusCode).toBe(200);
    const { publicKey } = vapid.json<{ publicKey: string }>();
    expect(Buffer.from(publicKey, 'base64url')).toHaveLength(65);
    expect((await subscribe(phone, receiver.subscription())).statusCode).toBe(200);

    const nonce = generateNonce();
    const res = await call('POST', `/users/${userid}/provokelogin`, { nonce, body: { announceinfo: { info: { secret: 'not in the push' } } } });
    expect(res.statusCode).toBe(200);
    const push = await receiver.next();
    expect(push.vapidKey).toBe(publicKey);
    expect(push.urgency).toBe('high');
    expect(Number(push.ttl)).toBeGreaterThan(0);
    const payload = JSON.parse(push.payload) as Record<string, unknown>;
    expect(Object.keys(payload).sort()).toEqual(['accountid', 'hsid', 'pushid', 'sid', 'type']);
    expect(payload['accountid']).toBe(phone.accountid);
    expect(payload).toMatchObject({ type: 'push', sid: h.a.sid, hsid: res.json<{ hsid: string }>().hsid });
    expect(push.payload).not.toContain('not in the push');

    // The VAPID key pair is made once and kept.
    expect((await h.app.inject({ method: 'GET', url: devicePaths.vapid(h.a.sid) })).json()).toEqual({ publicKey });
  });

  it('of a user\'s two accounts, only the active one gets the Web Push (and the pull); the blocked one gets nothing', async () => {
    const userid = `wp${++users}`;
    const active = await enrolPhone(h, { userid });
    const blocked = await enrolPhone(h, { userid });
    expect((await subscribe(active, receiver.subscription('/active'))).statusCode).toBe(200);
    expect((await subscribe(blocked, receiver.subscription('/blocked'))).statusCode).toBe(200);
    expect((await call('PUT', `/accounts/${blocked.accountid}`, { body: { blocked: true } })).statusCode).toBe(200);

    const res = await call('POST', `/users/${userid}/provokelogin`, { nonce: generateNonce() });
    expect(res.statusCode).toBe(200);
    expect(res.json<{ accounts: number }>().accounts).toBe(1);
    const push = await receiver.next();
    expect(JSON.parse(push.payload)).toMatchObject({ accountid: active.accountid });
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.received).toEqual([]);
    expect((await h.ctx.store.push.listPendingForAccount(h.a.sid, active.accountid, h.clock.now())).map((p) => p.hsid)).toEqual([res.json<{ hsid: string }>().hsid]);
    expect(await h.ctx.store.push.listPendingForAccount(h.a.sid, blocked.accountid, h.clock.now())).toEqual([]);
    // The blocked phone's own pull is refused outright.
    const path = devicePaths.pushes(h.a.sid);
    expect(errorOf(await h.app.inject({ method: 'GET', url: path, headers: await blocked.signedHeaders('GET', path) })).code).toBe('account_blocked');
  });

  it('a subscription the push service says is gone (410) is dropped; plain http endpoints need the test switch', async () => {
    const userid = `wp${++users}`;
    const phone = await enrolPhone(h, { userid });
    expect((await subscribe(phone, receiver.subscription('/gone'))).statusCode).toBe(200);
    receiver.status = 410;
    try {
      expect((await call('POST', `/users/${userid}/provokelogin`, { nonce: generateNonce() })).statusCode).toBe(200);
      await receiver.next();
      for (let i = 0; i < 50 && (await h.ctx.store.push.listSubscriptions(h.a.sid, phone.accountid)).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(await h.ctx.store.push.listSubscriptions(h.a.sid, phone.accountid)).toEqual([]);
    } finally {
      receiver.status = 201;
    }
    delete process.env['TAPIN_WEBPUSH_ALLOW_HTTP'];
    try {
      expect(errorOf(await subscribe(phone, receiver.subscription())).code).toBe('bad_request');
    } finally {
      process.env['TAPIN_WEBPUSH_ALLOW_HTTP'] = '1';
    }
  });
});
