import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeSockets } from '../test-support/fake-socket.js';
import { makeAccount, memoryPlatform } from '../test-support/memory-platform.js';
import { TapinSDK } from './sdk.js';

/**
 * The device sockets' lifetime: what connect() opens, dispose() closes, reconnects included. Fake timers, because
 * a reconnect is a timer; the sockets are fakes the test drops at will.
 */
const offline = async (): Promise<Response> => { throw new TypeError('fetch failed'); };

function phone() {
  const p = memoryPlatform([makeAccount('acct-socket-00000000001'), makeAccount('acct-socket-00000000002')]);
  const sockets = fakeSockets();
  const sdk = new TapinSDK({ ...p, fetch: offline, WebSocket: sockets.WebSocket, random: () => 1, backoff: { baseMs: 1000, capMs: 4000 } });
  return { sdk, sockets };
}

describe('device sockets and dispose()', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] }));
  afterEach(() => vi.useRealTimers());

  it('dispose() closes every socket of connect() and cancels a pending reconnect; the closer stays safe to call', async () => {
    const { sdk, sockets } = phone();
    const disconnect = sdk.connect();
    await vi.advanceTimersByTimeAsync(0);
    expect(sockets.opened).toHaveLength(2);
    // The first one loses the network: its reconnect waits for the back-off.
    sockets.opened[0]!.drop(1006);
    expect(vi.getTimerCount()).toBe(1);

    sdk.dispose();
    expect(sockets.opened.map((s) => s.closeCalls)).toEqual([0, 1]);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(sockets.opened).toHaveLength(2);

    // The app's own closer, after dispose and twice over: nothing more is closed or opened.
    disconnect();
    disconnect();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(sockets.opened.map((s) => s.closeCalls)).toEqual([0, 1]);
    expect(sockets.opened).toHaveLength(2);
  });

  it('dispose() closes the sockets of each connect(), but not again those the app closed itself', async () => {
    const { sdk, sockets } = phone();
    const first = sdk.connect();
    sdk.connect();
    await vi.advanceTimersByTimeAsync(0);
    expect(sockets.opened).toHaveLength(4);
    first();
    expect(sockets.opened.map((s) => s.closeCalls)).toEqual([1, 1, 0, 0]);

    sdk.dispose();
    expect(sockets.opened.map((s) => s.closeCalls)).toEqual([1, 1, 1, 1]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(sockets.opened).toHaveLength(4);
  });

  it('a dropped socket still reconnects after the back-off while the SDK lives', async () => {
    const { sdk, sockets } = phone();
    const disconnect = sdk.connect();
    await vi.advanceTimersByTimeAsync(0);
    sockets.opened[0]!.drop(1006);
    // Never ready, so attempt 1: up to baseMs · 2 with random() = 1.
    await vi.advanceTimersByTimeAsync(1999);
    expect(sockets.opened).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(sockets.opened).toHaveLength(3);
    expect(sockets.opened[2]!.url).toBe(sockets.opened[0]!.url);
    disconnect();
    sdk.dispose();
  });

  it('a storage that cannot list the accounts is reported through UserErrorMessage, not left as an unhandled rejection', async () => {
    const p = memoryPlatform([makeAccount('acct-socket-00000000003')]);
    const sockets = fakeSockets();
    const errors: string[] = [];
    const storage = { ...p.storage, list: async () => { throw new Error('disk gone'); } };
    const sdk = new TapinSDK({
      ...p, storage, fetch: offline, WebSocket: sockets.WebSocket,
      callbacks: { UserErrorMessage: (_s, e) => errors.push(`${e.errorCode} ${e.code} ${e.message}`) },
    });
    const disconnect = sdk.connect();
    await vi.advanceTimersByTimeAsync(0);
    expect(sockets.opened).toHaveLength(0);
    expect(errors).toEqual(['49 server_error disk gone']);
    disconnect();
    sdk.dispose();
  });
});
