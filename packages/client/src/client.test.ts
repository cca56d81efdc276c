import { describe, expect, it } from 'vitest';
import { TapinApiError, TapinClient, generateNonce, isValidNonce } from './index.js';
import type { FetchLike, LoginStatus } from './index.js';

/** One call as the fake fetch saw it. */
interface Seen {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
  signal: AbortSignal | undefined;
}

type Reply = Response | ((init: RequestInit) => Promise<Response>);

/** A fetch that records each call and answers from a queue (default: `{}` as JSON). */
function fakeFetch(...replies: Reply[]): { fetch: FetchLike; calls: Seen[] } {
  const calls: Seen[] = [];
  const fetch: FetchLike = async (input, init) => {
    calls.push({
      url: input,
      method: init.method ?? 'GET',
      headers: { ...(init.headers as Record<string, string>) },
      body: typeof init.body === 'string' ? (JSON.parse(init.body) as unknown) : undefined,
      signal: init.signal ?? undefined,
    });
    const reply = replies.shift() ?? json({});
    return typeof reply === 'function' ? reply(init) : reply;
  };
  return { fetch, calls };
}

const json = (value: unknown, status = 200): Response =>
  new Response(JSON.stringify(value), { status, headers: { 'content-type': 'application/json' } });

const BASE = 'https://tapin.example.com/v1/servers/srv_12345678';
const KEY = 'tk_secret_api_key';

function makeClient(...replies: Reply[]) {
  const f = fakeFetch(...replies);
  const client = new TapinClient({ url: 'https://tapin.example.com/', sid: 'srv_12345678', apiKey: KEY, fetch: f.fetch });
  return { client, calls: f.calls };
}

const nonce = generateNonce();

const status: LoginStatus = {
  loggedin: false,
  accountid: null,
  userid: null,
  otplogin: false,
  canprovoke: false,
  hsid: 'AAAAAAAAAAAAAAAAAAAAAA',
  loginqrdata: 'https://tapin.example.com/q/srv_12345678/AAAAAAAAAAAAAAAAAAAAAA',
  state: 'idle',
  expires: 1_700_000_000_000,
};

/** Runs `fn` and returns the TapinApiError it throws. */
async function apiError(fn: () => Promise<unknown>): Promise<TapinApiError> {
  try {
    await fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TapinApiError);
    return err as TapinApiError;
  }
  throw new Error('expected a TapinApiError');
}

describe('nonce', () => {
  it('generateNonce makes nonces the server accepts, and is also a static', () => {
    expect(isValidNonce(generateNonce())).toBe(true);
    expect(isValidNonce(TapinClient.generateNonce())).toBe(true);
    expect(generateNonce()).not.toBe(generateNonce());
  });

  it.each([
    ['getSession', (c: TapinClient, n: string) => c.getSession(n)],
    ['setContext', (c: TapinClient, n: string) => c.setContext(n, {})],
    ['getQr', (c: TapinClient, n: string) => c.getQr(n)],
    ['getQrImage', (c: TapinClient, n: string) => c.getQrImage(n, 'svg')],
    ['logout', (c: TapinClient, n: string) => c.logout(n)],
    ['registerUser', (c: TapinClient, n: string) => c.registerUser(n, 'alice')],
  ] as const)('%s refuses an invalid nonce without calling fetch', async (_name, call) => {
    for (const bad of ['', 'short', 'a'.repeat(40), '0123456789abcdef0123456789', 'has spaces in it and is long enough', 'x'.repeat(129)]) {
      const { client, calls } = makeClient();
      const err = await apiError(() => call(client, bad));
      expect(err.code).toBe('invalid_nonce');
      expect(err.status).toBe(400);
      expect(err.responded).toBe(false);
      if (bad) expect(err.message).not.toContain(bad);
      expect(calls).toHaveLength(0);
    }
  });
});

