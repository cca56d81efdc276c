import type { TapinSDK } from '@tapin/mobile-sdk';
import { fromBase64url } from '@tapin/protocol';

/**
 * Web Push: one subscription for this app (one VAPID key per Tapin deployment), registered for every account on
 * the phone. The service worker shows the notification; tapping it opens the app with the push's ids, and the SDK
 * fetches the details (`receiveWebPush`).
 */
export async function enablePush(sdk: TapinSDK): Promise<string> {
  if (!('serviceWorker' in navigator) || !('PushManager' in window)) throw new Error('This browser cannot show login notifications.');
  const permission = await Notification.requestPermission();
  if (permission !== 'granted') throw new Error('Notifications are blocked for this app; allow them in the browser settings.');
  const accounts = await sdk.accounts();
  if (accounts.length === 0) throw new Error('Add an account first.');
  const registration = await navigator.serviceWorker.ready;
  const key = fromBase64url(await sdk.vapidKey(accounts[0]!));
  let subscription: PushSubscription;
  try {
    subscription = (await registration.pushManager.getSubscription())
      ?? (await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key as Uint8Array<ArrayBuffer> }));
  } catch (err) {
    // E.g. no network to the browser vendor's push service, or a browser without one.
    throw new Error(`This browser could not sign up with its push service (${(err as Error).message}). Login requests still reach the app while it is open.`);
  }
  const json = subscription.toJSON() as { endpoint: string; keys: { p256dh: string; auth: string } };
  await sdk.subscribeWebPush({ endpoint: json.endpoint, keys: { p256dh: json.keys.p256dh, auth: json.keys.auth } });
  return 'Notifications are on: a login request shows up even when the app is closed.';
}

/** A push the service worker handed over (notification tapped, or the app was open): start its session. */
export function listenForPushes(sdk: TapinSDK): void {
  navigator.serviceWorker?.addEventListener('message', (event: MessageEvent<{ type?: string; payload?: string }>) => {
    if (event.data?.type === 'tapin-push' && typeof event.data.payload === 'string') void sdk.receiveWebPush(event.data.payload);
  });
}
