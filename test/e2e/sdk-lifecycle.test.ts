import { TapinClient, generateNonce } from '@tapin/client';
import { FileStore } from '@tapin/mobile-sdk/node';
import { type HistoryItem, type StoredAccount, TapinSDK, type TapinSession, type UserError } from '@tapin/mobile-sdk';
import { type RunningServer, startServer } from '@tapin/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/processes.js';
import { Watcher } from '../support/watcher.js';

/**
 * The SDK's lifecycle (DESIGN §7) against a real server over HTTP: every transition an authenticator app sees,
 * with the callbacks in the order they fire.
 */
const SESSION_MS = 1500;
let server: RunningServer;
let client: TapinClient;
let sid: string;
let phoneDir: { path: string; remove(): Promise<void> };
let account: StoredAccount;

interface Recorder {
  events: string[];
  errors: UserError[];
  stopped: Promise<TapinSession>;
}

function phone(extra: Partial<ConstructorParameters<typeof TapinSDK>[0]['callbacks']> = {}): { sdk: TapinSDK; rec: Recorder } {
  const store = new FileStore(phoneDir.path);
  const events: string[] = [];
  const errors: UserError[] = [];
  let stop!: (s: TapinSession) => void;
  const stopped = new Promise<TapinSession>((r) => (stop = r));
  const sdk = new TapinSDK({
    storage: store, keys: store, pinIterations: 1000, backoff: { baseMs: 50, maxAttempts: 2 },
    callbacks: {
      OTPAvailable: () => events.push('OTPAvailable'),
      ConfirmLogin: (s, r) => { events.push(`ConfirmLogin pin=${r.pinRequired}`); extra.ConfirmLogin?.(s, r); },
      ConfirmEnrol: (s, r) => { events.push(`ConfirmEnrol ${r.serverName}`); extra.ConfirmEnrol?.(s, r); },
      SecondFactor: (s, r) => { events.push(`SecondFactor ${r.result ?? 'ask'}${r.attemptsLeft !== undefined ? ` ${r.attemptsLeft}` : ''}`); extra.SecondFactor?.(s, r); },
      SessionUpdate: (s) => { if (events.at(-1) !== `state ${s.state}`) events.push(`state ${s.state}`); },
      SessionStop: (s) => { events.push('SessionStop'); stop(s); },
      AccountUpdate: (_a, c) => events.push(`AccountUpdate blocked=${c.blocked}`),
      AccountDeleted: () => events.push('AccountDeleted'),
      UserErrorMessage: (_s, e) => { errors.push(e); events.push(`UserErrorMessage ${e.errorCode}`); },
    },
  });
  return { sdk, rec: { events, errors, stopped } };
}

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function loginPage(context = { info: { site: 'Demo' } }) {
  const nonce = generateNonce();
  await client.setContext(nonce, { announceinfo: context, sessioninfo: { info: { purpose: 'lifecycle test' } } });
  const qr = await client.getQr(nonce);
  const watcher = await Watcher.connect(server.url);
  watcher.send(`REGISTER ${qr.hsid} ${sid}`);
  await watcher.next('WAITING');
  return { nonce, qr, watcher };
}

beforeAll(async () => {
  server = await startServer({ db: ':memory:', port: 0, host: '127.0.0.1', lifetimes: { sessionMs: SESSION_MS }, sweepIntervalMs: 100, logger: false });
  sid = server.created!.sid;
  client = new TapinClient({ url: server.url, sid, apiKey: server.created!.apiKey });
  phoneDir = await tempDir('tapin-sdk-');
  const { sdk, rec } = phone({ ConfirmEnrol: (s) => void s.enrol({ pin: '1234', description: 'SDK phone' }) });
  const session = await sdk.processQR((await client.enrol({ name: 'x', userid: 'carol' })).data);
  await rec.stopped;
  expect(rec.events).toEqual(['state STARTING', 'state USER_INTERACTION', 'ConfirmEnrol Tapin', 'state DONE', 'SessionStop']);
  account = session.account!;
  expect(account.userid).toBe('carol');
});

afterAll(async () => {
  await server?.close();
  await phoneDir?.remove();
});

