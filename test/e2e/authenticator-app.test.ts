import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { TapinClient, generateNonce } from '@tapin/client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebPushReceiver } from '../../packages/server/src/test-support/web-push-receiver.js';
import { type AxeFinding, axeFindings, blocking } from '../support/axe.js';
import { launchChromium } from '../support/browser.js';
import { type ServerProcess, startServerProcess, tempDir } from '../support/processes.js';
import { pushServiceShim } from '../support/push-service-shim.js';
import { Watcher } from '../support/watcher.js';

/**
 * The installable authenticator app in Chromium on a phone-sized screen, against a real `tapin serve` on a SQLite
 * file: enrol from an enrol link, approve a login (wrong PIN first), see it in the sessions overview and log it out
 * remotely, a push with number matching, app-to-app return (allowed and foreign), PIN change, the offline code while
 * the server is down (accepted by otpLogin after the restart), delete the account. The business side is
 * @tapin/client plus a WebSocket watcher — what the demo site's page does. Also: a login link pasted or read from
 * a picture of the QR code (jsQR: headless Chromium has no BarcodeDetector and no camera), and Web Push through a
 * self-hosted push service into the service worker (see push-service-shim.ts for what stands in for the browser's
 * push service). Every screenshot is also an axe-core check: serious or critical findings fail the test.
 * Screenshots go to test-results/app/.
 */
const SHOTS = resolve(import.meta.dirname, '../../test-results/app');
const PIN = '4826';
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36';

let dir: { path: string; remove(): Promise<void> };
let server: ServerProcess;
let client: TapinClient;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let sid: string;
let apiKey: string;
let pushService: WebPushReceiver;
// The test's push service is plain http on 127.0.0.1.
const SERVER_ENV = { TAPIN_WEBPUSH_ALLOW_HTTP: '1' };
const axeMinor: Record<string, AxeFinding[]> = {};

/** A screenshot of the screen, and axe-core over it. */
async function shot(name: string): Promise<void> {
  await page.waitForTimeout(150);
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
  const findings = await axeFindings(page);
  expect(blocking(findings), `axe on ${name}`).toEqual([]);
  if (findings.length) axeMinor[name] = findings;
}

const screen = (name: string, timeout = 8000) => page.waitForSelector(`main[data-screen="${name}"]`, { timeout });

async function typePin(pin: string): Promise<void> {
  for (const d of pin) await page.click(`.key[data-digit="${d}"]`);
  await page.click('.key-ok');
}

/** A login page's session: context shown on the phone, watched on a real browser socket. */
async function loginPage(site = 'Demo shop') {
  const nonce = generateNonce();
  await client.setContext(nonce, {
    announceinfo: { info: { site, action: 'Log in to your account' }, ip: '203.0.113.7', useragent: UA },
    sessioninfo: { info: { site }, ip: '203.0.113.7', useragent: UA },
  });
  const { data, hsid } = await client.getQr(nonce);
  const watcher = await Watcher.connect(server.url);
  watcher.send(`REGISTER ${hsid} ${sid}`);
  await watcher.next('WAITING');
  return { nonce, data, hsid, watcher };
}

beforeAll(async () => {
  await mkdir(SHOTS, { recursive: true });
  dir = await tempDir('tapin-app-');
  pushService = await WebPushReceiver.start();
  server = await startServerProcess(join(dir.path, 'tapin.db'), SERVER_ENV);
  ({ sid, apiKey } = server);
  client = new TapinClient({ url: server.url, sid, apiKey });
  await client.updateSettings({ name: 'Demo Bank', serverFlags: ['ENABLE_OTP'], returnUrls: ['https://shop.example/back'] });
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 360, height: 720 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true });
  await context.grantPermissions(['notifications'], { origin: server.url });
  await context.addInitScript(pushServiceShim, pushService.subscription());
  // The calling app's return page (app-to-app login), served by the test instead of a real shop.
  await context.route('https://shop.example/**', (route) => route.fulfill({ contentType: 'text/html', body: '<!doctype html><h1>Back in the shop</h1>' }));
  await context.route('https://evil.example/**', (route) => route.fulfill({ contentType: 'text/html', body: '<!doctype html><h1>evil</h1>' }));
  page = await context.newPage();
  page.on('console', (m) => { if (process.env['APP_DEBUG']) console.warn('[page]', m.type(), m.text()); });
  page.on('pageerror', (e) => console.warn('[page error]', e.message));
}, 60_000);

