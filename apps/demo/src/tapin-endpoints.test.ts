import { type RunningServer, startServer } from '@tapin/server';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDemoApp } from './app.js';

/** Bad input to the endpoints the login block calls: refused before any Tapin call, as JSON errors with a code. */
let server: RunningServer;
let app: FastifyInstance;
let cookie: string;
let hsid: string;

beforeAll(async () => {
  server = await startServer({ db: ':memory:', port: 0, host: '127.0.0.1', logger: false });
  app = await buildDemoApp({ tapinUrl: server.url, sid: server.created!.sid, apiKey: server.created!.apiKey });
  const session = await app.inject({ method: 'POST', url: '/auth/tapin/session', payload: {} });
  expect(session.statusCode).toBe(200);
  cookie = String(session.headers['set-cookie']).split(';')[0]!;
  hsid = session.json<{ hsid: string }>().hsid;
});
afterAll(async () => {
  await app?.close();
  await server?.close();
});

const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url, payload: JSON.stringify(payload), headers: { 'content-type': 'application/json', cookie, ...headers } });
const codeOf = (res: { statusCode: number; json<T>(): T }) => ({ status: res.statusCode, code: res.json<{ error: { code: string } }>().error.code });

describe("the block's endpoints on the demo site", () => {
  it('answers the session with the public side only', async () => {
    const res = await app.inject({ method: 'POST', url: '/auth/tapin/session', payload: {}, headers: { cookie } });
    expect(Object.keys(res.json()).sort()).toEqual(['canprovoke', 'expiresIn', 'hsid', 'otp', 'qrdata', 'sid']);
    hsid = res.json<{ hsid: string }>().hsid;
  });

  it.each([
    ['complete without an hsid', '/auth/tapin/complete', {}],
    ['complete with a malformed hsid', '/auth/tapin/complete', { hsid: 'x' }],
    ['complete with an unknown field', '/auth/tapin/complete', { hsid: 'A'.repeat(22), nonce: 'n' }],
    ['otp without a code', '/auth/tapin/otp', { hsid: 'A'.repeat(22) }],
    ['otp with an over-long code', '/auth/tapin/otp', { hsid: 'A'.repeat(22), otp: 'A'.repeat(65) }],
    ['push with an over-long username', '/auth/tapin/push', { hsid: 'A'.repeat(22), username: 'a'.repeat(65) }],
    ['session with a body', '/auth/tapin/session', { nonce: 'mine' }],
  ])('refuses %s (400 bad_request)', async (_name, url, body) => {
    expect(codeOf(await post(url, body))).toEqual({ status: 400, code: 'bad_request' });
  });

  it('refuses a username that cannot exist here, a code of blanks, and another session’s hsid', async () => {
    expect(codeOf(await post('/auth/tapin/push', { hsid, username: 'Bad User!' }))).toEqual({ status: 400, code: 'bad_username' });
    expect(codeOf(await post('/auth/tapin/otp', { hsid, otp: '   ' }))).toEqual({ status: 400, code: 'otp_invalid' });
    expect(codeOf(await post('/auth/tapin/complete', { hsid: 'B'.repeat(22) }))).toEqual({ status: 409, code: 'session_changed' });
    expect(codeOf(await post('/auth/tapin/complete', { hsid }, { cookie: 'tapin_demo=forged' }))).toEqual({ status: 409, code: 'no_login' });
  });

  it('refuses bad long-poll parameters', async () => {
    for (const query of [`hsid=${hsid}&wait=99`, `hsid=${hsid}&state=bogus`, 'hsid=short', `hsid=${hsid}&extra=1`, '']) {
      const res = await app.inject({ method: 'GET', url: `/auth/tapin/status?${query}`, headers: { cookie } });
      expect(codeOf(res), query).toEqual({ status: 400, code: 'bad_request' });
    }
    const now = await app.inject({ method: 'GET', url: `/auth/tapin/status?hsid=${hsid}&wait=0`, headers: { cookie } });
    expect(now.json()).toEqual({ hsid, state: 'idle' });
  });

  it('refuses cross-site calls', async () => {
    expect(codeOf(await post('/auth/tapin/complete', { hsid }, { origin: 'https://evil.example' }))).toEqual({ status: 403, code: 'cross_site' });
    expect(codeOf(await post('/auth/tapin/complete', { hsid }, { 'sec-fetch-site': 'cross-site' }))).toEqual({ status: 403, code: 'cross_site' });
  });
});
