import { createHash } from 'node:crypto';
import { deriveHsid } from '@tapin/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, business, enrolPhone, errorOf, generateNonce, startHarness } from '../test-support/harness.js';

/**
 * getHtmlLogin / getHtmlFooter and the served block script: what they write into an integrator's page, and the
 * query values they refuse to write there (a `javascript:` redirect would run in the site's origin).
 */
let h: Harness;
let call: ReturnType<typeof business>;
beforeAll(async () => {
  h = await startHarness();
  call = business(h.app, h.a.sid, h.a.apiKey);
});
afterAll(async () => {
  await h.close();
});

const login = (query: Record<string, string> = {}, nonce = generateNonce()) => call('GET', '/session/html/login', { nonce, query });

describe('getHtmlLogin', () => {
  it('answers a <tapin-login> element with the public side of the session only (hsid, never the nonce) and a no-script QR', async () => {
    const nonce = generateNonce();
    const res = await login({ redirect: '/account', complete: '/auth/tapin/complete', status: 'https://shop.example/auth/status' }, nonce);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['cache-control']).toBe('no-store');
    const html = res.body;
    const hsid = deriveHsid(h.a.sid, nonce);
    expect(html).toMatch(/^<tapin-login /);
    expect(html).toContain(`hsid="${hsid}"`);
    expect(html).toContain(`qrdata="${h.ctx.publicUrl}/q/${h.a.sid}/${hsid}"`);
    expect(html).toContain('redirect="/account"');
    expect(html).toContain('complete-url="/auth/tapin/complete"');
    expect(html).toContain('status-url="https://shop.example/auth/status"');
    expect(html).toMatch(/expires-in="\d+"/);
    expect(html).toContain('<noscript><img src="data:image/svg+xml;base64,');
    expect(html).not.toContain(nonce);
    expect(html).not.toMatch(/ otp[ >]/); // ENABLE_OTP is off on this server
  });

  it('marks the block for offline codes when the server has ENABLE_OTP', async () => {
    const b = business(h.app, h.b.sid, h.b.apiKey);
    expect((await b('PUT', '', { body: { serverFlags: ['ENABLE_OTP'] } })).statusCode).toBe(200);
    const res = await b('GET', '/session/html/login', { nonce: generateNonce(), query: { otp: '/auth/otp' } });
    expect(res.body).toMatch(/ otp[ >]/);
    expect(res.body).toContain('otp-url="/auth/otp"');
  });

  const badUrls: Array<[string, string]> = [
    ['a javascript: URL', 'javascript:alert(1)'],
    ['a JavaScript: URL in capitals', 'JavaScript:alert(1)'],
    ['a data: URL', 'data:text/html,<script>alert(1)</script>'],
    ['a protocol-relative URL', '//evil.example/steal'],
    ['a backslash trick', '/\\evil.example'],
    ['a quote that would end the attribute', '/ok" onmouseover="alert(1)'],
    ['an angle bracket', '/ok><script>alert(1)</script>'],
    ['a space', '/a b'],
    ['a relative path without a slash', 'account'],
    ['an over-long URL', `/${'a'.repeat(2048)}`],
  ];
  it.each(badUrls)('refuses %s in any URL parameter (400 bad_request) and writes nothing', async (_name, bad) => {
    for (const param of ['redirect', 'complete', 'status', 'otp', 'push', 'return']) {
      const res = await login({ [param]: bad });
      expect(errorOf(res), param).toMatchObject({ status: 400, code: 'bad_request' });
      expect(res.body).not.toContain('<tapin-login');
      expect(res.body).not.toContain('alert(1)');
    }
  });

  it('refuses an unknown query parameter', async () => {
    expect(errorOf(await login({ onload: 'x' }))).toMatchObject({ status: 400, code: 'bad_request' });
  });

  it('needs the API key and a valid nonce', async () => {
    expect(errorOf(await business(h.app, h.a.sid, null)('GET', '/session/html/login', { nonce: generateNonce() }))).toMatchObject({ status: 401, code: 'unauthorized' });
    expect(errorOf(await business(h.app, h.a.sid, h.b.apiKey)('GET', '/session/html/login', { nonce: generateNonce() }))).toMatchObject({ status: 403, code: 'wrong_server' });
    expect(errorOf(await call('GET', '/session/html/login', {}))).toMatchObject({ status: 400 });
    expect(errorOf(await login({}, 'short'))).toMatchObject({ status: 400, code: 'invalid_nonce' });
  });

  it('refuses a session that is past waiting (logged in): there is nothing to show', async () => {
    const phone = await enrolPhone(h, { userid: 'html-user' });
    const nonce = generateNonce();
    const hsid = deriveHsid(h.a.sid, nonce);
    expect((await call('GET', '/session/qr', { nonce })).statusCode).toBe(200);
    await phone.login(hsid);
    expect(errorOf(await login({}, nonce))).toMatchObject({ status: 409, code: 'session_state' });
  });
});

describe('getHtmlFooter and /static/tapin-login.js', () => {
  it('the footer is one module script whose integrity is the served script’s SHA-384', async () => {
    const footer = await call('GET', '/html/footer');
    expect(footer.statusCode).toBe(200);
    const m = /^<script type="module" src="([^"]+)" integrity="(sha384-[^"]+)" crossorigin="anonymous"><\/script>$/.exec(footer.body);
    expect(m).not.toBeNull();
    expect(m![1]).toBe(`${h.ctx.publicUrl}/static/tapin-login.js`);
    const script = await h.app.inject({ method: 'GET', url: '/static/tapin-login.js' });
    expect(script.statusCode).toBe(200);
    expect(script.headers['content-type']).toMatch(/^text\/javascript/);
    expect(script.headers['access-control-allow-origin']).toBe('*');
    expect(m![2]).toBe(`sha384-${createHash('sha384').update(script.rawPayload).digest('base64')}`);
    const again = await h.app.inject({ method: 'GET', url: '/static/tapin-login.js', headers: { 'if-none-match': String(script.headers['etag']) } });
    expect(again.statusCode).toBe(304);
  });

  it('the footer needs the API key', async () => {
    expect(errorOf(await business(h.app, h.a.sid, null)('GET', '/html/footer'))).toMatchObject({ status: 401, code: 'unauthorized' });
  });
});
