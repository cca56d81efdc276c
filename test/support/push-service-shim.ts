/**
 * Chromium under test cannot sign up with a browser push service: Chrome's is Google's, out of reach here, and a
 * Playwright context is off the record, where Chrome has no Push API ("Registration failed - permission denied"). This init script puts a self-hosted push
 * service in its place — the test's WebPushReceiver, a real RFC 8030/8291/8292 endpoint, as a UnifiedPush
 * distributor would be — by answering PushManager.subscribe with that endpoint and its keys. Everything else (the
 * app asking, the server encrypting and signing, the service worker) is real. `window.__realPush = true` hands
 * subscribe back to the browser's own implementation.
 */
export interface TestSubscription {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

export function pushServiceShim(sub: TestSubscription): void {
  const w = window as unknown as { __realPush?: boolean; __pushKeys: string[] };
  if (!('PushManager' in window)) return;
  const real = { subscribe: PushManager.prototype.subscribe, getSubscription: PushManager.prototype.getSubscription };
  let current: PushSubscription | null = null;
  w.__pushKeys = [];
  PushManager.prototype.subscribe = function (this: PushManager, options?: PushSubscriptionOptionsInit) {
    if (w.__realPush) return real.subscribe.call(this, options);
    const key = options?.applicationServerKey;
    const bytes = key instanceof ArrayBuffer ? new Uint8Array(key) : ArrayBuffer.isView(key) ? new Uint8Array(key.buffer, key.byteOffset, key.byteLength) : new Uint8Array();
    w.__pushKeys.push(btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''));
    current = { endpoint: sub.endpoint, expirationTime: null, toJSON: () => ({ endpoint: sub.endpoint, expirationTime: null, keys: sub.keys }) } as unknown as PushSubscription;
    return Promise.resolve(current);
  };
  PushManager.prototype.getSubscription = function (this: PushManager) {
    return w.__realPush ? real.getSubscription.call(this) : Promise.resolve(current);
  };
}
