import { TapinApiError, errorFromResponse } from './errors.js';

/**
 * The slice of `fetch` the client uses. Narrower than `typeof fetch` so a test (or a custom agent) only has to
 * handle a URL string and an init object; the global fetch fits it.
 */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface HttpConfig {
  /** `${url}/v1/servers/${sid}`, without a trailing slash. */
  baseUrl: string;
  apiKey: string;
  fetch: FetchLike;
  /** Budget for one call, from sending to the last byte of the answer. */
  timeoutMs: number;
}

export type Method = 'GET' | 'PUT' | 'POST' | 'DELETE';

export interface RequestSpec {
  method: Method;
  /** '' or '/…', each segment already URL-encoded by the caller. */
  path: string;
  query?: Record<string, string | number | undefined>;
  /** Sent as `X-Nonce`: the nonce is the key to a session and must never end up in a URL (and so in logs). */
  nonce?: string;
  /** Sent as JSON when present. */
  body?: unknown;
  accept?: string;
  /** Added to the timeout, for long-polls that are meant to take a while. */
  extraTimeoutMs?: number;
  /** The caller's own cancel switch; aborting it rejects with the signal's reason, not a TapinApiError. */
  signal?: AbortSignal;
}

/** How to read a successful answer. */
export type Expect = 'json' | 'text' | 'bytes' | 'none';

export function buildUrl(baseUrl: string, path: string, query?: RequestSpec['query']): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) params.set(k, String(v));
  const qs = params.toString();
  return `${baseUrl}${path}${qs ? `?${qs}` : ''}`;
}

/**
 * Sends one business-API call and reads its answer. Every failure comes out as a TapinApiError: an error answer
 * keeps the server's code, a fetch that throws (DNS, refused, reset) is `connection_error`, and running out of
 * time — while connecting or while reading the body — is `server_timeout`.
 */
export function request(config: HttpConfig, spec: RequestSpec, expect: 'json'): Promise<unknown>;
export function request(config: HttpConfig, spec: RequestSpec, expect: 'text'): Promise<string>;
export function request(config: HttpConfig, spec: RequestSpec, expect: 'bytes'): Promise<Uint8Array>;
export function request(config: HttpConfig, spec: RequestSpec, expect: 'none'): Promise<void>;
export async function request(config: HttpConfig, spec: RequestSpec, expect: Expect): Promise<unknown> {
  const headers: Record<string, string> = {
    Authorization: `Bearer ${config.apiKey}`,
    Accept: spec.accept ?? 'application/json',
  };
  if (spec.nonce !== undefined) headers['X-Nonce'] = spec.nonce;
  let body: string | undefined;
  if (spec.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(spec.body);
  }

  // Our own timer is kept apart from the caller's signal so that we can tell "too slow" from "cancelled".
  const timeout = AbortSignal.timeout(config.timeoutMs + (spec.extraTimeoutMs ?? 0));
  const signal = spec.signal ? AbortSignal.any([timeout, spec.signal]) : timeout;

  try {
    const res = await config.fetch(buildUrl(config.baseUrl, spec.path, spec.query), {
      method: spec.method,
      headers,
      body,
      signal,
      // A redirect would be followed silently and turn a POST into a GET (and may carry the API key elsewhere);
      // a misconfigured base URL should fail loudly instead.
      redirect: 'manual',
    });
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel();
      throw new TapinApiError('unknown', {
        status: res.status,
        message: `The server redirected (HTTP ${res.status}) to ${res.headers.get('location') ?? 'another address'}; set the client's url to the final address.`,
      });
    }
    if (!res.ok) throw errorFromResponse(res.status, await res.text());
    return await readBody(res, expect);
  } catch (err) {
    if (err instanceof TapinApiError) throw err;
    if (spec.signal?.aborted) throw spec.signal.reason;
    if (timeout.aborted) throw new TapinApiError('server_timeout', { cause: err });
    throw new TapinApiError('connection_error', { cause: err });
  }
}

async function readBody(res: Response, expect: Expect): Promise<unknown> {
  switch (expect) {
    case 'none':
      // Release the connection; a 204 has no body at all.
      await res.body?.cancel();
      return undefined;
    case 'text':
      return await res.text();
    case 'bytes':
      return new Uint8Array(await res.arrayBuffer());
    case 'json': {
      const text = await res.text();
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw new TapinApiError('server_error', {
          status: res.status,
          message: `The server answered HTTP ${res.status} with something other than JSON.`,
          details: { body: text.trim().slice(0, 200) },
        });
      }
    }
  }
}
