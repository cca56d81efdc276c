import { TapinError } from '@tapin/protocol';
import { describe, expect, it } from 'vitest';
import { DeviceHttp } from './device-http.js';

const http = (fetch: typeof globalThis.fetch, timeoutMs = 1000) => new DeviceHttp({ fetch, timeoutMs, now: Date.now });

describe('DeviceHttp error mapping', () => {
  it('a network failure is connection_error (UserErrorMessage 70)', async () => {
    const err = await http(async () => { throw new TypeError('fetch failed'); }).call('http://x', 'GET', '/').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TapinError);
    expect((err as TapinError).code).toBe('connection_error');
    expect((err as TapinError).userError).toBe(70);
  });

  it('a server that does not answer in time is server_timeout (50)', async () => {
    const slow: typeof globalThis.fetch = (_url, init) =>
      new Promise((_res, rej) => init?.signal?.addEventListener('abort', () => rej(init.signal!.reason as Error)));
    const err = (await http(slow, 50).call('http://x', 'GET', '/').catch((e: unknown) => e)) as TapinError;
    expect(err.code).toBe('server_timeout');
    expect(err.userError).toBe(50);
  });

  it("the server's error code and details come back as a TapinError", async () => {
    const body = JSON.stringify({ error: { code: 'pin_wrong', message: 'Wrong PIN.', details: { attemptsLeft: 3 } } });
    const err = (await http(async () => new Response(body, { status: 403 })).call('http://x', 'POST', '/', {}).catch((e: unknown) => e)) as TapinError;
    expect(err.code).toBe('pin_wrong');
    expect(err.details).toEqual({ attemptsLeft: 3 });
  });

  it('a non-Tapin error page is server_error / server_unknown', async () => {
    const e500 = (await http(async () => new Response('<html>oops', { status: 502 })).call('http://x', 'GET', '/').catch((e: unknown) => e)) as TapinError;
    expect(e500.code).toBe('server_error');
    const e404 = (await http(async () => new Response('nope', { status: 404 })).call('http://x', 'GET', '/').catch((e: unknown) => e)) as TapinError;
    expect(e404.code).toBe('server_unknown');
  });
});
