import { buildLoginUrl } from '@tapin/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BASE, HSID, SID, deviceSession, json, makeAccount, memoryPlatform } from '../test-support/memory-platform.js';
import { TapinSDK } from './sdk.js';
import type { TapinSession } from './session.js';

/**
 * Lifecycle transitions that need the network to misbehave at a given moment: a fetch routed by path, switched
 * offline and back by the test, under fake timers (back-off and pings are timers).
 */
const account = makeAccount('acct-transit-0000000001');
const PING_TIME = 10;

function fakeServer() {
  const server = { online: true, loggedIn: true, calls: [] as string[], answer: undefined as undefined | (() => Response) };
  const fetch = vi.fn(async (input: string | URL | Request) => {
    const path = new URL(String(input)).pathname;
    server.calls.push(path);
    if (!server.online) throw new TypeError('fetch failed');
    if (path.endsWith('/fetch')) return json(deviceSession(account.accountid, { pingTime: PING_TIME }));
    if (path.endsWith('/answer')) return server.answer?.() ?? json({ hsid: HSID, state: 'loggedin', pingTime: PING_TIME });
    if (path.endsWith('/ping')) return json({ hsid: HSID, state: server.loggedIn ? 'loggedin' : 'loggedout', pingTime: server.loggedIn ? PING_TIME : 0 });
    return json({ error: { code: 'not_found', message: 'No such route.' } }, 404);
  });
  return { server, fetch };
}

function lifecycle(fetch: typeof globalThis.fetch) {
  const p = memoryPlatform([account]);
  const events: string[] = [];
  const stops: TapinSession[] = [];
  const sdk = new TapinSDK({
    ...p, fetch, random: () => 1, backoff: { baseMs: 1000, factor: 2, capMs: 4000, maxAttempts: 4 },
    callbacks: {
      SessionUpdate: (s) => { if (events.at(-1) !== `state ${s.state}`) events.push(`state ${s.state}`); },
      SessionStop: (s) => { events.push('SessionStop'); stops.push(s); },
      UserErrorMessage: (_s, e) => events.push(`UserErrorMessage ${e.errorCode}`),
    },
  });
  return { sdk, events, stops, history: p.history };
}

async function active(sdk: TapinSDK): Promise<TapinSession> {
  const session = await sdk.processQR(buildLoginUrl(BASE, SID, HSID));
  await vi.advanceTimersByTimeAsync(0);
  expect(session.state).toBe('USER_INTERACTION');
  await session.approve();
  expect(session.state).toBe('ACTIVE');
  return session;
}

