import { TapinApiError, TapinClient, generateNonce } from '@tapin/client';
import { FileStore } from '@tapin/mobile-sdk/node';
import { type StoredAccount, TapinSDK, type TapinSession, type UserError } from '@tapin/mobile-sdk';
import { TapinError } from '@tapin/protocol';
import { type RunningServer, startServer } from '@tapin/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/processes.js';
import { Watcher } from '../support/watcher.js';

/**
 * The SDK calls behind the authenticator app, against a real server over HTTP: in-app login (appLogin, the nonce
 * to the app's back-end, pings with the idle time, inactivityTimeout), app-to-app return URLs, PIN change and
 * account deletion.
 */
let server: RunningServer;
let client: TapinClient;
let home: { path: string; remove(): Promise<void> };
const errors: UserError[] = [];
let sdk: TapinSDK;
let account: StoredAccount;

const until = async (condition: () => boolean, timeoutMs = 8000) => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
};

function makeSdk(onStop?: (s: TapinSession) => void): TapinSDK {
  const store = new FileStore(home.path);
  return new TapinSDK({
    storage: store, keys: store, pinIterations: 1000, backoff: { baseMs: 50, maxAttempts: 2 },
    callbacks: {
      ConfirmEnrol: (s) => void s.enrol({ pin: '1357', description: 'SDK app' }),
      UserErrorMessage: (_s, e) => errors.push(e),
      ...(onStop ? { SessionStop: onStop } : {}),
    },
  });
}

async function ended(session: TapinSession): Promise<TapinSession> {
  await until(() => session.ended);
  return session;
}

beforeAll(async () => {
  server = await startServer({ db: ':memory:', port: 0, host: '127.0.0.1', logger: false });
  client = new TapinClient({ url: server.url, sid: server.created!.sid, apiKey: server.created!.apiKey });
  home = await tempDir('tapin-sdk-app-');
  sdk = makeSdk();
  const enrol = await sdk.processQR((await client.enrol({ name: 'App', userid: 'jo' })).data);
  await ended(enrol);
  account = (await sdk.accounts())[0]!;
  expect(account.userid).toBe('jo');
});
afterAll(async () => {
  sdk?.dispose();
  await server?.close();
  await home?.remove();
});

describe('in-app login', () => {
  it('logs the single account in; the back-end reads it with the nonce; one-shot without pingTime', async () => {
    const { session, nonce, inactivityTimeout } = await sdk.appLogin({ pin: '1357', sessioninfo: { info: { app: 'Shop app' } } });
    expect(inactivityTimeout).toBe(300);
    expect(session.state).toBe('DONE');
    expect(await client.getSession(nonce)).toMatchObject({ loggedin: true, accountid: account.accountid, userid: 'jo' });
    expect((await sdk.history())[0]).toMatchObject({ hsid: session.hsid, status: 'LOGGED_IN_ONE_SHOT', sessioninfo: { info: { app: 'Shop app' } } });
  });

  it('asks for the PIN through SecondFactor when not given, then goes on', async () => {
    const asked: string[] = [];
    const store = new FileStore(home.path);
    const local = new TapinSDK({ storage: store, keys: store, callbacks: { SecondFactor: (_s, r) => asked.push(r.result ?? 'ask') } });
    const { session, nonce } = await local.appLogin();
    expect(session.state).toBe('USER_INTERACTION');
    expect(asked).toEqual(['ask']);
    await session.approve({ pin: '0000' });
    expect(asked).toEqual(['ask', 'PIN_FAIL']);
    await session.approve({ pin: '1357' });
    expect(asked.at(-1)).toBe('SUCCESS');
    expect((await client.getSession(nonce)).loggedin).toBe(true);
  });

  it('with pingTime stays active while the app is used and ends after the inactivity timeout', async () => {
    await client.updateSettings({ pingTime: 1, inactivityTimeout: 2 });
    const active = makeSdk();
    try {
      const { session, nonce, inactivityTimeout } = await active.appLogin({ pin: '1357' });
      expect(inactivityTimeout).toBe(2);
      expect(session.state).toBe('ACTIVE');
      const watcher = await Watcher.connect(server.url);
      watcher.send(`REGISTER ${session.hsid} ${account.sid}`);
      await watcher.next('LOGIN');
      // Used for 3 s (longer than the timeout, pings every second): still logged in.
      const using = setInterval(() => active.userActivity(), 200);
      await new Promise((r) => setTimeout(r, 3000));
      clearInterval(using);
      expect((await client.getSession(nonce)).loggedin).toBe(true);
      // Left alone: the first ping at ≥ 2 s idle ends it, the page hears LOGOUT and the phone's session is done.
      const left = Date.now();
      await watcher.next('LOGOUT', 6000);
      expect(Date.now() - left).toBeLessThan(4500);
      await ended(session);
      expect(session.state).toBe('DONE');
      expect(await client.getSession(nonce)).toMatchObject({ loggedin: false, state: 'loggedout' });
      watcher.close();
    } finally {
      active.dispose();
      await client.updateSettings({ pingTime: 0, inactivityTimeout: 300 });
    }
  }, 20_000);

  it('needs an account, and says which when there are several', async () => {
    const empty = await tempDir('tapin-sdk-empty-');
    const store = new FileStore(empty.path);
    await expect(new TapinSDK({ storage: store, keys: store }).appLogin()).rejects.toMatchObject({ code: 'no_accounts' });
    await empty.remove();
  });
});

