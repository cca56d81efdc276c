import { deriveHsid } from '@tapin/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, business, errorOf, generateNonce, snapshot, startHarness } from '../test-support/harness.js';

/** Bad input to the business API: every refusal is a stable code, no stack trace, and no change to the data. */

// One server for the file: every test makes its own sessions, and compares the data before and after itself.
let h: Harness;
let call: ReturnType<typeof business>;
beforeAll(async () => {
  h = await startHarness();
  call = business(h.app, h.a.sid, h.a.apiKey);
});
afterAll(async () => {
  await h.close();
});

/** The session routes that take a nonce, each with a body it would accept. */
const SESSION_ROUTES = [
  ['GET', '/session', undefined],
  ['PUT', '/session/context', { sessioninfo: { info: { k: 'v' } } }],
  ['GET', '/session/qr', undefined],
  ['POST', '/session/logout', undefined],
  ['POST', '/session/registeruser', { userid: 'alice' }],
  ['POST', '/session/otp', { otp: '0J6HB7 VQMMW9' }],
] as const;

describe('the nonce', () => {
  const badNonces: Array<[string, string]> = [
    ['malformed (a dot)', `${generateNonce().slice(0, 20)}.${generateNonce().slice(0, 10)}`],
    ['malformed (base64 +/=)', 'ab+cd/efGHijklMNopqrSTuv=='],
    ['malformed (spaces)', 'abc def ghi jkl mno pqr stu vwx'],
    ['malformed (non-ASCII)', `${generateNonce()}é`],
    ['short (21 chars)', generateNonce().slice(0, 21)],
    ['too long (129 chars)', (generateNonce() + generateNonce() + generateNonce() + generateNonce() + generateNonce()).slice(0, 129)],
    ['short hex (31 hex digits = 124 bits)', '0123456789abcdef0123456789abcde'],
    ['a placeholder', 'a'.repeat(40)],
    ['empty', ''],
  ];

  it.each(badNonces)('refuses a %s nonce on every session route (400 invalid_nonce) and creates no session', async (_name, nonce) => {
    const hsid = deriveHsid(h.a.sid, nonce);
    const before = await snapshot(h.ctx, h.a.sid, [hsid]);
    for (const [method, path, body] of SESSION_ROUTES) {
      const res = await call(method, path, { nonce, body });
      expect(errorOf(res), `${method} ${path}`).toMatchObject({ status: 400, code: 'invalid_nonce' });
    }
    expect(await snapshot(h.ctx, h.a.sid, [hsid])).toEqual(before);
  });

  it('refuses a missing nonce on every session route (400 invalid_nonce)', async () => {
    const before = await snapshot(h.ctx, h.a.sid);
    for (const [method, path, body] of SESSION_ROUTES) {
      expect(errorOf(await call(method, path, { body })), `${method} ${path}`).toMatchObject({ status: 400, code: 'invalid_nonce' });
    }
    expect(await snapshot(h.ctx, h.a.sid)).toEqual(before);
  });

  it('does not take a nonce from the query string', async () => {
    const nonce = generateNonce();
    const hsid = deriveHsid(h.a.sid, nonce);
    for (const name of ['nonce', 'x-nonce', 'X-Nonce']) {
      for (const [method, path, body] of SESSION_ROUTES) {
        const res = await call(method, path, { body, query: { [name]: nonce } });
        expect(errorOf(res), `${method} ${path}?${name}`).toMatchObject({ status: 400, code: 'invalid_nonce' });
      }
    }
    expect(await h.ctx.store.getSession(h.a.sid, hsid)).toBeUndefined();
    // The same nonce in the header works, and names the session derived from it.
    const ok = await call('GET', '/session', { nonce });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ hsid, state: 'idle' });
  });

  it('accepts hex nonces of 32+ digits and base64url nonces of 22+ chars', async () => {
    for (const nonce of ['0123456789abcdef0123456789abcdef', generateNonce().slice(0, 22), 'x'.repeat(64) + generateNonce().slice(0, 64)]) {
      const res = await call('GET', '/session', { nonce });
      expect(res.statusCode, nonce).toBe(200);
    }
  });
});

