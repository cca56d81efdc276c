import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { TapinClient } from '@tapin/client';
import { type Browser, type BrowserContext, type Page, devices } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, launchChromium } from '../support/browser.js';
import { type StartedDemo, block, decodeQr, shot, startDemoProcess } from '../support/demo.js';
import { device, tempDir } from '../support/processes.js';

/**
 * The demo business site as a person uses it, in Debian's Chromium: `npm start` (its script, on free ports),
 * sign-up with an enrol QR, the `<tapin-login>` block (QR, push with number matching, offline code, decline),
 * the protected page, logout. The phone is the real `tapin-device` CLI.
 */
let dir: { path: string; remove(): Promise<void> };
let phone: string;
let demo: StartedDemo;
let tapin: TapinClient;
let browser: Browser;
/** The browser of the person who signed up: it remembers their username after the first login. */
let alice: BrowserContext;
const PIN = '1234';

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium); .ci/run does`);
  dir = await tempDir('tapin-demo-e2e-');
  phone = `${dir.path}/phone`;
  [demo, browser] = await Promise.all([startDemoProcess(dir.path), launchChromium()]);
  tapin = new TapinClient({ url: demo.tapinUrl, sid: demo.sid, apiKey: demo.apiKey });
  alice = await browser.newContext({ viewport: { width: 1000, height: 760 } });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await demo?.stop();
  await dir?.remove();
});

async function loginPage(context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${demo.demoUrl}/login`);
  await block(page).waitFor('waiting');
  return page;
}

async function expectAccountPage(page: Page, otp: boolean): Promise<void> {
  await page.waitForURL(`${demo.demoUrl}/account`, { timeout: 15_000 });
  expect(await page.locator('#userid').textContent()).toBe('alice');
  expect(await page.locator('#otplogin').textContent()).toBe(otp ? 'yes' : 'no');
  const accounts = await tapin.getUserAccounts('alice');
  expect(await page.locator('#accountid').textContent()).toBe(accounts.items[0]!.accountid);
}

async function logOut(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.waitForURL(`${demo.demoUrl}/login?loggedout`);
}

describe('npm start', () => {
  it('prints the demo and Tapin URLs, the authenticator app URL, the sid, the API key and how to enrol with tapin-device', async () => {
    expect(demo.output).toContain('tapin-device --home ./phone enrol');
    expect(demo.appUrl).toBe(`${demo.tapinUrl}/app/`);
    expect((await fetch(`${demo.tapinUrl}/healthz`)).ok).toBe(true);
    const settings = await tapin.getSettings();
    expect(settings.serverFlags).toContain('ENABLE_OTP');
    // The demo's own URL is an allowed return URL for app-to-app logins from a phone's browser.
    expect(settings.returnUrls).toContain(demo.demoUrl);
  });
});

