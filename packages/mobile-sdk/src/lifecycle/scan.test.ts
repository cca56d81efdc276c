import { buildEnrolUrl, buildLoginUrl } from '@tapin/protocol';
import { describe, expect, it, vi } from 'vitest';
import { BASE, HSID, SID, makeAccount, memoryPlatform } from '../test-support/memory-platform.js';
import type { UserError } from './callbacks.js';
import { TapinSDK } from './sdk.js';

/** processQR takes scanned data "URL or raw" (docs/SDK.md): whitespace, the JSON answers, bare paths. */
const TOKEN = 'enrolTokenEnrolToken0001';
const offline = async () => { throw new TypeError('fetch failed'); };

function sdkWith(accounts = [makeAccount('acct-scan-00000000000001')]) {
  const p = memoryPlatform(accounts);
  const errors: UserError[] = [];
  const available = vi.fn();
  const sdk = new TapinSDK({ ...p, fetch: offline, backoff: { maxAttempts: 1 }, callbacks: { UserErrorMessage: (_s, e) => errors.push(e), OTPAvailable: available } });
  return { sdk, errors, available };
}

describe('processQR, URL or raw', () => {
  it('a bare login path q/<sid>/<hsid> gets the server address of the account enrolled at that sid', async () => {
    const { sdk, available } = sdkWith([makeAccount('acct-elsewhere-000000001', { sid: 'anotherServer000000001', base: 'https://other.example' }), makeAccount('acct-scan-00000000000001')]);
    for (const data of [`q/${SID}/${HSID}`, ` /q/${SID}/${HSID}\n`]) {
      const session = await sdk.processQR(data);
      expect(session.link).toEqual({ type: 'login', base: BASE, sid: SID, hsid: HSID });
      expect(session.accounts.map((a) => a.accountid)).toEqual(['acct-scan-00000000000001']);
      await session.cancel();
    }
    expect(available).toHaveBeenCalledTimes(2);
  });

  it('the getQrLogin and enrol JSON answers start the same sessions as their URLs', async () => {
    const { sdk } = sdkWith();
    const login = await sdk.processQR(JSON.stringify({ data: buildLoginUrl(BASE, SID, HSID), hsid: HSID }));
    expect(login.link).toEqual({ type: 'login', base: BASE, sid: SID, hsid: HSID });
    await login.cancel();
    const enrol = await sdk.processQR(`\n${JSON.stringify({ data: buildEnrolUrl(BASE, SID, TOKEN), expires: 1 })} `);
    expect(enrol.link).toEqual({ type: 'enrol', base: BASE, sid: SID, token: TOKEN });
    await enrol.cancel();
  });

  it('a bare enrol path has no server to enrol at: qr_parse_error (32); a bare login path of an unknown server: no_accounts (34)', async () => {
    const { sdk, errors } = sdkWith();
    await expect(sdk.processQR(`e/${SID}/${TOKEN}`)).rejects.toMatchObject({ code: 'qr_parse_error', message: expect.stringMatching(/full enrol link/) });
    await expect(sdk.processQR(`q/unknownServer00000001/${HSID}`)).rejects.toMatchObject({ code: 'no_accounts' });
    await expect(sdk.processQR(JSON.stringify({ data: buildLoginUrl(BASE, SID, HSID), hsid: 'ZyXwVuTsRqPoNmLkJiHgFe' }))).rejects.toMatchObject({ code: 'qr_parse_error' });
    expect(errors.map((e) => e.errorCode)).toEqual([32, 34, 32]);
    expect(sdk.sessions()).toEqual([]);
  });
});
