import { buildLoginUrl, fromBase64url, generateOtp, parseOtp } from '@tapin/protocol';
import { describe, expect, it, vi } from 'vitest';
import { BASE, HSID, SID, deviceSession, json, makeAccount, memoryPlatform } from '../test-support/memory-platform.js';
import { TapinSDK } from './sdk.js';

/**
 * Two accounts of one phone at one server: the server's flags are the server's, so a session fetched by one
 * account refreshes the copy of both, and an offline code comes from an account that may make one.
 */
const offline = async () => { throw new TypeError('fetch failed'); };

describe('server flags with two accounts at one server', () => {
  it('generateOTP(session) picks an account with ENABLE_OTP when the first one has stale flags', async () => {
    const stale = makeAccount('acct-stale-000000000001', { otpref: 111 }, []);
    const fresh = makeAccount('acct-fresh-000000000002', { otpref: 222 }, ['ENABLE_OTP']);
    const p = memoryPlatform([stale, fresh]);
    const available = vi.fn();
    const sdk = new TapinSDK({ ...p, fetch: offline, backoff: { maxAttempts: 1 }, callbacks: { OTPAvailable: available } });
    const session = await sdk.processQR(buildLoginUrl(BASE, SID, HSID));
    expect(available).toHaveBeenCalledOnce();
    const otp = await sdk.generateOTP(session);
    expect(parseOtp(otp)?.otpref).toBe(222);
    expect(otp).toBe(generateOtp(fromBase64url(fresh.otpkey), 222, SID, HSID, Date.now()));
    expect(session.account?.accountid).toBe(fresh.accountid);
    // An explicit account is still obeyed, and refused when it may not.
    const again = await sdk.processQR(buildLoginUrl(BASE, SID, HSID));
    await expect(sdk.generateOTP(again, stale)).rejects.toMatchObject({ code: 'otp_disabled' });
  });

  it('a session fetched by one account refreshes the flags of every account at that server, in storage and in the session', async () => {
    const first = makeAccount('acct-first-000000000001', {}, []);
    const second = makeAccount('acct-second-00000000002', { otpref: 222 }, []);
    const elsewhere = makeAccount('acct-other-000000000003', { sid: 'anotherServer000000001' }, []);
    const p = memoryPlatform([first, second, elsewhere]);
    const fetch = vi.fn(async () => json(deviceSession(first.accountid, { serverFlags: ['ENABLE_OTP'], pingTime: 5 })));
    const sdk = new TapinSDK({ ...p, fetch });
    const session = await sdk.processQR(buildLoginUrl(BASE, SID, HSID));
    expect(session.otpAvailable).toBe(false);
    await vi.waitFor(() => expect(session.state).toBe('USER_INTERACTION'));
    expect(p.accounts.map((a) => [a.accountid, a.server.serverFlags, a.server.pingTime])).toEqual([
      [first.accountid, ['ENABLE_OTP'], 5], [second.accountid, ['ENABLE_OTP'], 5], [elsewhere.accountid, [], 0],
    ]);
    expect(session.accounts.map((a) => a.server.serverFlags)).toEqual([['ENABLE_OTP'], ['ENABLE_OTP']]);
    // Offline, the second account's code now works too.
    expect(parseOtp(await sdk.generateOTP(session, session.accounts[1]))?.otpref).toBe(222);
    // And the next scan offers the code at once.
    const next = await sdk.processQR(buildLoginUrl(BASE, SID, 'ZyXwVuTsRqPoNmLkJiHgFe'));
    expect(next.otpAvailable).toBe(true);
    await next.cancel();
  });
});