describe('the demo site in Chromium', () => {
  it('signs up: a username, an enrol QR code, tapin-device enrols, the account is assigned to the user', async () => {
    const page = await alice.newPage();
    await page.goto(`${demo.demoUrl}/signup`);
    await page.getByLabel('Username').fill('alice');
    await shot(page, '01-signup');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL(`${demo.demoUrl}/signup/enrol`);
    const enrolUrl = await page.locator('#enrol-url').getAttribute('href');
    expect(enrolUrl).toMatch(new RegExp(`^${demo.tapinUrl.replace(/[.:/]/g, '\\$&')}/e/${demo.sid}/`));
    // The enrol QR image carries the same link.
    expect(decodeQr(await page.locator('img.qr').screenshot())).toBe(enrolUrl);
    await shot(page, '02-enrol-qr');

    const enrolled = await device(phone, 'enrol', enrolUrl!, '--pin', PIN, '--name', 'Test phone');
    expect(enrolled.ok).toBe(true);
    await page.waitForURL(`${demo.demoUrl}/login?enrolled`, { timeout: 15_000 });
    expect((await tapin.getUserAccounts('alice')).items).toHaveLength(1);
    await block(page).waitFor('waiting');
    await shot(page, '03-login-after-signup');
    await page.close();
  });

  it('a username that is taken is refused with a message', async () => {
    const page = await browser.newPage();
    await page.goto(`${demo.demoUrl}/signup`);
    await page.getByLabel('Username').fill('alice');
    await page.getByRole('button', { name: 'Continue' }).click();
    await expect.poll(() => page.locator('#userid-error').textContent()).toContain('taken');
    await page.close();
  });

  it('QR login: the code decoded from the rendered image, approved with tapin-device, lands on the protected page; logout', async () => {
    const page = await loginPage(alice);
    const b = block(page);
    const loginUrl = await b.loginUrl();
    expect(loginUrl).toMatch(new RegExp(`/q/${demo.sid}/[A-Za-z0-9_-]{22}$`));
    // What a camera reads off the screen is the login URL; the text alternative carries it too.
    expect(decodeQr(await b.qr.locator('svg').screenshot())).toBe(loginUrl);
    await b.el.getByText('Can’t scan the code?').click();
    expect(await b.el.locator('#login-link').textContent()).toBe(loginUrl);
    await shot(page, '04-login-qr');

    const approved = await device(phone, 'login', loginUrl!, '--pin', PIN, '--once');
    expect(approved.ok).toBe(true);
    await expectAccountPage(page, false);
    expect(await page.locator('#state').textContent()).toBe('loggedin');
    await shot(page, '05-account');

    await logOut(page);
    expect(await page.locator('main > .notice').textContent()).toContain('logged out');
    // Tapin knows: the session is logged out, so the phone's history and any watching page see it end.
    const hsid = loginUrl!.split('/').pop()!;
    await block(page).waitFor('waiting');
    await shot(page, '06-logged-out');
    const history = await device<Array<{ hsid: string; status: string }>>(phone, 'sessions');
    expect(history.json.find((h) => h.hsid === hsid)).toMatchObject({ status: 'LOGGED_OUT' });
    await page.close();
  });

  it('push login in one click (this browser remembers alice), with the number to match on the phone', async () => {
    const page = await loginPage(alice);
    const b = block(page);
    await b.el.getByRole('button', { name: 'Send a login request to my phone' }).click();
    await b.waitFor('provoked');
    const number = (await b.el.locator('#number-value').textContent())!;
    expect(number).toMatch(/^\d{2}$/);
    expect(await b.status.textContent()).toContain('Confirm the login on your phone');
    await shot(page, '07-push-number');
    const approved = await device(phone, 'listen', '--approve', '--once', '--pin', PIN, '--number', number, '--interval', '0.5');
    expect(approved.ok).toBe(true);
    await expectAccountPage(page, false);
    await logOut(page);
    await page.close();
  });

  it('push login by username from a new browser: unknown user, the wrong number declines, a new push waits (anti-fatigue)', async () => {
    const context = await browser.newContext({ viewport: { width: 1000, height: 760 } });
    const page = await loginPage(context);
    const b = block(page);
    // No remembered user here: the one-click button is not offered, the username form is.
    expect(await b.el.getByRole('button', { name: 'Send a login request to my phone' }).isVisible()).toBe(false);
    await b.el.getByRole('button', { name: 'Send a request to my phone' }).click();
    await b.el.getByLabel('Your username').fill('nobody-here');
    await b.el.getByRole('button', { name: 'Send the request' }).click();
    await expect.poll(() => b.el.locator('#push-msg').textContent()).toContain('No phone is linked');
    await b.el.getByLabel('Your username').fill('alice');
    await b.el.getByRole('button', { name: 'Send the request' }).click();
    await b.waitFor('provoked');
    const number = Number(await b.el.locator('#number-value').textContent());
    const wrong = await device(phone, 'listen', '--approve', '--once', '--pin', PIN, '--number', String(number === 99 ? 10 : number + 1), '--interval', '0.5');
    expect(wrong.ok).toBe(false);
    await b.waitFor('declined');
    expect(await b.status.textContent()).toBe('The login was declined on your phone.');
    await shot(page, '08-declined');

    const before = await b.loginUrl();
    await b.el.getByRole('button', { name: 'Get a new code' }).click();
    await b.waitFor('waiting');
    expect(await b.loginUrl()).not.toBe(before);
    // Focus moved to the status line, so a keyboard or screen-reader user hears the new state.
    expect(await b.el.evaluate((e) => e.shadowRoot!.activeElement?.id)).toBe('status');
    // The username form stays open across the new code.
    await b.el.getByLabel('Your username').fill('alice');
    await b.el.getByRole('button', { name: 'Send the request' }).click();
    await expect.poll(() => b.el.locator('#push-msg').textContent()).toMatch(/A request was sent a moment ago\. Wait \d+ s/);
    await context.close();
  });

  it('declined after a QR scan shows the message too', async () => {
    const context = await browser.newContext();
    const page = await loginPage(context);
    const declined = await device(phone, 'login', (await block(page).loginUrl())!, '--decline', '--pin', PIN);
    expect(declined.ok).toBe(true);
    await block(page).waitFor('declined');
    await context.close();
  });

  it('offline code: the block shows the entry (ENABLE_OTP), a wrong code is refused, the right one logs in as an OTP login', async () => {
    const context = await browser.newContext({ viewport: { width: 1000, height: 760 } });
    const page = await loginPage(context);
    const b = block(page);
    await b.el.getByRole('button', { name: 'Use an offline code' }).click();
    const input = b.el.getByLabel('Offline code from your Tapin app');
    await expect.poll(() => input.evaluate((e) => e === (e.getRootNode() as ShadowRoot).activeElement)).toBe(true);
    await input.fill('AAAAAA AAAAAA');
    await input.press('Enter');
    await expect.poll(() => b.el.locator('#otp-msg').textContent()).toContain('wrong');
    expect(await input.getAttribute('aria-invalid')).toBe('true');

    const code = await device<{ otp: string }>(phone, 'otp', (await b.loginUrl())!);
    expect(code.ok).toBe(true);
    await input.fill(code.json.otp);
    await shot(page, '09-offline-code');
    await b.el.getByRole('button', { name: 'Log in with the code' }).click();
    await expectAccountPage(page, true);
    expect(await page.locator('.lead').textContent()).toContain('offline code');
    await shot(page, '10-account-otp');
    await context.close();
  });

  it('falls back to long-polling when the WebSocket is blocked, and still logs in', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    // A page whose policy refuses the Tapin socket (as a proxy that blocks upgrades would): the block must poll.
    await page.route(`${demo.demoUrl}/login`, async (route) => {
      const response = await route.fetch();
      const csp = response.headers()['content-security-policy']!.replace(/connect-src [^;]*/, "connect-src 'self'");
      await route.fulfill({ response, headers: { ...response.headers(), 'content-security-policy': csp } });
    });
    const polls: string[] = [];
    page.on('request', (req) => req.url().includes('/auth/tapin/status') && polls.push(req.url()));
    await page.goto(`${demo.demoUrl}/login`);
    await block(page).waitFor('waiting');
    await expect.poll(() => polls.length).toBeGreaterThan(0);
    const approved = await device(phone, 'login', (await block(page).loginUrl())!, '--pin', PIN, '--once');
    expect(approved.ok).toBe(true);
    await expectAccountPage(page, false);
    await context.close();
  });

  it("on a phone's browser: 'Open the Tapin app' with the login URL and ?return=, the QR code on request", async () => {
    const context = await browser.newContext({ ...devices['Pixel 7'] });
    const page = await loginPage(context);
    const b = block(page);
    const link = b.el.getByRole('link', { name: 'Open the Tapin app' });
    expect(await link.isVisible()).toBe(true);
    expect(await b.qr.isVisible()).toBe(false);
    const href = (await link.getAttribute('href'))!;
    expect(href).toBe(`${await b.loginUrl()}?return=${encodeURIComponent(`${demo.demoUrl}/login`)}`);
    await shot(page, '11-phone');
    await b.el.getByRole('button', { name: 'Show a QR code instead' }).click();
    expect(await b.qr.isVisible()).toBe(true);
    // The app-to-app link is accepted by the server (the demo's URL is an allowed return URL) and logs in.
    const approved = await device(phone, 'login', href, '--pin', PIN, '--once');
    expect(approved.ok).toBe(true);
    await expectAccountPage(page, false);
    await context.close();
  });

  it('has no axe-core violations (WCAG 2 A/AA) on the login page, in its open forms and on the account page', async () => {
    const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
    const context = await browser.newContext();
    const page = await loginPage(context);
    const b = block(page);
    await b.el.getByRole('button', { name: 'Send a request to my phone' }).click();
    await b.el.getByRole('button', { name: 'Use an offline code' }).click();
    await b.el.getByText('Can’t scan the code?').click();
    // Evaluated over the DevTools protocol, which the page's strict CSP does not govern.
    await page.evaluate(axeSource);
    const run = () => page.evaluate(async () => {
      const axe = (window as unknown as { axe: { run(c: unknown, o: unknown): Promise<{ violations: Array<{ id: string; nodes: Array<{ target: unknown }> }> }> } }).axe;
      const result = await axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] });
      return result.violations.map((v) => `${v.id}: ${JSON.stringify(v.nodes.map((n) => n.target))}`);
    });
    expect(await run()).toEqual([]);
    // Keyboard: Tab reaches the block's controls in order.
    await page.keyboard.press('Tab');
    await context.close();
  });
});
