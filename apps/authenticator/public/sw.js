/* global Response */
// The Tapin authenticator's service worker. Offline: the app shell comes from the cache, so a login or enrol link
// opened without a connection still starts the app (which can then show an offline code). Web Push: a login
// request shows a notification; tapping it opens the confirm screen. The build fills in VERSION and ASSETS.
const VERSION = '__VERSION__';
const ASSETS = JSON.parse('__ASSETS__');
const CACHE = `tapin-app-${VERSION}`;
const SHELL = '/app/';

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll([SHELL, ...ASSETS.map((a) => `/app/${a}`)])).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('tapin-app-') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

// Only the app's own pages and files: the API, the docs and the WebSockets go to the network untouched.
const APP_PAGE = /^\/(app\/?$|q\/[^/]+\/[^/]+$|e\/[^/]+\/[^/]+$)/;

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (event.request.mode === 'navigate' && APP_PAGE.test(url.pathname)) {
    // Network first, so a reachable server always gives the current app; the cached shell when it is not.
    event.respondWith(fetch(event.request).catch(() => caches.match(SHELL, { cacheName: CACHE }).then((r) => r || Response.error())));
    return;
  }
  if (url.pathname.startsWith('/app/') && ASSETS.includes(url.pathname.slice(5))) {
    event.respondWith(caches.match(url.pathname, { cacheName: CACHE }).then((r) => r || fetch(event.request)));
  }
});

// A push carries ids only ({type:"push", pushid, sid, hsid, accountid}); the app fetches the details itself.
self.addEventListener('push', (event) => {
  let payload = '';
  let message = {};
  try {
    payload = event.data ? event.data.text() : '';
    message = JSON.parse(payload);
  } catch {
    return;
  }
  if (message.type !== 'push' || typeof message.pushid !== 'string') return;
  event.waitUntil(self.registration.showNotification('Login request', {
    body: 'A site asks you to log in with Tapin. Tap to check and approve.',
    tag: `tapin-${message.pushid}`,
    icon: '/app/icon-192.png',
    requireInteraction: true,
    data: { payload },
  }));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const payload = event.notification.data && event.notification.data.payload;
  if (typeof payload !== 'string') return;
  event.waitUntil(self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((windows) => {
    const open = windows.find((w) => new URL(w.url).pathname.startsWith('/app/'));
    if (open) {
      open.postMessage({ type: 'tapin-push', payload });
      return open.focus();
    }
    return self.clients.openWindow(`/app/#push=${encodeURIComponent(payload)}`);
  }));
});
