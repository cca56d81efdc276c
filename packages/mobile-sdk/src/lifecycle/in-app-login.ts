import { type AppLoginResponse, type SessionInfo, TapinError, devicePaths } from '@tapin/protocol';
import type { DeviceHttp } from '../device-http.js';
import { noteBlocked } from './account-state.js';
import type { TapinCallbacks } from './callbacks.js';
import { asTapinError, toUserError } from './errors.js';
import type { TapinSDKOptions } from './sdk-options.js';
import { type SessionController, TapinSession } from './session.js';

export interface AppLoginOptions {
  /** Which account logs in; default: the only one on the phone (more than one needs this). */
  accountid?: string;
  /** The PIN, when the server will ask for it; without it `SecondFactor` asks and `session.approve({pin})` goes on. */
  pin?: string;
  /** What the phone's own session overview shows for this login. */
  announceinfo?: SessionInfo;
  sessioninfo?: SessionInfo;
}

export interface AppLogin {
  session: TapinSession;
  /** For the app's own back-end only, over the app's own TLS connection: it reads the login with getSession. */
  nonce: string;
  /** Seconds without use of the app (`sdk.userActivity()`) after which the server ends the login; 0 = never. */
  inactivityTimeout: number;
}

export interface AppLoginDeps {
  options: Pick<TapinSDKOptions, 'storage' | 'keys'>;
  http: DeviceHttp;
  cb: TapinCallbacks;
  controller: SessionController;
}

/**
 * Asks the server for an in-app login session for the chosen account. The session comes back already fetched
 * (challenge and all) and still STARTING: the SDK takes it from there. A refusal is reported and thrown.
 */
export async function openAppLogin(deps: AppLoginDeps, options: AppLoginOptions): Promise<AppLogin> {
  const accounts = await deps.options.storage.list();
  const account = options.accountid === undefined ? accounts[0] : accounts.find((a) => a.accountid === options.accountid);
  if (!account) throw new TapinError('no_accounts');
  if (options.accountid === undefined && accounts.length > 1) throw new TapinError('bad_request', 'Several accounts on this phone: pass appLogin({accountid}).');
  const body = {
    ...(options.announceinfo ? { announceinfo: options.announceinfo } : {}),
    ...(options.sessioninfo ? { sessioninfo: options.sessioninfo } : {}),
  };
  let answer: AppLoginResponse;
  try {
    answer = await deps.http.signed<AppLoginResponse>(deps.options.keys, account, 'POST', devicePaths.appLogin(account.sid), body);
  } catch (err) {
    const e = asTapinError(err);
    if (e.code === 'account_blocked') await noteBlocked(deps.options.storage, deps.cb, account, true);
    deps.cb.UserErrorMessage?.(undefined, toUserError(e));
    throw e;
  }
  // An app that only logs in here never pulls or scans, so this answer is where it hears of an unblock.
  await noteBlocked(deps.options.storage, deps.cb, account, false);
  const { nonce, inactivityTimeout, ...device } = answer;
  const session = new TapinSession({ type: 'login', base: account.base, sid: account.sid, hsid: device.hsid }, deps.controller);
  Object.assign(session, {
    inApp: true, accounts: [account], account, device, announceinfo: device.announceinfo, sessioninfo: device.sessioninfo,
    pinRequired: device.pinRequired, pingTime: device.pingTime,
  });
  return { session, nonce, inactivityTimeout };
}