afterAll(async () => {
  if (Object.keys(axeMinor).length) console.warn('axe (moderate/minor):', JSON.stringify(axeMinor, null, 1));
  await context?.close();
  await pushService?.close();
  await browser?.close();
  await server?.stop();
  await dir?.remove();
});

describe('the authenticator app', () => {
  it('is served at /app/ as an installable PWA on the same origin as the links', async () => {
    const res = await fetch(`${server.url}/app/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    const manifest = (await (await fetch(`${server.url}/app/manifest.webmanifest`)).json()) as { start_url: string; scope: string; display: string; icons: Array<{ sizes: string }> };
    expect(manifest).toMatchObject({ start_url: '/app/', scope: '/', display: 'standalone' });
    expect(manifest.icons.map((i) => i.sizes)).toEqual(expect.arrayContaining(['192x192', '512x512']));
    const sw = await fetch(`${server.url}/app/sw.js`);
    expect(sw.headers.get('service-worker-allowed')).toBe('/');
    expect((await fetch(`${server.url}/app/../v1/x`)).status).toBe(404);
    expect((await fetch(`${server.url}/app/nope.js`)).status).toBe(404);
    expect((await fetch(`${server.url}/q/bad/bad`)).status).toBe(404);

    await page.goto(`${server.url}/app/`);
    await screen('accounts');
    expect(await page.textContent('main')).toContain('No accounts yet');
    await shot('01-empty');
    // The service worker takes the whole origin (scope /), so links open offline too.
    const scope = await page.evaluate(async () => (await navigator.serviceWorker.ready).scope);
    expect(scope).toBe(`${server.url}/`);
  });

  it('enrols from an enrol link: server name and key picture, device name, PIN twice', async () => {
    const { data } = await client.enrol({ name: 'Alice phone', userid: 'alice' });
    await page.goto(data);
    await screen('enrol');
    expect(await page.textContent('h1')).toBe('Add this phone to Demo Bank');
    expect(await page.textContent('[data-testid=fingerprint]')).toMatch(/^[A-Z0-9_-]{4} [A-Z0-9_-]{4} [A-Z0-9_-]{4}$/);
    await page.fill('#device-name', 'Pixel test');
    await page.fill('#pin', PIN);
    await page.fill('#pin2', '9999');
    await page.click('button[type=submit]');
    expect(await page.textContent('.alert')).toContain('not the same');
    await page.fill('#pin2', PIN);
    await shot('02-enrol');
    await page.click('button[type=submit]');
    await screen('result-ok');
    expect(await page.textContent('h1')).toBe('Account added');
    expect(page.url()).toBe(`${server.url}/app/`);
    const accounts = await client.listAccounts();
    expect(accounts.items).toEqual([expect.objectContaining({ userid: 'alice', description: 'Pixel test', headless: false })]);
    await page.click('text=Done');
    await screen('accounts');
    expect(await page.textContent('main')).toContain('Demo Bank');
    await shot('03-accounts');
  });

  it('approves a login from its link: announceinfo shown, a wrong PIN shows attempts left, the page logs in', async () => {
    const s = await loginPage();
    await page.goto(s.data);
    await screen('confirm');
    await s.watcher.next('CONFIRMSCAN');
    const text = await page.textContent('main');
    expect(text).toContain('Log in to Demo shop?');
    expect(text).toContain('203.0.113.7');
    expect(text).toContain('Chrome on Linux');
    await shot('04-confirm');
    await page.click('text=Approve');
    await screen('pin');
    await typePin('1111');
    await page.waitForSelector('.pin-pad .alert');
    expect(await page.textContent('.pin-pad .alert')).toContain('4 attempts left');
    await shot('05-pin-wrong');
    await typePin(PIN);
    await screen('result-ok');
    await s.watcher.next('LOGIN');
    expect(await client.getSession(s.nonce)).toMatchObject({ loggedin: true, userid: 'alice', otplogin: false });
    await shot('06-approved');
    s.watcher.close();
  });

  it('opens a pasted login link; a pasted non-link gets a clear message on the scan screen', async () => {
    await page.goto(`${server.url}/app/#scan`);
    await screen('scan');
    // No camera headless: the screen says what to do instead.
    await page.waitForFunction(() => /paste the link instead/.test(document.querySelector('[data-testid=camera-status]')?.textContent ?? ''));
    // Focus order: the screen's title first (a screen change moves the focus there), then its controls top to bottom.
    const focused = () => page.evaluate(() => document.activeElement?.id || document.activeElement?.textContent?.trim());
    expect(await focused()).toBe('Scan');
    const order = [];
    for (let i = 0; i < 3; i++) {
      await page.keyboard.press('Tab');
      order.push(await focused());
    }
    expect(order).toEqual(['Scan from a picture', 'link', 'Open link']);
    await page.fill('#link', 'hello, I am not a link');
    await page.press('#link', 'Enter');
    const error = page.locator('[data-testid=link-error]');
    await error.waitFor();
    expect(await error.textContent()).toContain('This is not a Tapin login or enrol link');
    expect(await page.inputValue('#link')).toBe('hello, I am not a link');
    await shot('15-paste-garbage');
    // A web address that is not a Tapin link is refused the same way, without leaving the screen.
    await page.fill('#link', `${server.url}/docs`);
    expect(await error.isHidden()).toBe(true);
    await page.click('text=Open link');
    await error.waitFor();
    expect(page.url()).toBe(`${server.url}/app/#scan`);

    const s = await loginPage('Pasted shop');
    await page.fill('#link', `  ${s.data}  `);
    await page.click('text=Open link');
    await screen('confirm');
    await s.watcher.next('CONFIRMSCAN');
    expect(await page.textContent('main')).toContain('Log in to Pasted shop?');
    await page.click('text=Decline');
    await s.watcher.next('CANCEL');
    await screen('result-declined');
    await shot('18-declined');
    expect(await client.getSession(s.nonce)).toMatchObject({ loggedin: false, state: 'cancelled' });
    s.watcher.close();
  });

  it('scans the login QR code from a picture (jsQR), and says so when a picture has no QR code', async () => {
    await page.goto(`${server.url}/app/#scan`);
    await screen('scan');
    // Headless Chromium has no BarcodeDetector: this is the jsQR path, as on Firefox and older phones.
    expect(await page.evaluate(() => 'BarcodeDetector' in window)).toBe(false);
    const blank = new PNG({ width: 300, height: 300 });
    blank.data.fill(255);
    const chooser = page.waitForEvent('filechooser');
    await page.click('button:has-text("Scan from a picture")');
    await (await chooser).setFiles({ name: 'blank.png', mimeType: 'image/png', buffer: PNG.sync.write(blank) });
    const error = page.locator('[data-testid=picture-error]');
    await error.waitFor();
    expect(await error.textContent()).toContain('No QR code found in this picture');
    await page.setInputFiles('#qr-picture', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not an image') });
    await page.waitForFunction(() => document.querySelector('[data-testid=picture-error]')?.textContent?.includes('not a picture'));
    await shot('16-picture-no-code');

    // The very PNG a login page shows (getQrLogin ?format=png).
    const s = await loginPage('Picture shop');
    const png = await client.getQrImage(s.nonce, 'png');
    await page.setInputFiles('#qr-picture', { name: 'login.png', mimeType: 'image/png', buffer: Buffer.from(png) });
    await screen('confirm');
    await s.watcher.next('CONFIRMSCAN');
    expect(await page.textContent('main')).toContain('Log in to Picture shop?');
    await page.click('text=Approve');
    await typePin(PIN);
    await screen('result-ok');
    await s.watcher.next('LOGIN');
    expect((await client.getSession(s.nonce)).loggedin).toBe(true);
    s.watcher.close();
  });

  it('shows the session in the overview and logs the business session out remotely', async () => {
    const s = await loginPage('Remote logout shop');
    await page.goto(s.data);
    await screen('confirm');
    await page.click('text=Approve');
    await typePin(PIN);
    await screen('result-ok');
    await s.watcher.next('LOGIN');
    await page.click('text=Done');
    await screen('sessions');
    const card = page.locator(`article.session.active[data-hsid="${s.hsid}"]`);
    await card.waitFor();
    expect(await card.textContent()).toContain('Remote logout shop');
    await shot('07-sessions');
    await card.locator('text=Log out').click();
    await s.watcher.next('LOGOUT');
    expect(await client.getSession(s.nonce)).toMatchObject({ loggedin: false, state: 'loggedout' });
    await page.locator(`article.session.past[data-hsid="${s.hsid}"]`).waitFor();
    s.watcher.close();
  });

  it('takes a push login with number matching, through the device socket of the open app', async () => {
    await page.goto(`${server.url}/app/#accounts`);
    await screen('accounts');
    const nonce = generateNonce();
    await client.setContext(nonce, { announceinfo: { info: { site: 'Push shop' }, ip: '198.51.100.4', useragent: UA } });
    const pushed = await client.provokeUserLogin(nonce, 'alice');
    await screen('confirm');
    expect(await page.textContent('main')).toContain('Which number does the login page show?');
    await shot('08-push-numbers');
    await page.click(`.number[data-number="${pushed.number}"]`);
    await typePin(PIN);
    await screen('result-ok');
    expect((await client.getSession(nonce)).loggedin).toBe(true);
  });

  it('Web Push: subscribes, the service worker shows a notification with ids only, tapping it opens the confirm screen', async () => {
    await page.goto(`${server.url}/app/#settings`);
    await screen('settings');
    // The browser's own push service: headless Chromium refuses; the app says so in words.
    await page.evaluate(() => ((window as unknown as { __realPush: boolean }).__realPush = true));
    await page.click('text=Turn on notifications');
    await page.waitForFunction(() => document.querySelector('[data-testid=push-status]')?.textContent?.includes('could not sign up'));
    // The self-hosted push service (see push-service-shim.ts), subscribed with the server's VAPID key.
    await page.evaluate(() => ((window as unknown as { __realPush: boolean }).__realPush = false));
    await page.click('text=Turn on notifications');
    await page.waitForFunction(() => document.querySelector('[data-testid=push-status]')?.textContent?.startsWith('Notifications are on'));
    const vapid = (await (await fetch(`${server.url}/v1/device/${sid}/push/vapid`)).json()) as { publicKey: string };
    expect(await page.evaluate(() => (window as unknown as { __pushKeys: string[] }).__pushKeys)).toEqual([vapid.publicKey]);

    // The device socket and the pull would bring the push too: cut both, so only the notification can.
    await context.route('**/v1/device/*/pushes', (route) => route.abort());
    await page.routeWebSocket(/\/v1\/device\//, (ws) => ws.close());
    const cdp = await context.newCDPSession(page);
    const registration = new Promise<string>((res) => cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations }) => {
      const r = registrations.find((x) => x.scopeURL === `${server.url}/` && !x.isDeleted);
      if (r) res(r.registrationId);
    }));
    await cdp.send('ServiceWorker.enable');
    const registrationId = await registration;
    type Shown = { title: string; body: string; tag: string; data: { payload: string } };
    // What the app's page sees, or (no page open) what the worker's registration holds.
    const notifications = () => page.evaluate(async () => (await (await navigator.serviceWorker.ready).getNotifications())
      .map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data as { payload: string } })));
    const workerNotifications = async (): Promise<Shown[]> => {
      const worker = context.serviceWorkers()[0] ?? (await context.waitForEvent('serviceworker'));
      return worker.evaluate(async () => (await (self as unknown as { registration: ServiceWorkerRegistration }).registration.getNotifications())
        .map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data as { payload: string } })));
    };

    try {
      // A fresh page load, so the app's socket is opened under the route (a hash change would keep the old one).
      await page.goto('about:blank');
      await page.goto(`${server.url}/app/#accounts`);
      await screen('accounts');
      const push = async (site: string, shown: () => Promise<Shown[]>) => {
        const nonce = generateNonce();
        await client.setContext(nonce, { announceinfo: { info: { site }, ip: '198.51.100.9', useragent: UA } });
        const pushed = await client.provokeUserLogin(nonce, 'alice');
        const received = await pushService.next();
        expect(received.vapidKey).toBe(vapid.publicKey);
        const message = JSON.parse(received.payload) as Record<string, string>;
        // Ids only: nothing about the site, no number.
        expect(Object.keys(message).sort()).toEqual(['accountid', 'hsid', 'pushid', 'sid', 'type']);
        expect(received.payload).not.toContain(site);
        await cdp.send('ServiceWorker.deliverPushMessage', { origin: server.url, registrationId, data: received.payload });
        await expect.poll(shown, { timeout: 5000 }).toEqual([{
          title: 'Login request', body: 'A site asks you to log in with Tapin. Tap to check and approve.',
          tag: `tapin-${message['pushid']}`, data: { payload: received.payload },
        }]);
        return { nonce, pushed, payload: received.payload };
      };

      // App open: the click handler hands the push to the app's window (postMessage + focus).
      const first = await push('Notified shop', notifications);
      expect(await page.getAttribute('main', 'data-screen')).toBe('accounts');
      await shot('17-push-notification');
      const [worker] = context.serviceWorkers();
      // No headless way to tap a notification: dispatch the click event to the worker's own handler.
      await worker!.evaluate(async () => {
        const sw = self as unknown as { registration: ServiceWorkerRegistration; dispatchEvent(e: Event): boolean };
        const [n] = await sw.registration.getNotifications();
        const Ctor = (self as unknown as { NotificationEvent: new (t: string, i: { notification: Notification }) => Event }).NotificationEvent;
        sw.dispatchEvent(new Ctor('notificationclick', { notification: n! }));
      });
      await screen('confirm');
      expect(await page.textContent('main')).toContain('Which number does the login page show?');
      expect(await notifications()).toEqual([]);
      await page.click(`.number[data-number="${first.pushed.number}"]`);
      await typePin(PIN);
      await screen('result-ok');
      expect(await client.getSession(first.nonce)).toMatchObject({ loggedin: true, userid: 'alice' });

      // App closed: the handler opens /app/#push=<payload>; that page starts the login from the payload alone.
      await page.goto('about:blank');
      const second = await push('Closed app shop', workerNotifications);
      const [shown] = await workerNotifications();
      await page.goto(`${server.url}/app/#push=${encodeURIComponent(shown!.data.payload)}`);
      await screen('confirm');
      expect(await page.textContent('main')).toContain('Closed app shop');
      await page.click('text=Decline');
      await screen('result-declined');
      expect(await client.getSession(second.nonce)).toMatchObject({ loggedin: false, state: 'cancelled' });
    } finally {
      await cdp.detach();
      await context.unroute('**/v1/device/*/pushes');
      await page.unrouteAll();
    }
  });

  it('app-to-app: goes back to an allowed return URL after approving, refuses a foreign one', async () => {
    const s = await loginPage('Shop app');
    await page.goto(`${s.data}?return=${encodeURIComponent('https://shop.example/back/done?order=7')}`);
    await screen('confirm');
    await page.click('text=Approve');
    await typePin(PIN);
    await screen('result-ok');
    expect(await page.textContent('[data-testid=returning]')).toContain('shop.example');
    await shot('09-returning');
    await page.waitForURL('https://shop.example/back/done?order=7');
    expect(await page.textContent('h1')).toBe('Back in the shop');
    expect((await client.getSession(s.nonce)).loggedin).toBe(true);

    const t = await loginPage('Evil');
    await page.goto(`${t.data}?return=${encodeURIComponent('https://shop.example@evil.example/back')}`);
    await screen('result-error');
    expect(await page.textContent('main')).toContain('Return address not allowed');
    await shot('10-return-refused');
    await page.waitForTimeout(1800);
    expect(page.url().startsWith(server.url)).toBe(true);
    expect(await client.getSession(t.nonce)).toMatchObject({ loggedin: false, state: 'idle' });
    t.watcher.close();
  });

  it('changes the PIN in the settings (a wrong current PIN shows attempts left)', async () => {
    await page.goto(`${server.url}/app/#settings`);
    await screen('settings');
    const form = page.locator('form.card');
    await form.locator('input').nth(0).fill('0000');
    await form.locator('input').nth(1).fill('1357');
    await form.locator('input').nth(2).fill('1357');
    await form.locator('button[type=submit]').click();
    await form.locator('.alert').waitFor();
    expect(await form.locator('.alert').textContent()).toContain('attempts left');
    await form.locator('input').nth(0).fill(PIN);
    await form.locator('input').nth(1).fill('1357');
    await form.locator('input').nth(2).fill('1357');
    await form.locator('button[type=submit]').click();
    await form.locator('.ok').waitFor();
    await shot('11-settings');
  });

  it('shows the offline code while the server is down; otpLogin takes it after the restart', async () => {
    const s = await loginPage('Offline shop');
    s.watcher.close();
    const port = new URL(server.url).port;
    await server.stop();
    await page.goto(s.data);
    await screen('unreachable', 15_000);
    await shot('12-unreachable');
    await page.click('text=Show offline code');
    await screen('offline');
    const otp = (await page.textContent('[data-testid=otp]'))!;
    expect(otp).toMatch(/^[0-9A-Z]{6} [0-9A-Z]{6}$/);
    expect(await page.textContent('[data-testid=otp-countdown]')).toMatch(/^New code in [0-2]:\d\d$/);
    await shot('13-offline-code');

    server = await startServerProcess(join(dir.path, 'tapin.db'), SERVER_ENV, ['--port', port]);
    client = new TapinClient({ url: server.url, sid, apiKey });
    expect(await client.otpLogin(s.nonce, otp)).toMatchObject({ loggedin: true, otplogin: true, userid: 'alice' });
  }, 40_000);

  it('deletes the account on the phone and at the server', async () => {
    await page.goto(`${server.url}/app/#accounts`);
    await screen('accounts');
    await page.click('button[aria-label^="Delete account"]');
    await shot('14-delete');
    await page.click('.row-actions .btn-danger');
    await page.waitForSelector('text=No accounts yet');
    expect((await client.listAccounts()).items).toEqual([]);
  });
});