describe('body size', () => {
  it('refuses a body over 64 KiB (413 payload_too_large) without touching the session', async () => {
    const nonce = generateNonce();
    const hsid = deriveHsid(h.a.sid, nonce);
    expect((await call('GET', '/session', { nonce })).statusCode).toBe(200);
    const before = await snapshot(h.ctx, h.a.sid, [hsid]);
    const payload = JSON.stringify({ sessioninfo: { info: { k: 'x'.repeat(65 * 1024) } } });
    expect(errorOf(await call('PUT', '/session/context', { nonce, payload }))).toMatchObject({ status: 413, code: 'payload_too_large' });
    expect(errorOf(await call('PUT', '/', { payload: JSON.stringify({ logo: 'x'.repeat(70_000) }) }))).toMatchObject({ status: 413, code: 'payload_too_large' });
    expect(await snapshot(h.ctx, h.a.sid, [hsid])).toEqual(before);
  });

  it('refuses an announceinfo or sessioninfo over 4 KiB (413 context_too_large)', async () => {
    const nonce = generateNonce();
    const hsid = deriveHsid(h.a.sid, nonce);
    // Every field within its own limit, together over 4 KiB.
    const big = { info: Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`k${i}`, 'y'.repeat(1000)])) };
    expect(errorOf(await call('PUT', '/session/context', { nonce, body: { announceinfo: big } }))).toMatchObject({ status: 413, code: 'context_too_large' });
    expect(await h.ctx.store.getSession(h.a.sid, hsid)).toBeUndefined();

    expect((await call('GET', '/session', { nonce })).statusCode).toBe(200);
    const before = await snapshot(h.ctx, h.a.sid, [hsid]);
    for (const body of [{ announceinfo: big }, { sessioninfo: big }, { announceinfo: { info: { a: 'b' } }, sessioninfo: big }]) {
      expect(errorOf(await call('PUT', '/session/context', { nonce, body }))).toMatchObject({ status: 413, code: 'context_too_large' });
    }
    expect(await snapshot(h.ctx, h.a.sid, [hsid])).toEqual(before);

    // Multi-byte characters count as bytes: 1000 chars × 3 bytes × 2 > 4 KiB.
    const wide = { info: { a: '€'.repeat(1000), b: '€'.repeat(1000) } };
    expect(errorOf(await call('PUT', '/session/context', { nonce, body: { sessioninfo: wide } }))).toMatchObject({ status: 413, code: 'context_too_large' });
    expect(await snapshot(h.ctx, h.a.sid, [hsid])).toEqual(before);
  });
});