describe('app-to-app return URLs', () => {
  it('carries the normalized return URL the server allowed, and ends in ERROR 52 for a foreign one', async () => {
    await client.updateSettings({ returnUrls: ['https://shop.example/back'] });
    const nonce = generateNonce();
    const { data } = await client.getQr(nonce);
    const good = await sdk.processQR(`${data}?return=${encodeURIComponent('https://SHOP.example/back/done')}`);
    await until(() => good.state === 'USER_INTERACTION');
    expect(good.returnUrl).toBe('https://shop.example/back/done');
    await good.decline();

    for (const evil of ['https://evil.example/back', 'https://shop.example@evil.example/back', '//evil.example', 'javascript:alert(1)']) {
      errors.length = 0;
      const bad = await sdk.processQR(`${(await client.getQr(generateNonce())).data}?return=${encodeURIComponent(evil)}`);
      await ended(bad);
      expect(bad.state, evil).toBe('ERROR');
      expect(bad.error?.code).toBe('return_url_not_allowed');
      expect(bad.returnUrl).toBeUndefined();
      expect(errors.map((e) => e.errorCode)).toEqual([52]);
    }
  });
});

describe('PIN change and account deletion', () => {
  it('refuses a wrong current PIN (attempts left), changes with the right one; logins then need the new PIN', async () => {
    const wrong = await sdk.changePin(account, { oldPin: '0000', newPin: '2468' }).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(TapinError);
    expect(wrong).toMatchObject({ code: 'pin_wrong', details: { attemptsLeft: 4 } });
    expect((await sdk.accounts())[0]!.pinSalt).toBe(account.pinSalt);
    await expect(sdk.changePin(account, { oldPin: '1357', newPin: '12' })).rejects.toMatchObject({ code: 'bad_request' });

    const before = account;
    account = await sdk.changePin(account, { oldPin: '1357', newPin: '2468' });
    expect((await sdk.accounts())[0]!.pinSalt).toBe(account.pinSalt);
    const first = await sdk.appLogin({ pin: '1357' });
    expect(first.session.state).toBe('USER_INTERACTION');
    const second = await sdk.appLogin({ pin: '2468' });
    expect(second.session.state).toBe('DONE');
    expect((await client.getSession(second.nonce)).loggedin).toBe(true);

    // An app that kept its copy from before the change can change again: the SDK works from the stored copy (the
    // old copy's salt would derive a wrong key, and the server would count a wrong PIN).
    account = await sdk.changePin(before, { oldPin: '2468', newPin: '3579' });
    expect((await sdk.appLogin({ pin: '3579' })).session.state).toBe('DONE');
  });

  it('deletes the account at the server (its sessions end) and on the phone', async () => {
    const { nonce } = await sdk.appLogin({ pin: '3579' });
    await sdk.deleteAccount(account);
    expect(await sdk.accounts()).toEqual([]);
    expect((await client.getSession(nonce)).loggedin).toBe(false);
    const gone = await client.getAccount(account.accountid).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(TapinApiError);
    expect(gone).toMatchObject({ code: 'account_not_found' });
  });
});
