import {
  DEVICE_HEADERS, TapinError, isErrorCode, randomId, requestStatement, sha256Base64url,
} from '@tapin/protocol';
import type { Fetch, KeyStore, StoredAccount } from './platform.js';

export interface DeviceHttpOptions {
  fetch: Fetch;
  timeoutMs: number;
  now: () => number;
}

/** Network failures as the SDK reports them: 50 when the time ran out, else 70. */
function networkError(base: string, err: unknown): TapinError {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return new TapinError('server_timeout');
  return new TapinError('connection_error', `Could not reach ${base}: ${err instanceof Error ? err.message : String(err)}`);
}

/**
 * The phone's side of the device API: JSON over fetch, with server errors turned back into the shared
 * TapinError codes and network failures into `connection_error` (70) / `server_timeout` (50).
 */
export class DeviceHttp {
  constructor(private readonly options: DeviceHttpOptions) {}

  async call<T>(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const raw = body === undefined ? '' : JSON.stringify(body);
    let response: Response;
    try {
      response = await this.options.fetch(`${base}${path}`, {
        method,
        headers: { ...(raw ? { 'content-type': 'application/json' } : {}), ...headers },
        ...(raw ? { body: raw } : {}),
        signal: AbortSignal.timeout(this.options.timeoutMs),
        redirect: 'error',
      });
    } catch (err) {
      throw networkError(base, err);
    }
    let text: string;
    try {
      // The timeout also covers the body: a server that sends its headers and then stalls is a timeout too.
      text = await response.text();
    } catch (err) {
      throw networkError(base, err);
    }
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!response.ok) {
      const error = (json as { error?: { code?: unknown; message?: unknown; details?: Record<string, string | number | boolean> } } | undefined)?.error;
      if (error && isErrorCode(error.code)) throw new TapinError(error.code, typeof error.message === 'string' ? error.message : undefined, error.details);
      throw new TapinError(response.status >= 500 ? 'server_error' : 'server_unknown', `The server answered HTTP ${response.status}.`);
    }
    // A 2xx page that is not JSON (a captive portal, another web site at that address) is no Tapin server.
    if (json === undefined) throw new TapinError('server_unknown', `${base} answered, but not as a Tapin server.`);
    return json as T;
  }

  /** A request signed with the account's key over method, path, body hash, time and a fresh request id. */
  async signed<T>(keys: KeyStore, account: StoredAccount, method: string, path: string, body?: unknown): Promise<T> {
    const raw = body === undefined ? '' : JSON.stringify(body);
    const auth = await this.signature(keys, account, method, path, raw);
    return this.call<T>(account.base, method, path, body, {
      [DEVICE_HEADERS.account]: auth.account,
      [DEVICE_HEADERS.time]: auth.time,
      [DEVICE_HEADERS.reqid]: auth.reqid,
      [DEVICE_HEADERS.signature]: auth.signature,
    });
  }

  /** The parts of a signed request (also the device socket's first frame). */
  async signature(keys: KeyStore, account: StoredAccount, method: string, path: string, raw = ''): Promise<{ account: string; time: string; reqid: string; signature: string }> {
    const time = this.options.now();
    const reqid = randomId(16);
    const statement = requestStatement({ sid: account.sid, accountid: account.accountid, method, path, time, reqid, body: sha256Base64url(raw) });
    return { account: account.accountid, time: String(time), reqid, signature: await keys.sign(account.accountid, statement) };
  }
}
