import { type AnswerResponse, type Decision, type DeviceSession, type LinkData, TapinError, parseLink } from '@tapin/protocol';
import { DeviceHttp } from './device-http.js';
import { enrolAccount } from './enrol.js';
import { answerSession, fetchSession } from './login.js';
import type { AccountStorage, Fetch, KeyStore, StoredAccount } from './platform.js';

export interface TapinDeviceOptions {
  storage: AccountStorage;
  keys: KeyStore;
  fetch?: Fetch;
  clientVersion?: string;
  timeoutMs?: number;
  now?: () => number;
  /** PBKDF2 iterations for new PINs (default: the protocol's). */
  pinIterations?: number;
}

export const CLIENT_VERSION = 'tapin-mobile-sdk/0.1.0';

/**
 * The SDK object an authenticator app creates once, with its platform parts injected. This first version covers
 * enrolment and approval; the session lifecycle with callbacks builds on these calls.
 */
export class TapinDevice {
  private readonly http: DeviceHttp;

  constructor(private readonly options: TapinDeviceOptions) {
    this.http = new DeviceHttp({ fetch: options.fetch ?? globalThis.fetch.bind(globalThis), timeoutMs: options.timeoutMs ?? 15_000, now: options.now ?? Date.now });
  }

  parse(data: string): LinkData {
    return parseLink(data);
  }

  accounts(): Promise<StoredAccount[]> {
    return this.options.storage.list();
  }

  async enrol(data: string, options: { pin?: string | undefined; description?: string | undefined } = {}): Promise<StoredAccount> {
    const link = parseLink(data);
    if (link.type !== 'enrol') throw new TapinError('qr_unknown_type', 'This is a login link, not an enrol link.');
    return enrolAccount(this.http, this.options.keys, this.options.storage, link, {
      ...options, clientVersion: this.options.clientVersion ?? CLIENT_VERSION, ...(this.options.pinIterations ? { pinIterations: this.options.pinIterations } : {}),
    });
  }

  /** The accounts this phone has at the server a login link points to (error 34 when there are none). */
  async accountsFor(link: { sid: string; base: string }): Promise<StoredAccount[]> {
    const all = (await this.options.storage.list()).filter((a) => a.sid === link.sid && a.base === link.base);
    if (all.length === 0) throw new TapinError('no_accounts');
    return all;
  }

  /** Opens a login: fetches the session for one account (the first, unless `accountid` picks another). */
  async open(data: string, accountid?: string): Promise<{ account: StoredAccount; session: DeviceSession }> {
    const link = parseLink(data);
    if (link.type !== 'login') throw new TapinError('qr_unknown_type', 'This is an enrol link, not a login link.');
    const candidates = await this.accountsFor(link);
    const account = accountid === undefined ? candidates[0]! : candidates.find((a) => a.accountid === accountid);
    if (!account) throw new TapinError('no_accounts', `No account ${accountid} at this server.`);
    return { account, session: await fetchSession(this.http, this.options.keys, account, link.hsid) };
  }

  answer(account: StoredAccount, session: DeviceSession, decision: Decision, pin?: string): Promise<AnswerResponse> {
    return answerSession(this.http, this.options.keys, account, session, decision, pin);
  }

  /** Scan, then approve or decline in one go (what a command-line phone does). */
  async login(data: string, options: { decision?: Decision; pin?: string | undefined; accountid?: string } = {}) {
    const { account, session } = await this.open(data, options.accountid);
    const result = await this.answer(account, session, options.decision ?? 'approve', options.pin);
    return { account, session, result };
  }

  /** Asks the server how it sees this account (a blocked or deleted account gets its error). */
  accountState(account: StoredAccount): Promise<{ accountid: string; userid: string | null; description: string; blocked: boolean }> {
    return this.http.signed(this.options.keys, account, 'GET', `/v1/device/${account.sid}/account`);
  }
}