describe('session calls', () => {
  it('getSession: GET /session with Bearer and X-Nonce, nonce never in the URL', async () => {
    const { client, calls } = makeClient(json(status));
    await expect(client.getSession(nonce)).resolves.toEqual(status);
    expect(calls).toHaveLength(1);
    const [call] = calls;
    expect(call?.url).toBe(`${BASE}/session`);
    expect(call?.method).toBe('GET');
    expect(call?.headers).toEqual({ Authorization: `Bearer ${KEY}`, Accept: 'application/json', 'X-Nonce': nonce });
    expect(call?.body).toBeUndefined();
    expect(call?.url).not.toContain(nonce);
  });

  it('getSession({wait}) long-polls with ?wait=N and a longer timeout', async () => {
    const { client, calls } = makeClient(json(status));
    await client.getSession(nonce, { wait: 25 });
    expect(calls[0]?.url).toBe(`${BASE}/session?wait=25`);
    expect(calls[0]?.headers['X-Nonce']).toBe(nonce);
  });

  it('getSession rejects a negative or non-finite wait locally', async () => {
    const { client, calls } = makeClient();
    expect((await apiError(() => client.getSession(nonce, { wait: -1 }))).code).toBe('bad_request');
    expect((await apiError(() => client.getSession(nonce, { wait: Number.NaN }))).code).toBe('bad_request');
    expect(calls).toHaveLength(0);
  });

  it('setContext: PUT /session/context with the context as JSON', async () => {
    const { client, calls } = makeClient(json(status));
    const context = { announceinfo: { info: { action: 'Log in' }, ip: '192.0.2.1' }, sessioninfo: { useragent: 'Firefox' } };
    await expect(client.setContext(nonce, context)).resolves.toEqual(status);
    expect(calls[0]).toMatchObject({ url: `${BASE}/session/context`, method: 'PUT', body: context });
    expect(calls[0]?.headers).toEqual({
      Authorization: `Bearer ${KEY}`,
      Accept: 'application/json',
      'Content-Type': 'application/json',
      'X-Nonce': nonce,
    });
  });

  it('getQr: GET /session/qr → {data, hsid}', async () => {
    const qr = { data: status.loginqrdata, hsid: status.hsid };
    const { client, calls } = makeClient(json(qr));
    await expect(client.getQr(nonce)).resolves.toEqual(qr);
    expect(calls[0]).toMatchObject({ url: `${BASE}/session/qr`, method: 'GET' });
    expect(calls[0]?.headers['X-Nonce']).toBe(nonce);
  });

  it('getQrImage svg: ?format=svg, answers the markup', async () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg"></svg>';
    const { client, calls } = makeClient(new Response(svg, { headers: { 'content-type': 'image/svg+xml' } }));
    const out: string = await client.getQrImage(nonce, 'svg');
    expect(out).toBe(svg);
    expect(calls[0]).toMatchObject({ url: `${BASE}/session/qr?format=svg`, method: 'GET' });
    expect(calls[0]?.headers).toMatchObject({ Accept: 'image/svg+xml', 'X-Nonce': nonce });
  });

  it('getQrImage png: ?format=png, answers the bytes', async () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const { client, calls } = makeClient(new Response(png, { headers: { 'content-type': 'image/png' } }));
    const out: Uint8Array = await client.getQrImage(nonce, 'png');
    expect(out).toBeInstanceOf(Uint8Array);
    expect([...out]).toEqual([...png]);
    expect(calls[0]?.url).toBe(`${BASE}/session/qr?format=png`);
    expect(calls[0]?.headers).toMatchObject({ Accept: 'image/png', 'X-Nonce': nonce });
  });

  it('logout: POST /session/logout with no body', async () => {
    const { client, calls } = makeClient(json({ ...status, state: 'loggedout' }));
    await expect(client.logout(nonce)).resolves.toMatchObject({ state: 'loggedout' });
    expect(calls[0]).toMatchObject({ url: `${BASE}/session/logout`, method: 'POST', body: undefined });
    expect(calls[0]?.headers['X-Nonce']).toBe(nonce);
    expect(calls[0]?.headers['Content-Type']).toBeUndefined();
  });

  it('push login: provokeLogin, provokeUserLogin, provokeAccountLogin POST with X-Nonce and an optional context', async () => {
    const pushed = { hsid: status.hsid, state: 'provoked', accounts: 1, number: 42, expires: 1 };
    const { client, calls } = makeClient(json(pushed), json(pushed), json(pushed));
    await expect(client.provokeLogin(nonce)).resolves.toMatchObject({ number: 42 });
    await client.provokeUserLogin(nonce, 'a/b', { announceinfo: { info: { x: 'y' } } });
    await client.provokeAccountLogin(nonce, 'acc_0123456789');
    expect(calls.map((c) => [c.method, c.url, c.body])).toEqual([
      ['POST', `${BASE}/session/provoke`, undefined],
      ['POST', `${BASE}/users/a%2Fb/provokelogin`, { announceinfo: { info: { x: 'y' } } }],
      ['POST', `${BASE}/accounts/acc_0123456789/provokelogin`, undefined],
    ]);
    for (const c of calls) expect(c.headers['X-Nonce']).toBe(nonce);
  });

  it('registerUser: POST /session/registeruser {userid}', async () => {
    const { client, calls } = makeClient(json({ ...status, userid: 'alice' }));
    await expect(client.registerUser(nonce, 'alice')).resolves.toMatchObject({ userid: 'alice' });
    expect(calls[0]).toMatchObject({ url: `${BASE}/session/registeruser`, method: 'POST', body: { userid: 'alice' } });
    expect(calls[0]?.headers['X-Nonce']).toBe(nonce);
  });
});

