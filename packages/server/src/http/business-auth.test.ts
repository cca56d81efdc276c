import { deriveHsid, devicePaths, randomId } from '@tapin/protocol';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Harness, business, enrolPhone, errorOf, generateNonce, snapshot, startHarness } from '../test-support/harness.js';

/** The business API's gate: API keys, virtual servers, and the per-IP failure limit. */

let h: Harness;

describe('business API keys', () => {
  // One server for these checks; its failure limit is out of the way (the limiter has its own tests below).
  beforeAll(async () => {
    h = await startHarness({ ipFailuresPerMinute: 1_000_000 });
  });
  afterAll(async () => {
    await h.close();
  });

  it('refuses a call without an API key (401 unauthorized) and creates nothing', async () => {
    const nonce = generateNonce();
    const before = await snapshot(h.ctx, h.a.sid, [deriveHsid(h.a.sid, nonce)]);
    const res = await business(h.app, h.a.sid, null)('GET', '/session', { nonce });
    expect(errorOf(res)).toMatchObject({ status: 401, code: 'unauthorized' });
    expect(await snapshot(h.ctx, h.a.sid, [deriveHsid(h.a.sid, nonce)])).toEqual(before);
  });

  it('checks the key before the body: an unauthenticated caller learns nothing about validation', async () => {
    const res = await business(h.app, h.a.sid, null)('PUT', '/session/context', { nonce: 'bad', payload: '{not json' });
    expect(errorOf(res)).toMatchObject({ status: 401, code: 'unauthorized' });
    const big = await business(h.app, h.a.sid, null)('PUT', '/', { payload: JSON.stringify({ name: 'x'.repeat(70_000) }) });
    expect(errorOf(big)).toMatchObject({ status: 401, code: 'unauthorized' });
  });

  const wrongKeys: Array<[string, () => string]> = [
    ['garbage', () => 'Bearer garbage'],
    ['empty bearer', () => 'Bearer '],
    ['Basic auth', () => `Basic ${Buffer.from('user:pass').toString('base64')}`],
    ['the key without the scheme', () => h.a.apiKey],
    ['the key with a byte more', () => `Bearer ${h.a.apiKey}x`],
    ['the key with a byte less', () => `Bearer ${h.a.apiKey.slice(0, -1)}`],
    ['a right key id with a wrong secret', () => `Bearer ${h.a.apiKey.split('.').slice(0, 2).join('.')}.${randomId(32)}`],
    ['an unknown, well-formed key', () => `Bearer tapin.${randomId(12)}.${randomId(32)}`],
    ['another prefix', () => `Bearer other.${h.a.apiKey.split('.').slice(1).join('.')}`],
  ];
  it.each(wrongKeys)('refuses a wrong API key: %s (401 unauthorized)', async (_name, header) => {
    const nonce = generateNonce();
    const before = await snapshot(h.ctx, h.a.sid, [deriveHsid(h.a.sid, nonce)]);
    const res = await business(h.app, h.a.sid, null)('GET', '/session', { nonce, headers: { authorization: header() } });
    expect(errorOf(res)).toMatchObject({ status: 401, code: 'unauthorized' });
    expect(await snapshot(h.ctx, h.a.sid, [deriveHsid(h.a.sid, nonce)])).toEqual(before);
  });

  it('accepts the right key, with the scheme in any case', async () => {
    const nonce = generateNonce();
    const res = await business(h.app, h.a.sid, null)('GET', '/session', { nonce, headers: { authorization: `bearer ${h.a.apiKey}` } });
    expect(res.statusCode).toBe(200);
  });

  it("refuses the key of another virtual server (403 wrong_server), both ways, and touches neither server's data", async () => {
    const nonce = generateNonce();
    const beforeA = await snapshot(h.ctx, h.a.sid, [deriveHsid(h.a.sid, nonce)]);
    const beforeB = await snapshot(h.ctx, h.b.sid, [deriveHsid(h.b.sid, nonce)]);
    for (const [sid, key] of [[h.a.sid, h.b.apiKey], [h.b.sid, h.a.apiKey]] as const) {
      for (const [method, path, body] of [
        ['GET', '/session', undefined],
        ['PUT', '/session/context', { sessioninfo: { info: { who: 'intruder' } } }],
        ['GET', '/', undefined],
        ['PUT', '/', { name: 'Hijacked' }],
        ['GET', '/accounts', undefined],
        ['POST', '/enrolments', { name: 'x' }],
      ] as const) {
        const res = await business(h.app, sid, key)(method, path, { nonce, body });
        expect(errorOf(res), `${method} ${path}`).toMatchObject({ status: 403, code: 'wrong_server' });
      }
    }
    expect(await snapshot(h.ctx, h.a.sid, [deriveHsid(h.a.sid, nonce)])).toEqual(beforeA);
    expect(await snapshot(h.ctx, h.b.sid, [deriveHsid(h.b.sid, nonce)])).toEqual(beforeB);
  });

  it('answers an unknown or malformed sid like another server (403 wrong_server), so keys cannot probe', async () => {
    const nonce = generateNonce();
    const beforeA = await snapshot(h.ctx, h.a.sid, [deriveHsid(h.a.sid, nonce)]);
    for (const sid of [randomId(16), 'short', 'has.dots.in.it']) {
      const res = await business(h.app, sid, h.a.apiKey)('GET', '/session', { nonce });
      expect(errorOf(res), sid).toMatchObject({ status: 403, code: 'wrong_server' });
      const put = await business(h.app, sid, h.a.apiKey)('PUT', '/session/context', { nonce, body: { sessioninfo: {} } });
      expect(errorOf(put), sid).toMatchObject({ status: 403, code: 'wrong_server' });
      // No session sprang into being under the unknown sid, nor under the key's own server.
      expect(await h.ctx.store.getSession(sid, deriveHsid(sid, nonce))).toBeUndefined();
    }
    expect(await snapshot(h.ctx, h.a.sid, [deriveHsid(h.a.sid, nonce)])).toEqual(beforeA);
  });

  it('device API: an unknown sid finds no account and no enrol token', async () => {
    const phone = await enrolPhone(h, { pin: null });
    const unknownSid = randomId(16);
    const url = devicePaths.account(unknownSid);
    const headers = await phone.signedHeaders('GET', url);
    expect(errorOf(await h.app.inject({ method: 'GET', url, headers }))).toMatchObject({ status: 404, code: 'account_not_found' });
    const info = await h.app.inject({ method: 'GET', url: devicePaths.enrolInfo(unknownSid, randomId(24)) });
    expect(errorOf(info)).toMatchObject({ status: 410, code: 'enrol_token_invalid' });
  });
});

