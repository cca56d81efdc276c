import { stat } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { utf8Encode, verify } from '@tapin/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HistoryItem } from '../history.js';
import { TapinSDK } from '../lifecycle/sdk.js';
import type { StoredAccount } from '../platform.js';
import { FileStore } from './file-store.js';

describe('FileStore', () => {
  let home: string;
  beforeEach(async () => {
    home = join(await mkdtemp(join(tmpdir(), 'tapin-fs-')), 'phone');
  });
  afterEach(async () => rm(join(home, '..'), { recursive: true, force: true }));

  const account = (accountid: string): StoredAccount => ({
    accountid, sid: 'sidsidsidsid', base: 'http://x', otpref: 1, otpkey: 'AAAA', userid: null, description: 'd',
    pinSalt: null, pinIterations: 1000, created: 0,
    server: { sid: 'sidsidsidsid', name: 'n', logo: '', publicUrl: 'http://x', serverpk: 'pk', pingTime: 0, pinTimeout: 0, serverFlags: [], issued: 0 },
  });

  it('keeps keys and accounts in files only the owner can read', async () => {
    const store = new FileStore(home);
    const pk = await store.create('acct1');
    await store.save(account('acct1'));
    expect((await stat(home)).mode & 0o777).toBe(0o700);
    expect((await stat(join(home, 'keys'))).mode & 0o777).toBe(0o700);
    expect((await stat(join(home, 'accounts.json'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(home, 'keys', 'acct1.pk8'))).mode & 0o777).toBe(0o600);
    const message = utf8Encode('hello');
    expect(await verify(pk, message, await new FileStore(home).sign('acct1', message))).toBe(true);
  });

  it('renames keys, replaces accounts by id and removes both', async () => {
    const store = new FileStore(home);
    const pk = await store.create('pending-x');
    await store.rename('pending-x', 'acct2');
    await store.save(account('acct2'));
    await store.save({ ...account('acct2'), description: 'renamed' });
    expect((await store.list()).map((a) => a.description)).toEqual(['renamed']);
    // A refreshed account keeps its place.
    await store.save(account('acct3'));
    await store.save({ ...account('acct2'), description: 'again' });
    expect((await store.list()).map((a) => `${a.accountid} ${a.description}`)).toEqual(['acct2 again', 'acct3 d']);
    await store.remove('acct3');
    expect(await verify(pk, utf8Encode('m'), await store.sign('acct2', utf8Encode('m')))).toBe(true);
    await store.remove('acct2');
    expect(await store.list()).toEqual([]);
    await expect(store.sign('acct2', utf8Encode('m'))).rejects.toThrow();
  });

  it('refuses key names that could escape the directory', async () => {
    await expect(new FileStore(home).create('../evil')).rejects.toThrow(/bad key name/);
  });

  it('an empty home has no accounts', async () => {
    expect(await new FileStore(home).list()).toEqual([]);
  });

  const historyItem = (hsid: string, updated: number): HistoryItem => ({
    id: `sidsidsidsid/${hsid}`, sid: 'sidsidsidsid', hsid, base: 'http://x', accountid: 'acct1', serverName: 'n', announceinfo: null,
    sessioninfo: null, status: 'LOGGED_OUT', otp: false, started: updated, updated,
  });

  it('pruneHistory drops items last updated before the cut-off, in the file too', async () => {
    const store = new FileStore(home);
    for (const [hsid, updated] of [['a', 100], ['b', 200], ['c', 300]] as const) await store.saveHistory(historyItem(hsid, updated));
    await store.pruneHistory(200);
    expect((await new FileStore(home).listHistory()).map((h) => h.hsid)).toEqual(['b', 'c']);
    expect((await stat(join(home, 'history.json'))).mode & 0o777).toBe(0o600);
  });

  it('the SDK on a FileStore keeps 90 days by default, or what historyRetentionMs says', async () => {
    const DAY = 24 * 3600_000;
    const now = 1_800_000_000_000;
    const store = new FileStore(home);
    for (const [hsid, age] of [['day1', DAY], ['day30', 30 * DAY], ['day89', 89 * DAY], ['day91', 91 * DAY]] as const) await store.saveHistory(historyItem(hsid, now - age));
    expect((await new TapinSDK({ storage: store, keys: store, now: () => now }).history()).map((h) => h.hsid)).toEqual(['day1', 'day30', 'day89']);
    expect((await new TapinSDK({ storage: store, keys: store, now: () => now, historyRetentionMs: 7 * DAY }).history()).map((h) => h.hsid)).toEqual(['day1']);
    expect((await new FileStore(home).listHistory()).map((h) => h.hsid)).toEqual(['day1']);
  });
});
