import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TapinClient, generateNonce } from '@tapin/client';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningDemo, startDemo } from '../../apps/demo/src/index.js';
import { CHROMIUM, launchChromium } from '../support/browser.js';
import { block, shot } from '../support/demo.js';
import { type ServerProcess, device, startServerProcess, tempDir } from '../support/processes.js';

/**
 * The block's clock, in Chromium, against a `tapin serve` whose sessions live 8 s: an unused code is renewed
 * before it expires without reloading the page, an expired one says so and a new one is one click away. And the
 * block served ready-made by getHtmlLogin/getHtmlFooter on a page that bundles nothing.
 */
const LIFETIME_S = 8;
const PIN = '1234';
let server: ServerProcess;
let tapin: TapinClient;
let demo: RunningDemo;
let browser: Browser;
let phoneDir: { path: string; remove(): Promise<void> };

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium); .ci/run does`);
  [server, browser, phoneDir] = await Promise.all([
    startServerProcess(':memory:', {}, ['--session-lifetime', String(LIFETIME_S)]), launchChromium(), tempDir('tapin-renewal-phone-'),
  ]);
  tapin = new TapinClient({ url: server.url, sid: server.sid, apiKey: server.apiKey });
  // One renewal by itself, so that the second code is left to expire.
  demo = await startDemo({ tapinUrl: server.url, sid: server.sid, apiKey: server.apiKey, port: 0, host: '127.0.0.1', maxRenewals: 1 });
  const enrolled = await device(phoneDir.path, 'enrol', (await tapin.enrol({ name: 'renewal', userid: 'bob' })).data, '--pin', PIN);
  expect(enrolled.ok).toBe(true);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await demo?.close();
  await server?.stop();
  await phoneDir?.remove();
});

describe('an unused code in the login block', () => {
  it('is renewed before it expires without a page reload; after max-renewals it expires, and "Get a new code" brings one that logs in', async () => {
    const page = await browser.newPage({ viewport: { width: 1000, height: 760 } });
    await page.goto(`${demo.url}/login`);
    const b = block(page);
    await b.waitFor('waiting');
    const first = await b.loginUrl();
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));

    // Renewed about 2 s before the 8 s are up: a new code, the same page.
    await expect.poll(() => b.loginUrl(), { timeout: LIFETIME_S * 1000 }).not.toBe(first);
    const renewedAt = Date.now();
    expect(await b.status.textContent()).toBe('A new code is ready. Waiting for your phone…');
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);

    // max-renewals=1: the second code is left to expire, and the block says so.
    await b.waitFor('expired', (LIFETIME_S + 4) * 1000);
    expect(Date.now() - renewedAt).toBeGreaterThan((LIFETIME_S - 3) * 1000);
    expect(await b.status.textContent()).toBe('This code has expired.');
    expect(await b.qr.isVisible()).toBe(false);
    await shot(page, '12-expired');

    await b.el.getByRole('button', { name: 'Get a new code' }).click();
    await b.waitFor('waiting');
    const fresh = await b.loginUrl();
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);
    const approved = await device(phoneDir.path, 'login', fresh!, '--pin', PIN, '--once');
    expect(approved.ok).toBe(true);
    await page.waitForURL(`${demo.url}/account`);
    expect(await page.locator('#userid').textContent()).toBe('bob');
    await page.close();
  }, 45_000);
});

describe('getHtmlLogin + getHtmlFooter on a page that bundles nothing', () => {
  it('renders the block from the server-made HTML, loads the script cross-origin with SRI, and fires tapin-login on approval', async () => {
    const nonce = generateNonce();
    const auth = { authorization: `Bearer ${server.apiKey}`, 'x-nonce': nonce };
    const base = `${server.url}/v1/servers/${server.sid}`;
    const loginHtml = await (await fetch(`${base}/session/html/login`, { headers: auth })).text();
    const footer = await (await fetch(`${base}/html/footer`, { headers: { authorization: auth.authorization } })).text();
    // An integrator's page on its own origin, served for real (a page Playwright made up would count as a public
    // one, which Chromium keeps away from loopback servers): the fragment pasted in, the footer before </body>.
    const shop = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><html lang="en"><head><title>Shop</title></head><body><main>${loginHtml}</main>${footer}</body></html>`);
    });
    await new Promise<void>((ok) => shop.listen(0, '127.0.0.1', ok));
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${(shop.address() as AddressInfo).port}/login`);
    const b = block(page);
    await b.waitFor('waiting');
    const loginUrl = await b.loginUrl();
    expect(loginUrl).toMatch(new RegExp(`/q/${server.sid}/[A-Za-z0-9_-]{22}$`));
    const event = page.evaluate(() => new Promise<unknown>((done) => document.addEventListener('tapin-login', (e) => done((e as CustomEvent).detail))));
    expect((await device(phoneDir.path, 'login', loginUrl!, '--pin', PIN, '--once')).ok).toBe(true);
    expect(await event).toMatchObject({ hsid: loginUrl!.split('/').pop(), otp: false });
    await b.waitFor('loggedin');
    // The back-end, not the page, reads who logged in.
    expect(await tapin.getSession(nonce)).toMatchObject({ loggedin: true, userid: 'bob' });
    await page.close();
    shop.close();
  });
});