describe('SDK lifecycle against a real server', () => {
  it('one-shot login: PIN asked, wrong then right; history keeps the sessioninfo', async () => {
    const { nonce, qr, watcher } = await loginPage();
    let pins = ['0000', '1234'];
    const { sdk, rec } = phone({
      ConfirmLogin: (s) => void s.approve(),
      SecondFactor: (s, r) => {
        if (r.result === 'SUCCESS') return;
        const pin = pins[0]!;
        pins = pins.slice(1);
        void s.approve({ pin });
      },
    });
    await sdk.processQR(qr.data);
    const session = await rec.stopped;
    expect(rec.events).toEqual([
      'state STARTING', 'state USER_INTERACTION', 'ConfirmLogin pin=true', 'SecondFactor ask', 'SecondFactor PIN_FAIL 4', 'SecondFactor SUCCESS', 'state DONE', 'SessionStop',
    ]);
    expect(session.announceinfo).toEqual({ info: { site: 'Demo' } });
    expect(await client.getSession(nonce)).toMatchObject({ loggedin: true, accountid: account.accountid, userid: 'carol' });
    await watcher.next('LOGIN');
    const item = (await sdk.history()).find((h: HistoryItem) => h.hsid === qr.hsid);
    expect(item).toMatchObject({ status: 'LOGGED_IN_ONE_SHOT', sessioninfo: { info: { purpose: 'lifecycle test' } }, accountid: account.accountid });
    watcher.close();
  });

  it('raw scans: the getQrLogin JSON answer and the bare path q/<sid>/<hsid> log in like the URL', async () => {
    for (const raw of [(qr: { data: string; hsid: string }) => ` ${JSON.stringify(qr)}\n`, (qr: { data: string; hsid: string }) => `/q/${sid}/${qr.hsid}`]) {
      const { nonce, qr, watcher } = await loginPage();
      const { sdk, rec } = phone({ ConfirmLogin: (s) => void s.approve({ pin: '1234' }) });
      await sdk.processQR(raw(qr));
      expect((await rec.stopped).state).toBe('DONE');
      await watcher.next('LOGIN');
      expect(await client.getSession(nonce)).toMatchObject({ loggedin: true, accountid: account.accountid });
      watcher.close();
    }
  });

  it('ConfirmLogin offers both accounts of a phone enrolled twice; approve({accountid}) logs in the one picked', async () => {
    const dir = await tempDir('tapin-sdk-two-');
    try {
      const store = new FileStore(dir.path);
      const enrolled: StoredAccount[] = [];
      for (const userid of ['erin', 'frank']) {
        let done!: () => void;
        const finished = new Promise<void>((r) => (done = r));
        const sdk = new TapinSDK({ storage: store, keys: store, callbacks: { ConfirmEnrol: (s) => void s.enrol({ description: userid }), SessionStop: () => done() } });
        const session = await sdk.processQR((await client.enrol({ name: userid, userid })).data);
        await finished;
        enrolled.push(session.account!);
      }
      const [erin, frank] = enrolled as [StoredAccount, StoredAccount];
      const { nonce, qr, watcher } = await loginPage();
      let offered: string[] = [];
      let done!: (s: TapinSession) => void;
      const stopped = new Promise<TapinSession>((r) => (done = r));
      const sdk = new TapinSDK({
        storage: store, keys: store,
        callbacks: {
          ConfirmLogin: (s, r) => {
            offered = r.accounts.map((a) => a.accountid);
            void s.approve({ accountid: frank.accountid });
          },
          SessionStop: (s) => done(s),
        },
      });
      await sdk.processQR(qr.data);
      const session = await stopped;
      expect(offered).toEqual([erin.accountid, frank.accountid]);
      expect(session.state).toBe('DONE');
      expect(session.account?.accountid).toBe(frank.accountid);
      await watcher.next('LOGIN');
      expect(await client.getSession(nonce)).toMatchObject({ loggedin: true, accountid: frank.accountid, userid: 'frank' });
      expect((await sdk.history()).find((h) => h.hsid === qr.hsid)).toMatchObject({ accountid: frank.accountid, status: 'LOGGED_IN_ONE_SHOT' });
      watcher.close();
    } finally {
      await dir.remove();
    }
  });

  it('an enrol code used twice: UserErrorMessage 41 and ERROR on the second phone', async () => {
    const dir = await tempDir('tapin-sdk-41-');
    try {
      const data = (await client.enrol({ name: 'once' })).data;
      for (const expected of ['DONE', 'ERROR'] as const) {
        const store = new FileStore(dir.path);
        const errors: UserError[] = [];
        let done!: (s: TapinSession) => void;
        const stopped = new Promise<TapinSession>((r) => (done = r));
        const sdk = new TapinSDK({ storage: store, keys: store, callbacks: { ConfirmEnrol: (s) => void s.enrol(), SessionStop: (s) => done(s), UserErrorMessage: (_s, e) => errors.push(e) } });
        await sdk.processQR(data);
        const session = await stopped;
        expect(session.state).toBe(expected);
        expect(errors).toEqual(expected === 'DONE' ? [] : [expect.objectContaining({ errorCode: 41, code: 'enrol_token_invalid' })]);
      }
      expect(await new FileStore(dir.path).list()).toHaveLength(1);
    } finally {
      await dir.remove();
    }
  });

  it('decline: DONE, ABORTED in history, CANCEL on the page', async () => {
    const { qr, watcher } = await loginPage();
    const { sdk, rec } = phone({ ConfirmLogin: (s) => void s.decline() });
    await sdk.processQR(qr.data);
    expect((await rec.stopped).state).toBe('DONE');
    await watcher.next('CANCEL');
    expect((await sdk.history()).find((h) => h.hsid === qr.hsid)?.status).toBe('ABORTED');
    watcher.close();
  });

  it('expired session: ERROR with a user error, nothing logged in', async () => {
    const { nonce, qr, watcher } = await loginPage();
    await watcher.next('EXPIRED', SESSION_MS + 2000);
    const { sdk, rec } = phone();
    await sdk.processQR(qr.data);
    const session = await rec.stopped;
    expect(session.state).toBe('ERROR');
    expect(session.error?.code).toBe('session_expired');
    expect(rec.events).toContain('state ERROR');
    expect((await client.getSession(nonce)).state).toBe('expired');
    watcher.close();
  });

  it('a blocked account reaches the SDK as AccountUpdate on its next request, and so does the unblock', async () => {
    await client.blockAccount(account.accountid);
    try {
      const { qr, watcher } = await loginPage();
      const { sdk, rec } = phone();
      await sdk.processQR(qr.data);
      const session = await rec.stopped;
      expect(session.state).toBe('ERROR');
      expect(rec.events).toContain('AccountUpdate blocked=true');
      expect(rec.errors.at(-1)).toMatchObject({ code: 'account_blocked', errorCode: 52 });
      watcher.close();
    } finally {
      await client.unblockAccount(account.accountid);
    }
    // The next answer for the account tells the app it works again — once, and before the login is shown.
    for (const expected of [['AccountUpdate blocked=false', 'ConfirmLogin pin=true'], ['ConfirmLogin pin=true']]) {
      const { qr, watcher } = await loginPage();
      const { sdk, rec } = phone({ ConfirmLogin: (s) => void s.cancel() });
      await sdk.processQR(qr.data);
      await rec.stopped;
      expect(rec.events.filter((e) => e.startsWith('AccountUpdate') || e.startsWith('ConfirmLogin'))).toEqual(expected);
      watcher.close();
    }
  });

  it('logout(session) also ends a one-shot session, from the session or from history by hsid', async () => {
    for (const by of ['session', 'hsid'] as const) {
      const { nonce, qr, watcher } = await loginPage();
      const { sdk, rec } = phone({ ConfirmLogin: (s) => void s.approve({ pin: '1234' }) });
      const session = await sdk.processQR(qr.data);
      await rec.stopped;
      await watcher.next('LOGIN');
      expect((await sdk.history()).find((h) => h.hsid === qr.hsid)?.status).toBe('LOGGED_IN_ONE_SHOT');
      await sdk.logout(by === 'session' ? session : qr.hsid);
      await watcher.next('LOGOUT');
      expect((await client.getSession(nonce)).state).toBe('loggedout');
      expect((await sdk.history()).find((h) => h.hsid === qr.hsid)?.status).toBe('LOGGED_OUT');
      expect(rec.events.filter((e) => e === 'SessionStop')).toHaveLength(1);
      // Nothing logged in is left to end.
      await expect(sdk.logout(qr.hsid)).rejects.toMatchObject({ code: 'session_not_found' });
      watcher.close();
    }
  });

  it('a deleted account reaches the SDK as AccountDeleted and leaves the phone', async () => {
    const other = await tempDir('tapin-sdk-del-');
    try {
      const store = new FileStore(other.path);
      const enrolled = new TapinSDK({ storage: store, keys: store, pinIterations: 1000, callbacks: { ConfirmEnrol: (s) => void s.enrol() } });
      const enrolSession = await enrolled.processQR((await client.enrol({ name: 'temp' })).data);
      await new Promise<void>((r) => { const t = setInterval(() => { if (enrolSession.ended) { clearInterval(t); r(); } }, 20); });
      await client.deleteAccount(enrolSession.account!.accountid);
      const events: string[] = [];
      let done!: () => void;
      const finished = new Promise<void>((r) => (done = r));
      const sdk = new TapinSDK({ storage: store, keys: store, callbacks: { AccountDeleted: () => events.push('AccountDeleted'), SessionStop: () => done() } });
      const { qr, watcher } = await loginPage();
      await sdk.processQR(qr.data);
      await finished;
      expect(events).toEqual(['AccountDeleted']);
      expect(await store.list()).toEqual([]);
      watcher.close();
    } finally {
      await other.remove();
    }
  });

  it('continuous authentication: ACTIVE while pinging; a business logout ends it on the phone; a phone logout reaches the page', async () => {
    await client.updateSettings({ pingTime: 1 });
    try {
      // 1. Pings keep it alive past 2 × pingTime; the business logs out; the next ping ends the phone's session.
      const first = await loginPage();
      const a = phone({ ConfirmLogin: (s) => void s.approve({ pin: '1234' }) });
      const s1 = await a.sdk.processQR(first.qr.data);
      await first.watcher.next('LOGIN');
      // The page hears LOGIN before the phone has read its answer: wait for the phone's own state.
      await until(() => s1.state === 'ACTIVE');
      await new Promise((r) => setTimeout(r, 2600));
      expect((await client.getSession(first.nonce)).loggedin).toBe(true);
      expect((await a.sdk.history()).find((h) => h.hsid === first.qr.hsid)?.status).toBe('LOGGED_IN');
      await client.logout(first.nonce);
      await a.rec.stopped;
      expect(s1.state).toBe('DONE');
      expect((await a.sdk.history()).find((h) => h.hsid === first.qr.hsid)?.status).toBe('LOGGED_OUT');

      // 2. The phone logs out: the page gets LOGOUT.
      const second = await loginPage();
      const b = phone({ ConfirmLogin: (s) => void s.approve({ pin: '1234' }) });
      const s2 = await b.sdk.processQR(second.qr.data);
      await second.watcher.next('LOGIN');
      await until(() => s2.state === 'ACTIVE');
      await b.sdk.logout(s2);
      await second.watcher.next('LOGOUT');
      expect((await client.getSession(second.nonce)).state).toBe('loggedout');
      a.sdk.dispose();
      b.sdk.dispose();
      first.watcher.close();
      second.watcher.close();
    } finally {
      await client.updateSettings({ pingTime: 0 });
    }
  });
  it('pingTime changed while a session is ACTIVE: the phone follows each ping answer; at 0 the session turns one-shot', async () => {
    await client.updateSettings({ pingTime: 2 });
    try {
      const page = await loginPage();
      const { sdk, rec } = phone({ ConfirmLogin: (s) => void s.approve({ pin: '1234' }) });
      const session = await sdk.processQR(page.qr.data);
      await until(() => session.state === 'ACTIVE');
      expect(session.pingTime).toBe(2);
      // Lowered to 1 s: the server's next deadline is 2 s after the next ping, so pinging every 2 s would miss it.
      await client.updateSettings({ pingTime: 1 });
      await until(() => session.pingTime === 1, 4000);
      await new Promise((r) => setTimeout(r, 2500));
      expect(session.state).toBe('ACTIVE');
      expect((await client.getSession(page.nonce)).loggedin).toBe(true);

      // Switched off: the next ping says 0; the phone stops pinging and the session stays logged in, one-shot.
      await client.updateSettings({ pingTime: 0 });
      expect((await rec.stopped).state).toBe('DONE');
      expect(session.pingTime).toBe(0);
      expect((await sdk.history()).find((h) => h.hsid === page.qr.hsid)?.status).toBe('LOGGED_IN_ONE_SHOT');
      await new Promise((r) => setTimeout(r, 2500));
      expect((await client.getSession(page.nonce)).loggedin).toBe(true);
      expect(rec.events.filter((e) => e === 'SessionStop')).toHaveLength(1);
      sdk.dispose();
      page.watcher.close();
    } finally {
      await client.updateSettings({ pingTime: 0 });
    }
  });
});