describe('body shape', () => {
  it('refuses unknown extra properties (400 bad_request) and changes nothing', async () => {
    const nonce = generateNonce();
    const hsid = deriveHsid(h.a.sid, nonce);
    expect((await call('GET', '/session', { nonce })).statusCode).toBe(200);
    const before = await snapshot(h.ctx, h.a.sid, [hsid]);
    const cases: Array<[string, string, unknown]> = [
      ['PUT', '/session/context', { announceinfo: { info: { a: 'b' } }, extra: 1 }],
      ['PUT', '/session/context', { announceinfo: { info: { a: 'b' }, colour: 'red' } }],
      ['PUT', '/session/context', { sessioninfo: { ip: '1.2.3.4', useragent: 'x', logo: '', info: {}, more: true } }],
      ['PUT', '/', { name: 'Renamed', bogus: 1 }],
      ['POST', '/enrolments', { name: 'Phone', admin: true }],
      ['POST', '/session/registeruser', { userid: 'alice', role: 'admin' }],
    ];
    for (const [method, path, body] of cases) {
      const err = errorOf(await call(method as 'PUT', path, { nonce, body }));
      expect(err, `${method} ${path} ${JSON.stringify(body)}`).toMatchObject({ status: 400, code: 'bad_request' });
    }
    expect(await snapshot(h.ctx, h.a.sid, [hsid])).toEqual(before);
  });

  it('refuses wrong types and out-of-range values (400 bad_request)', async () => {
    const before = await snapshot(h.ctx, h.a.sid);
    const cases: Array<[string, string, unknown]> = [
      ['PUT', '/', { pingTime: -1 }],
      ['PUT', '/', { pinTimeout: -2 }],
      ['PUT', '/', { pingTime: 'soon' }],
      ['PUT', '/', { serverFlags: ['lower_case'] }],
      ['PUT', '/', { name: '' }],
      ['PUT', '/', [1, 2]],
      ['POST', '/enrolments', {}],
      ['POST', '/enrolments', { name: 'x', userid: 'has/slash' }],
      // JSON bodies are taken as sent: no coercion of strings to numbers or booleans.
      ['PUT', '/', { pingTime: '30' }],
      ['PUT', '/', { pinTimeout: true }],
      ['POST', '/enrolments', { name: 42 }],
    ];
    for (const [method, path, body] of cases) {
      const err = errorOf(await call(method as 'PUT', path, { body }));
      expect(err, `${method} ${path} ${JSON.stringify(body)}`).toMatchObject({ status: 400, code: 'bad_request' });
    }
    expect(await snapshot(h.ctx, h.a.sid)).toEqual(before);
  });

  it('refuses invalid JSON, an empty JSON body and a non-JSON content type (400 bad_request)', async () => {
    const nonce = generateNonce();
    const hsid = deriveHsid(h.a.sid, nonce);
    expect((await call('GET', '/session', { nonce })).statusCode).toBe(200);
    const before = await snapshot(h.ctx, h.a.sid, [hsid]);
    for (const payload of ['{"announceinfo":', '{bad json}', "{'single': 'quotes'}", 'null x', '']) {
      const err = errorOf(await call('PUT', '/session/context', { nonce, payload }));
      expect(err, JSON.stringify(payload)).toMatchObject({ status: 400, code: 'bad_request' });
    }
    expect(errorOf(await call('PUT', '/', { payload: '{"name": "x",}' }))).toMatchObject({ status: 400, code: 'bad_request' });
    const text = await call('PUT', '/session/context', { nonce, payload: 'sessioninfo=1', headers: { 'content-type': 'text/plain' } });
    expect(errorOf(text)).toMatchObject({ status: 400, code: 'bad_request' });
    expect(await snapshot(h.ctx, h.a.sid, [hsid])).toEqual(before);
  });

  it('refuses bad query parameters (400 bad_request)', async () => {
    const nonce = generateNonce();
    for (const [path, query] of [
      ['/session', { wait: 'soon' }],
      ['/session', { wait: '61' }],
      ['/session', { wait: '-1' }],
      ['/session/qr', { format: 'gif' }],
      ['/users', { limit: '0' }],
      ['/users', { limit: '1001' }],
      ['/accounts', { limit: 'many' }],
    ] as const) {
      const err = errorOf(await call('GET', path, { nonce, query }));
      expect(err, `${path} ${JSON.stringify(query)}`).toMatchObject({ status: 400, code: 'bad_request' });
    }
  });

  it('answers an unexpected failure with 500 internal and nothing of the cause', async () => {
    const own = await startHarness();
    try {
      const secret = new Error('SQLITE_CORRUPT: /var/lib/tapin/tapin.db password=hunter2');
      own.ctx.store.getSession = () => Promise.reject(secret);
      const res = await business(own.app, own.a.sid, own.a.apiKey)('GET', '/session', { nonce: generateNonce() });
      expect(errorOf(res)).toEqual({ status: 500, code: 'internal', message: 'Internal server error.' });
      expect(res.body).not.toMatch(/SQLITE|tapin\.db|hunter2/);
    } finally {
      await own.close();
    }
  });

  it('answers unknown routes with 404 not_found', async () => {
    expect(errorOf(await call('GET', '/nothing-here'))).toMatchObject({ status: 404, code: 'not_found' });
    expect(errorOf(await h.app.inject({ method: 'GET', url: '/v2/anything' }))).toMatchObject({ status: 404, code: 'not_found' });
  });
});