describe('calls without a session', () => {
  const cases: [string, (c: TapinClient) => Promise<unknown>, string, string, unknown][] = [
    ['enrol', (c) => c.enrol({ name: 'Alice' }), 'POST', '/enrolments', { name: 'Alice' }],
    ['enrol with userid', (c) => c.enrol({ name: 'Alice', userid: 'alice' }), 'POST', '/enrolments', { name: 'Alice', userid: 'alice' }],
    ['getSettings', (c) => c.getSettings(), 'GET', '', undefined],
    ['updateSettings', (c) => c.updateSettings({ pingTime: 0, serverFlags: ['ENABLE_OTP'] }), 'PUT', '', { pingTime: 0, serverFlags: ['ENABLE_OTP'] }],
    ['listUsers', (c) => c.listUsers(), 'GET', '/users', undefined],
    ['listUsers with options', (c) => c.listUsers({ search: 'al ice', limit: 10, marker: 'm&1' }), 'GET', '/users?search=al+ice&limit=10&marker=m%261', undefined],
    ['getUser', (c) => c.getUser('alice'), 'GET', '/users/alice', undefined],
    ['getUser encodes', (c) => c.getUser('a/b?c#d é'), 'GET', '/users/a%2Fb%3Fc%23d%20%C3%A9', undefined],
    ['getUserAccounts', (c) => c.getUserAccounts('alice@example.com'), 'GET', '/users/alice%40example.com/accounts', undefined],
    ['getUserAttributes', (c) => c.getUserAttributes('alice'), 'GET', '/users/alice/attributes', undefined],
    ['setUserAttributes', (c) => c.setUserAttributes('alice', { role: 'admin' }), 'PUT', '/users/alice/attributes', { role: 'admin' }],
    ['listAccounts', (c) => c.listAccounts(), 'GET', '/accounts', undefined],
    ['listAccounts with options', (c) => c.listAccounts({ limit: 5, marker: 'abc' }), 'GET', '/accounts?limit=5&marker=abc', undefined],
    ['getAccount', (c) => c.getAccount('acc_0123456789'), 'GET', '/accounts/acc_0123456789', undefined],
    ['blockAccount', (c) => c.blockAccount('acc_0123456789'), 'PUT', '/accounts/acc_0123456789', { blocked: true }],
    ['unblockAccount', (c) => c.unblockAccount('acc_0123456789'), 'PUT', '/accounts/acc_0123456789', { blocked: false }],
    ['assignAccount', (c) => c.assignAccount('acc_0123456789', 'bob'), 'PUT', '/accounts/acc_0123456789/user', { userid: 'bob' }],
    ['listAudit', (c) => c.listAudit({ limit: 5 }), 'GET', '/audit?limit=5', undefined],
  ];

  it.each(cases)('%s', async (_name, call, method, path, body) => {
    const answer = { some: 'answer' };
    const { client, calls } = makeClient(json(answer));
    await expect(call(client)).resolves.toEqual(answer);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.url).toBe(`${BASE}${path}`);
    expect(calls[0]?.method).toBe(method);
    expect(calls[0]?.body).toEqual(body);
    expect(calls[0]?.headers.Authorization).toBe(`Bearer ${KEY}`);
    expect(calls[0]?.headers['X-Nonce']).toBeUndefined();
    expect(calls[0]?.headers['Content-Type']).toBe(body === undefined ? undefined : 'application/json');
  });

  const deletes: [string, (c: TapinClient) => Promise<void>, string][] = [
    ['deleteUser', (c) => c.deleteUser('alice'), '/users/alice'],
    ['deleteUserAccounts', (c) => c.deleteUserAccounts('alice'), '/users/alice/accounts'],
    ['deleteUserAttributes', (c) => c.deleteUserAttributes('alice'), '/users/alice/attributes'],
    ['deleteAccount', (c) => c.deleteAccount('acc_0123456789'), '/accounts/acc_0123456789'],
  ];

  it.each(deletes)('%s: DELETE answered 204 resolves to undefined', async (_name, call, path) => {
    const { client, calls } = makeClient(new Response(null, { status: 204 }));
    await expect(call(client)).resolves.toBeUndefined();
    expect(calls[0]).toMatchObject({ url: `${BASE}${path}`, method: 'DELETE', body: undefined });
  });

  it('refuses an empty userid or account id locally (it would hit the list route)', async () => {
    const { client, calls } = makeClient();
    expect((await apiError(() => client.getUser(''))).code).toBe('bad_request');
    expect((await apiError(() => client.deleteAccount(''))).code).toBe('bad_request');
    expect((await apiError(() => client.assignAccount('acc_0123456789', ''))).code).toBe('bad_request');
    expect((await apiError(() => client.registerUser(nonce, ''))).code).toBe('bad_request');
    expect(calls).toHaveLength(0);
  });

  it('encodes the sid and ignores trailing slashes in the url', async () => {
    const f = fakeFetch(json({}));
    const client = new TapinClient({ url: 'http://localhost:8470//', sid: 'a b', apiKey: KEY, fetch: f.fetch });
    await client.getSettings();
    expect(f.calls[0]?.url).toBe('http://localhost:8470/v1/servers/a%20b');
  });
});

