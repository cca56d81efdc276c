import { readFileSync } from 'node:fs';
import { buildLoginUrl, fromHex, toBase64url } from '@tapin/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { StoredAccount } from '../platform.js';
import { TapinSDK } from './sdk.js';

/** The protocol's OTP vectors, produced through the SDK's own generateOTP (the server checks the same file). */
interface OtpVector { name: string; otpkey: string; sid: string; hsid: string; otpref: number; unixMs: number; otp: string }
const vectors = (JSON.parse(readFileSync(new URL('../../../protocol/vectors.json', import.meta.url), 'utf8')) as { otp: OtpVector[] }).otp;

describe('generateOTP matches the protocol vectors', () => {
  afterEach(() => vi.useRealTimers());

  it.each(vectors.map((v) => [v.name, v] as const))('%s', async (_name, v) => {
    vi.useFakeTimers({ toFake: ['Date'], now: v.unixMs });
    const base = 'https://vectors.example';
    const account: StoredAccount = {
      accountid: 'vector-account-0000001', sid: v.sid, base, otpref: v.otpref, otpkey: toBase64url(fromHex(v.otpkey)), userid: null,
      description: '', pinSalt: null, pinIterations: 1, created: 0,
      server: { sid: v.sid, name: 'v', logo: '', publicUrl: base, serverpk: '', pingTime: 0, pinTimeout: -1, serverFlags: ['ENABLE_OTP'], issued: 0 },
    };
    const sdk = new TapinSDK({
      storage: { list: async () => [account], save: async () => undefined, remove: async () => undefined, listHistory: async () => [], saveHistory: async () => undefined, pruneHistory: async () => undefined },
      keys: { create: async () => '', sign: async () => '', rename: async () => undefined, remove: async () => undefined },
      fetch: () => Promise.reject(new TypeError('offline')),
    });
    const session = await sdk.processQR(buildLoginUrl(base, v.sid, v.hsid));
    expect(await sdk.generateOTP(session)).toBe(v.otp);
  });
});
