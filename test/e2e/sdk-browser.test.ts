import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { TapinClient, generateNonce } from '@tapin/client';
import { type RunningServer, startServer } from '@tapin/server';
import { build } from 'esbuild';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, launchChromium } from '../support/browser.js';

/**
 * The SDK's browser platform for real: IndexedDbStore (accounts, history, non-extractable WebCrypto keys) inside
 * Chromium, enrolling and approving against a real server. The page is served at the server's own origin (as the
 * authenticator app is), so the SDK's requests go to the server for real.
 */
const root = resolve(import.meta.dirname, '../..');
let server: RunningServer;
let client: TapinClient;
let browser: Browser;
let bundle: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium); .ci/run does`);
  server = await startServer({ db: ':memory:', port: 0, host: '127.0.0.1', logger: false });
  client = new TapinClient({ url: server.url, sid: server.created!.sid, apiKey: server.created!.apiKey });
  const out = await build({
    stdin: { contents: "import { TapinSDK } from '@tapin/mobile-sdk'; import { IndexedDbStore } from '@tapin/mobile-sdk/browser'; window.tapin = { TapinSDK, IndexedDbStore };", resolveDir: root, loader: 'ts' },
    bundle: true, format: 'iife', platform: 'browser', write: false, target: 'es2022',
  });
  bundle = out.outputFiles[0]!.text;
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** Opens a page at the server's origin with the SDK loaded (the same profile each time: IndexedDB persists). */
async function sdkPage(context: Awaited<ReturnType<Browser['newContext']>>) {
  const page = await context.newPage();
  await page.route(`${server.url}/sdk-test`, (route) => route.fulfill({ contentType: 'text/html', body: `<!doctype html><script>${bundle}</script>` }));
  await page.goto(`${server.url}/sdk-test`);
  return page;
}

/** Runs one SDK session in the page and resolves with its end state and the callbacks' order. */
const runInPage = async ({ link: l, pin: p }: { link: string; pin: string }) => {
  const w = window as unknown as { tapin: { TapinSDK: new (o: unknown) => { processQR(d: string): Promise<unknown> }; IndexedDbStore: new () => unknown } };
  const store = new w.tapin.IndexedDbStore();
  const events: string[] = [];
  return new Promise<{ events: string[]; state: string; accountid: string | undefined; error?: string }>((done) => {
    const sdk = new w.tapin.TapinSDK({
      storage: store, keys: store,
      callbacks: {
        ConfirmEnrol: (s: { enrol(a: unknown): Promise<void> }) => { events.push('ConfirmEnrol'); void s.enrol({ pin: p, description: 'Chromium' }); },
        ConfirmLogin: (s: { approve(a: unknown): Promise<void> }) => { events.push('ConfirmLogin'); void s.approve({ pin: p }); },
        SecondFactor: (_s: unknown, r: { result?: string }) => events.push(`SecondFactor ${r.result ?? 'ask'}`),
        SessionStop: (s: { state: string; account?: { accountid: string }; error?: { code: string } }) =>
          done({ events, state: s.state, accountid: s.account?.accountid, ...(s.error ? { error: s.error.code } : {}) }),
      },
    });
    void sdk.processQR(l);
  });
};

describe('the SDK in Chromium with IndexedDB and WebCrypto', () => {
  it('enrols, keeps a non-extractable key in IndexedDB, and approves logins across page reloads', async () => {
    const context = await browser.newContext();
    try {
      const enrolLink = (await client.enrol({ name: 'browser', userid: 'frank' })).data;
      let page = await sdkPage(context);
      const enrolled = await page.evaluate(runInPage, { link: enrolLink, pin: '2468' });
      expect(enrolled).toMatchObject({ state: 'DONE', events: ['ConfirmEnrol'] });
      expect((await client.getAccount(enrolled.accountid!)).userid).toBe('frank');

      // The private key is a CryptoKey in IndexedDB that even the app's own script cannot export.
      const key = await page.evaluate(async (accountid) => {
        const db = await new Promise<IDBDatabase>((res, rej) => { const r = indexedDB.open('tapin', 1); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
        const k = await new Promise<CryptoKey>((res, rej) => { const r = db.transaction('keys').objectStore('keys').get(accountid); r.onsuccess = () => res(r.result as CryptoKey); r.onerror = () => rej(r.error); });
        const exported = await crypto.subtle.exportKey('pkcs8', k).then(() => 'exported', () => 'refused');
        return { type: k.type, extractable: k.extractable, algorithm: (k.algorithm as EcKeyAlgorithm).namedCurve, exported };
      }, enrolled.accountid!);
      expect(key).toEqual({ type: 'private', extractable: false, algorithm: 'P-256', exported: 'refused' });

      // A fresh page (same profile): the SDK finds the account and key again and approves with the PIN.
      await page.close();
      page = await sdkPage(context);
      const nonce = generateNonce();
      await client.setContext(nonce, { announceinfo: { info: { site: 'Browser test' } } });
      const { data } = await client.getQr(nonce);
      const login = await page.evaluate(runInPage, { link: data, pin: '2468' });
      expect(login).toMatchObject({ state: 'DONE', accountid: enrolled.accountid, events: ['ConfirmLogin', 'SecondFactor SUCCESS'] });
      expect(await client.getSession(nonce)).toMatchObject({ loggedin: true, accountid: enrolled.accountid, userid: 'frank' });
      const history = await page.evaluate(async () => {
        const w = window as unknown as { tapin: { IndexedDbStore: new () => { listHistory(): Promise<Array<{ status: string }>> } } };
        return (await new w.tapin.IndexedDbStore().listHistory()).map((h) => h.status);
      });
      expect(history).toEqual(['LOGGED_IN_ONE_SHOT']);
    } finally {
      await context.close();
    }
  }, 60_000);
});
