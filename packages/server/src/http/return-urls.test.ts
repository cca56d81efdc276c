import { type DeviceSession, deriveHsid, devicePaths } from '@tapin/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, type Phone, business, enrolPhone, errorOf, generateNonce, snapshot, startHarness } from '../test-support/harness.js';

/**
 * App-to-app login on the device API: a fetch with `?return=` succeeds only when the URL matches the virtual
 * server's returnUrls, and then answers the normalized URL the phone may send the user to. Anything else is
 * return_url_not_allowed and leaves the session exactly as it was (no challenge, no CONFIRMSCAN).
 */
let h: Harness;
let call: ReturnType<typeof business>;
let phone: Phone;

beforeAll(async () => {
  h = await startHarness({ ipFailuresPerMinute: 1_000_000 });
  call = business(h.app, h.a.sid, h.a.apiKey);
  phone = await enrolPhone(h);
  const res = await call('PUT', '/', { body: { returnUrls: ['https://allowed.example/back', 'shopapp://login-done'] } });
  expect(res.statusCode, res.body).toBe(200);
});
afterAll(async () => {
  await h.close();
});

async function newSession(): Promise<string> {
  const nonce = generateNonce();
  expect((await call('GET', '/session', { nonce })).statusCode).toBe(200);
  return deriveHsid(h.a.sid, nonce);
}

async function fetchWithReturn(hsid: string, returnUrl: string) {
  const url = devicePaths.fetchSession(h.a.sid, hsid, returnUrl);
  return h.app.inject({ method: 'POST', url, headers: await phone.signedHeaders('POST', url) });
}

describe('fetch ?return= (app-to-app login)', () => {
  it('answers the normalized return URL when the server allows it', async () => {
    const hsid = await newSession();
    const res = await fetchWithReturn(hsid, 'https://ALLOWED.example:443/back/done?order=7');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json<DeviceSession>()).toMatchObject({ hsid, state: 'scanned', returnUrl: 'https://allowed.example/back/done?order=7' });
    const app = await fetchWithReturn(await newSession(), 'shopapp://login-done/ok');
    expect(app.json<DeviceSession>().returnUrl).toBe('shopapp://login-done/ok');
    // Without ?return= nothing is said about return URLs.
    expect((await phone.fetch(await newSession())).returnUrl).toBeUndefined();
  });

  it('refuses foreign and trick URLs with return_url_not_allowed, changing nothing', async () => {
    const hsid = await newSession();
    const before = await snapshot(h.ctx, h.a.sid, [hsid]);
    for (const evil of [
      'https://evil.example/back',
      'https://allowed.example@evil.example/back',
      'https://allowed.example/back@evil.example',
      'https://allowed.example.evil.example/back',
      '//evil.example/back',
      '/back',
      'javascript:alert(document.domain)//https://allowed.example/back',
      'JavaScript:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      'https://allowed.example/backdoor',
      'https://allowed.example/back/../admin',
      'https://allowed.example/back/%2e%2e/admin',
      'https://allowed.example\\@evil.example/back',
      'http://allowed.example/back',
      'https://allowed.example:8443/back',
      'shopapp://other/ok',
    ]) {
      const res = await fetchWithReturn(hsid, evil);
      expect(errorOf(res), evil).toMatchObject({ status: 403, code: 'return_url_not_allowed' });
    }
    expect(await snapshot(h.ctx, h.a.sid, [hsid])).toEqual(before);
  });

  it('refuses every return URL while the server allows none, and a query longer than the limit', async () => {
    const other = await enrolPhone(h, { server: 'b' });
    const nonce = generateNonce();
    expect((await business(h.app, h.b.sid, h.b.apiKey)('GET', '/session', { nonce })).statusCode).toBe(200);
    const hsid = deriveHsid(h.b.sid, nonce);
    const url = devicePaths.fetchSession(h.b.sid, hsid, 'https://allowed.example/back');
    const res = await h.app.inject({ method: 'POST', url, headers: await other.signedHeaders('POST', url) });
    expect(errorOf(res)).toMatchObject({ status: 403, code: 'return_url_not_allowed' });

    const long = await fetchWithReturn(await newSession(), `https://allowed.example/back/${'a'.repeat(2100)}`);
    expect(errorOf(long)).toMatchObject({ status: 400, code: 'bad_request' });
  });

  it('cannot have its return URL swapped: the query is part of the signed request', async () => {
    const hsid = await newSession();
    const signedFor = devicePaths.fetchSession(h.a.sid, hsid, 'https://allowed.example/back');
    const headers = await phone.signedHeaders('POST', signedFor);
    const res = await h.app.inject({ method: 'POST', url: devicePaths.fetchSession(h.a.sid, hsid, 'https://allowed.example/back/other'), headers });
    expect(errorOf(res)).toMatchObject({ status: 401, code: 'bad_signature' });
  });

  it('checks the allowlist itself when settings change', async () => {
    for (const bad of [['javascript:alert(1)'], ['https://a.example/?q=1'], ['https://u:p@a.example/'], ['evil.example']]) {
      expect(errorOf(await call('PUT', '/', { body: { returnUrls: bad } })), bad[0]).toMatchObject({ status: 400, code: 'bad_request' });
    }
    expect(errorOf(await call('PUT', '/', { body: { returnUrls: Array.from({ length: 33 }, (_, i) => `https://a${i}.example`) } }))).toMatchObject({ code: 'bad_request' });
    expect((await call('GET', '/')).json<{ returnUrls: string[] }>().returnUrls).toEqual(['https://allowed.example/back', 'shopapp://login-done']);
  });
});