describe('lifecycle transitions', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] }));
  afterEach(() => vi.useRealTimers());

  it('ACTIVE → ERROR when the network drops while pinging and stays down (70 once, history ERROR)', async () => {
    const { server, fetch } = fakeServer();
    const { sdk, events, stops, history } = lifecycle(fetch);
    const session = await active(sdk);
    server.online = false;
    await vi.advanceTimersByTimeAsync(PING_TIME * 1000);
    expect(session.state).toBe('ACTIVE');
    expect(session.connectionError).toBe(true);
    // 4 attempts in all: waits of 1, 2 and 4 s between them.
    await vi.advanceTimersByTimeAsync(1000 + 2000 + 4000);
    expect(session.state).toBe('ERROR');
    expect(session.error?.code).toBe('connection_error');
    expect(server.calls.filter((c) => c.endsWith('/ping'))).toHaveLength(4);
    expect(events.filter((e) => e.startsWith('UserErrorMessage'))).toEqual(['UserErrorMessage 70']);
    expect(stops).toEqual([session]);
    expect(history[0]).toMatchObject({ status: 'ERROR', error: 'connection_error' });
    // Nothing more happens: no further pings.
    await vi.advanceTimersByTimeAsync(10 * PING_TIME * 1000);
    expect(server.calls.filter((c) => c.endsWith('/ping'))).toHaveLength(4);
  });

  it('ACTIVE, network gone past the deadline, back again: the ping answer ends it in DONE, history LOGGED_OUT', async () => {
    const { server, fetch } = fakeServer();
    const { sdk, events, history } = lifecycle(fetch);
    const session = await active(sdk);
    server.online = false;
    await vi.advanceTimersByTimeAsync(PING_TIME * 1000 + 1000 + 2000);
    expect(session.connectionError).toBe(true);
    // Meanwhile the server's deadline (2 × pingTime) passed and it logged the session out.
    server.loggedIn = false;
    server.online = true;
    await vi.advanceTimersByTimeAsync(4000);
    expect(session.state).toBe('DONE');
    expect(session.connectionError).toBe(false);
    expect(history[0]).toMatchObject({ status: 'LOGGED_OUT' });
    // The second 'state ACTIVE' is the update that sets connectionError.
    expect(events).toEqual(['state STARTING', 'state USER_INTERACTION', 'state ACTIVE', 'UserErrorMessage 70', 'state ACTIVE', 'state DONE', 'SessionStop']);
  });

  it('STARTING → DONE through cancel(): history ABORTED, one SessionStop, the retries stop', async () => {
    const { server, fetch } = fakeServer();
    server.online = false;
    const { sdk, events, history } = lifecycle(fetch);
    const session = await sdk.processQR(buildLoginUrl(BASE, SID, HSID));
    await vi.advanceTimersByTimeAsync(0);
    expect(session.state).toBe('STARTING');
    await session.cancel();
    expect(session.state).toBe('DONE');
    expect(history[0]).toMatchObject({ status: 'ABORTED', otp: false });
    const calls = server.calls.length;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(server.calls.length).toBe(calls);
    expect(events.filter((e) => e === 'SessionStop')).toHaveLength(1);
    expect(session.state).toBe('DONE');
  });

  it('USER_INTERACTION → ERROR when the answer is refused (challenge expired): history ERROR', async () => {
    const { server, fetch } = fakeServer();
    server.answer = () => json({ error: { code: 'challenge_expired', message: 'The challenge has expired; fetch the session again.' } }, 410);
    const { sdk, stops, history } = lifecycle(fetch);
    const session = await sdk.processQR(buildLoginUrl(BASE, SID, HSID));
    await vi.advanceTimersByTimeAsync(0);
    expect(session.state).toBe('USER_INTERACTION');
    await session.approve();
    expect(session.state).toBe('ERROR');
    expect(session.error?.code).toBe('challenge_expired');
    expect(stops).toEqual([session]);
    expect(history[0]).toMatchObject({ status: 'ERROR', error: 'challenge_expired' });
  });

  it('generateOTP refuses a session that ended in ERROR: no second SessionStop, history stays ERROR', async () => {
    const { server, fetch } = fakeServer();
    server.online = false;
    const { sdk, stops, history } = lifecycle(fetch);
    const session = await sdk.processQR(buildLoginUrl(BASE, SID, HSID));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(session.state).toBe('ERROR');
    await expect(sdk.generateOTP(session)).rejects.toMatchObject({ code: 'session_state' });
    expect(session.state).toBe('ERROR');
    expect(stops).toHaveLength(1);
    expect(history).toEqual([expect.objectContaining({ status: 'ERROR', otp: false })]);
  });

  it('generateOTP refuses an ACTIVE session: it stays ACTIVE and keeps pinging', async () => {
    const { server, fetch } = fakeServer();
    const { sdk, stops, history } = lifecycle(fetch);
    const session = await active(sdk);
    await expect(sdk.generateOTP(session)).rejects.toMatchObject({ code: 'session_state' });
    expect(session.state).toBe('ACTIVE');
    expect(stops).toEqual([]);
    expect(history[0]).toMatchObject({ status: 'LOGGED_IN', otp: false });
    await vi.advanceTimersByTimeAsync(PING_TIME * 1000);
    expect(server.calls.filter((c) => c.endsWith('/ping'))).toHaveLength(1);
    sdk.dispose();
  });

  it('generateOTP still works in STARTING and USER_INTERACTION', async () => {
    const { fetch } = fakeServer();
    const { sdk, history } = lifecycle(fetch);
    const session = await sdk.processQR(buildLoginUrl(BASE, SID, HSID));
    await vi.advanceTimersByTimeAsync(0);
    expect(session.state).toBe('USER_INTERACTION');
    expect(await sdk.generateOTP(session)).toMatch(/^\S{6} \S{6}$/);
    expect(history[0]).toMatchObject({ status: 'ABORTED', otp: true });
  });
});
