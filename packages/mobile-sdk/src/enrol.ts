import {
  type EnrolResponse, type SignedServerParams, TapinError, derivePinKey, devicePaths, enrolStatement, fromBase64url,
  randomBytes, serverParamsStatement, sha256Base64url, signWithPinKey, toBase64url, verify, PIN_PBKDF2_ITERATIONS, PIN_SALT_LENGTH,
  randomId,
} from '@tapin/protocol';
import type { DeviceHttp } from './device-http.js';
import type { AccountStorage, KeyStore, StoredAccount } from './platform.js';

export interface EnrolOptions {
  /** Sets the second factor; without it the account is headless (approval needs only the phone). */
  pin?: string | undefined;
  description?: string | undefined;
  clientVersion: string;
  pinIterations?: number;
  /** Already fetched and checked (the app showed it to the user first). */
  info?: EnrolInfo;
}

/** Checks that server parameters are signed by the key they carry and belong to the server we asked. */
export async function checkServerParams(signed: SignedServerParams, sid: string, pinnedKey?: string): Promise<void> {
  if (signed.params.sid !== sid) throw new TapinError('server_auth_failed', 'The server answered for another virtual server.');
  if (pinnedKey !== undefined && signed.params.serverpk !== pinnedKey) throw new TapinError('server_auth_failed', 'The server key changed since enrolment.');
  if (!(await verify(signed.params.serverpk, serverParamsStatement(signed.params), signed.signature))) {
    throw new TapinError('server_auth_failed', 'The server parameters are not signed by the server key.');
  }
}

export const PIN_RE = /^\d{4,12}$/;

export interface EnrolInfo {
  name: string;
  server: SignedServerParams;
}

/** What the enrol link leads to: the server's signed parameters (checked here) and the suggested account name. */
export async function fetchEnrolInfo(http: DeviceHttp, link: { base: string; sid: string; token: string }): Promise<EnrolInfo> {
  const info = await http.call<EnrolInfo>(link.base, 'GET', devicePaths.enrolInfo(link.sid, link.token));
  await checkServerParams(info.server, link.sid);
  return info;
}

export async function enrolAccount(
  http: DeviceHttp, keys: KeyStore, storage: AccountStorage, link: { base: string; sid: string; token: string }, options: EnrolOptions,
): Promise<StoredAccount> {
  if (options.pin !== undefined && !PIN_RE.test(options.pin)) throw new TapinError('bad_request', 'A PIN is 4 to 12 digits.');
  const info = options.info ?? (await fetchEnrolInfo(http, link));

  // The key is made under a provisional name; the server assigns the account id, and the key moves there.
  const provisional = `pending-${randomId(12)}`;
  const authpk = await keys.create(provisional);
  try {
    const iterations = options.pinIterations ?? PIN_PBKDF2_ITERATIONS;
    const pinSalt = options.pin === undefined ? null : randomBytes(PIN_SALT_LENGTH);
    const pinKey = options.pin === undefined || pinSalt === null ? null : await derivePinKey(options.pin, pinSalt, iterations);
    const description = (options.description ?? info.name).slice(0, 128);
    const statement = enrolStatement({ sid: link.sid, token: sha256Base64url(link.token), authpk, pinpk: pinKey?.publicKey ?? null, description });
    const body = {
      token: link.token, authpk, pinpk: pinKey?.publicKey ?? null, description, clientVersion: options.clientVersion,
      signature: await keys.sign(provisional, statement),
      ...(pinKey ? { pinsignature: signWithPinKey(pinKey.secretKey, statement) } : {}),
    };
    const result = await http.call<EnrolResponse>(link.base, 'POST', devicePaths.enrol(link.sid), body);
    await checkServerParams(result.server, link.sid, info.server.params.serverpk);
    fromBase64url(result.otpkey);
    const account: StoredAccount = {
      accountid: result.accountid, sid: link.sid, base: link.base, server: result.server.params, otpref: result.otpref,
      otpkey: result.otpkey, userid: result.userid, description, pinSalt: pinSalt ? toBase64url(pinSalt) : null,
      pinIterations: iterations, created: Date.now(),
    };
    await keys.rename(provisional, result.accountid);
    await storage.save(account);
    return account;
  } catch (err) {
    await keys.remove(provisional).catch(() => undefined);
    throw err;
  }
}