describe('errors', () => {
  it('a Tapin error body keeps its code, status, message and details', async () => {
    const body = { error: { code: 'pin_wrong', message: 'Wrong PIN.', details: { attemptsLeft: 3, nested: { no: 1 } } } };
    const { client } = makeClient(json(body, 403));
    const err = await apiError(() => client.getAccount('acc_0123456789'));
    expect(err.code).toBe('pin_wrong');
    expect(err.serverCode).toBe('pin_wrong');
    expect(err.status).toBe(403);
    expect(err.message).toBe('Wrong PIN.');
    expect(err.details).toEqual({ attemptsLeft: 3 });
    expect(err.responded).toBe(true);
    expect(err.toJSON()).toEqual({ error: { code: 'pin_wrong', message: 'Wrong PIN.', details: { attemptsLeft: 3 } } });
  });

  it.each([
    ['session_expired', 410],
    ['unauthorized', 401],
    ['wrong_server', 403],
    ['user_not_found', 404],
    ['context_too_large', 413],
    ['rate_limited', 429],
  ] as const)('%s (%i)', async (code, httpStatus) => {
    const { client } = makeClient(json({ error: { code, message: 'm' } }, httpStatus));
    const err = await apiError(() => client.getSession(nonce));
    expect(err).toMatchObject({ code, status: httpStatus, message: 'm', details: undefined });
  });

  it('an unknown code becomes `unknown` and keeps the raw code', async () => {
    const { client } = makeClient(json({ error: { code: 'brand_new_code', message: 'New.' } }, 418));
    const err = await apiError(() => client.getSettings());
    expect(err).toMatchObject({ code: 'unknown', serverCode: 'brand_new_code', status: 418, message: 'New.' });
  });

  it.each([
    [502, 'server_error'],
    [503, 'unavailable'],
    [504, 'server_timeout'],
    [500, 'internal'],
    [599, 'server_error'],
    [404, 'not_found'],
    [418, 'unknown'],
  ] as const)('a non-JSON %i body becomes %s', async (httpStatus, code) => {
    const { client } = makeClient(new Response('<html><body>Bad Gateway</body></html>', { status: httpStatus }));
    const err = await apiError(() => client.getSession(nonce));
    expect(err.code).toBe(code);
    expect(err.status).toBe(httpStatus);
    expect(err.serverCode).toBeUndefined();
    expect(err.details).toEqual({ body: '<html><body>Bad Gateway</body></html>' });
  });

  it("a JSON body that is not Tapin's (Fastify's default) maps from the status and keeps the message", async () => {
    const { client } = makeClient(json({ statusCode: 400, code: 'FST_ERR_VALIDATION', error: 'Bad Request', message: 'body/name must be string' }, 400));
    const err = await apiError(() => client.enrol({ name: 'x' }));
    expect(err).toMatchObject({ code: 'bad_request', status: 400, message: 'body/name must be string' });
  });

  it('a 2xx answer that is not JSON becomes server_error', async () => {
    const { client } = makeClient(new Response('<html>hello</html>', { status: 200 }));
    const err = await apiError(() => client.getSettings());
    expect(err).toMatchObject({ code: 'server_error', status: 200 });
  });

  it('a redirect is not followed', async () => {
    const { client, calls } = makeClient(new Response(null, { status: 301, headers: { location: 'https://elsewhere.example/' } }));
    const err = await apiError(() => client.logout(nonce));
    expect(err.status).toBe(301);
    expect(err.message).toContain('https://elsewhere.example/');
    expect(calls).toHaveLength(1);
  });

  it('a fetch that throws (network down) becomes connection_error with the cause', async () => {
    const down = new TypeError('fetch failed');
    const { client } = makeClient(() => Promise.reject(down));
    const err = await apiError(() => client.getSession(nonce));
    expect(err.code).toBe('connection_error');
    expect(err.status).toBe(503);
    expect(err.responded).toBe(false);
    expect(err.cause).toBe(down);
    expect(err.userError).toBe(70);
  });

  /** Never answers; rejects like fetch does when its signal aborts. */
  const hang = (init: RequestInit): Promise<Response> =>
    new Promise((_resolve, reject) => {
      init.signal?.addEventListener('abort', () => reject(init.signal?.reason as Error));
    });

  it('a server that does not answer in time becomes server_timeout', async () => {
    const f = fakeFetch(hang);
    const client = new TapinClient({ url: 'https://tapin.example.com', sid: 'srv_12345678', apiKey: KEY, fetch: f.fetch, timeoutMs: 30 });
    const err = await apiError(() => client.getSession(nonce));
    expect(err.code).toBe('server_timeout');
    expect(err.status).toBe(504);
    expect(err.responded).toBe(false);
  });

  it('a body that stalls after the headers also times out', async () => {
    const stalled = (init: RequestInit): Promise<Response> => {
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('{"loggedin":'));
          init.signal?.addEventListener('abort', () => controller.error(init.signal?.reason));
        },
      });
      return Promise.resolve(new Response(stream, { status: 200 }));
    };
    const f = fakeFetch(stalled);
    const client = new TapinClient({ url: 'https://tapin.example.com', sid: 'srv_12345678', apiKey: KEY, fetch: f.fetch, timeoutMs: 30 });
    expect((await apiError(() => client.getSession(nonce))).code).toBe('server_timeout');
  });

  it('the long-poll wait is added to the timeout', async () => {
    const f = fakeFetch(hang);
    const client = new TapinClient({ url: 'https://tapin.example.com', sid: 'srv_12345678', apiKey: KEY, fetch: f.fetch, timeoutMs: 30 });
    const pending = client.getSession(nonce, { wait: 1 });
    let settled = false;
    pending.catch(() => undefined).finally(() => (settled = true));
    await new Promise((r) => setTimeout(r, 200));
    expect(settled).toBe(false);
    expect((await apiError(() => pending)).code).toBe('server_timeout');
  });

  it("the caller's abort signal rejects with its own reason, not a TapinApiError", async () => {
    const f = fakeFetch(hang);
    const client = new TapinClient({ url: 'https://tapin.example.com', sid: 'srv_12345678', apiKey: KEY, fetch: f.fetch });
    const controller = new AbortController();
    const pending = client.getSession(nonce, { wait: 25, signal: controller.signal });
    const reason = new Error('page closed');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });
});

describe('configuration', () => {
  it('requires url, sid and apiKey', () => {
    expect(() => new TapinClient({ url: '', sid: 's', apiKey: 'k' })).toThrow(TypeError);
    expect(() => new TapinClient({ url: 'http://x', sid: '', apiKey: 'k' })).toThrow(TypeError);
    expect(() => new TapinClient({ url: 'http://x', sid: 's', apiKey: '' })).toThrow(TypeError);
  });

  it('does not expose the API key as a property', () => {
    const client = new TapinClient({ url: 'http://x', sid: 's', apiKey: KEY });
    expect(JSON.stringify(client)).not.toContain(KEY);
    expect(Object.values(client)).not.toContain(KEY);
  });

  it('defaults to the global fetch, called unbound', async () => {
    const original = globalThis.fetch;
    let seen: string | undefined;
    globalThis.fetch = ((input: string) => {
      seen = input;
      return Promise.resolve(json(status));
    }) as typeof fetch;
    try {
      const client = new TapinClient({ url: 'http://x', sid: 's', apiKey: KEY });
      await client.getSession(nonce);
      expect(seen).toBe('http://x/v1/servers/s/session');
    } finally {
      globalThis.fetch = original;
    }
  });
});