describe('failure rate limit per client IP', () => {
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  const badKey = () => `Bearer tapin.${randomId(12)}.${randomId(32)}`;

  it('after 30 bad API keys from one IP answers 429 rate_limited with retry-after, for a minute', async () => {
    const call = business(h.app, h.a.sid, null);
    for (let i = 0; i < 30; i++) {
      const res = await call('GET', '/session', { nonce: generateNonce(), headers: { authorization: badKey() } });
      expect(errorOf(res)).toMatchObject({ status: 401, code: 'unauthorized' });
    }
    const limited = await call('GET', '/session', { nonce: generateNonce(), headers: { authorization: badKey() } });
    expect(errorOf(limited)).toMatchObject({ status: 429, code: 'rate_limited', details: { retryAfter: 60 } });
    expect(limited.headers['retry-after']).toBe('60');

    // Even the right key is refused from that IP; the device API too.
    const good = business(h.app, h.a.sid, h.a.apiKey);
    const nonce = generateNonce();
    const refused = await good('GET', '/session', { nonce });
    expect(errorOf(refused)).toMatchObject({ status: 429, code: 'rate_limited' });
    expect(await h.ctx.store.getSession(h.a.sid, deriveHsid(h.a.sid, nonce))).toBeUndefined();
    const device = await h.app.inject({ method: 'GET', url: devicePaths.enrolInfo(h.a.sid, randomId(24)) });
    expect(errorOf(device)).toMatchObject({ status: 429, code: 'rate_limited' });

    // Another IP is not affected.
    expect((await good('GET', '/session', { nonce, remoteAddress: '10.0.0.7' })).statusCode).toBe(200);

    // The wait shrinks as time passes, and after the window the IP may try again.
    h.clock.advance(45_000);
    const later = await good('GET', '/session', { nonce });
    expect(later.statusCode).toBe(429);
    expect(later.headers['retry-after']).toBe('15');
    h.clock.advance(15_000);
    expect((await good('GET', '/session', { nonce })).statusCode).toBe(200);
  });

  it('counts guessable device failures (unknown enrol codes) against the IP too', async () => {
    for (let i = 0; i < 30; i++) {
      const res = await h.app.inject({ method: 'GET', url: devicePaths.enrolInfo(h.a.sid, randomId(24)) });
      expect(errorOf(res)).toMatchObject({ status: 410, code: 'enrol_token_invalid' });
    }
    const res = await h.app.inject({ method: 'GET', url: devicePaths.enrolInfo(h.a.sid, randomId(24)) });
    expect(errorOf(res)).toMatchObject({ status: 429, code: 'rate_limited' });
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('does not count a right key used on the wrong server, or successful calls', async () => {
    const call = business(h.app, h.a.sid, h.b.apiKey);
    for (let i = 0; i < 40; i++) expect((await call('GET', '/')).statusCode).toBe(403);
    expect((await business(h.app, h.a.sid, h.a.apiKey)('GET', '/')).statusCode).toBe(200);
  });
});
