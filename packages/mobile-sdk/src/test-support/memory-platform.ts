import type { HistoryItem, HistoryStorage } from '../history.js';
import type { AccountStorage, KeyStore, StoredAccount } from '../platform.js';

/**
 * In-memory platform parts for the SDK's unit tests: accounts and history kept in arrays (save replaces in place,
 * as the real stores do), keys that sign with a fixed string. The network is whatever fetch the test passes.
 */
export const SID = 'offlineTestServer00001';
export const HSID = 'AbCdEfGhIjKlMnOpQrStUv';
export const BASE = 'https://tapin.example';

export function makeAccount(accountid: string, overrides: Partial<StoredAccount> = {}, serverFlags: string[] = ['ENABLE_OTP']): StoredAccount {
  return {
    accountid, sid: SID, base: BASE, otpref: 123456, otpkey: 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8',
    userid: 'alice', description: 'phone', pinSalt: null, pinIterations: 1000, created: 0,
    server: { sid: SID, name: 'Bank', logo: '', publicUrl: BASE, serverpk: 'x', pingTime: 0, pinTimeout: -1, serverFlags, issued: 0 },
    ...overrides,
  };
}

export function memoryPlatform(initial: StoredAccount[]) {
  const accounts = initial.map((a) => structuredClone(a));
  const history: HistoryItem[] = [];
  const storage: AccountStorage & HistoryStorage = {
    list: async () => accounts.map((a) => structuredClone(a)),
    save: async (account) => {
      const i = accounts.findIndex((a) => a.accountid === account.accountid);
      if (i >= 0) accounts[i] = structuredClone(account);
      else accounts.push(structuredClone(account));
    },
    remove: async (accountid) => {
      const i = accounts.findIndex((a) => a.accountid === accountid);
      if (i >= 0) accounts.splice(i, 1);
    },
    listHistory: async () => history.map((h) => ({ ...h })),
    saveHistory: async (item) => {
      const i = history.findIndex((h) => h.id === item.id);
      if (i >= 0) history[i] = item;
      else history.push(item);
    },
    pruneHistory: async (before) => {
      for (let i = history.length - 1; i >= 0; i--) if (history[i]!.updated < before) history.splice(i, 1);
    },
  };
  const keys: KeyStore = { create: async () => 'pk', sign: async () => 'c2ln', rename: async () => undefined, remove: async () => undefined };
  return { accounts, history, storage, keys };
}

/** What the server answers to a session fetch (POST …/sessions/{hsid}). */
export function deviceSession(accountid: string, extra: Record<string, unknown> = {}) {
  return {
    sid: SID, hsid: HSID, accountid, state: 'scanned', announceinfo: { info: { site: 'Bank' } },
    challenge: 'challenge-challenge-0001', challengeExpires: Date.now() + 120_000, pinRequired: false, expires: Date.now() + 600_000,
    sessioninfo: null, serverFlags: ['ENABLE_OTP'], pingTime: 0, ...extra,
  };
}

export const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
