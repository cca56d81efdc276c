/**
 * Calls to the business site's own endpoints. The block never sees the nonce: the site keeps it server-side (in
 * the visitor's session) and does the nonce-bearing Tapin calls itself (DESIGN §2–3). Errors are expected as
 * Tapin's `{error: {code, message}}`.
 */

/** What the session endpoint answers: the public side of a fresh Tapin session. */
export interface Grant {
  sid: string;
  hsid: string;
  /** The login URL (`<tapin>/q/<sid>/<hsid>`) to draw as the QR code. */
  qrdata: string;
  /** Milliseconds until the session expires unless a phone logs it in. */
  expiresIn: number;
  /** The virtual server allows offline codes (ENABLE_OTP). */
  otp?: boolean;
  /** A push can go to the account last logged in on this browser, in one click. */
  canprovoke?: boolean;
  /** Overrides the socket URL derived from qrdata. */
  socketUrl?: string;
}

export class EndpointError extends Error {
  constructor(readonly code: string, message: string, readonly status: number) {
    super(message);
    this.name = 'EndpointError';
  }
}

export async function callEndpoint<T>(url: string, method: 'GET' | 'POST', body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      // JSON, never a form post: a cross-site page cannot send this without a CORS preflight, which the site refuses.
      headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
    });
  } catch {
    throw new EndpointError('connection_error', 'Could not reach the site.', 0);
  }
  const json = (await res.json().catch(() => undefined)) as { error?: { code?: unknown; message?: unknown } } | undefined;
  if (!res.ok) {
    const code = typeof json?.error?.code === 'string' ? json.error.code : 'server_error';
    const message = typeof json?.error?.message === 'string' ? json.error.message : `HTTP ${res.status}`;
    throw new EndpointError(code, message, res.status);
  }
  return json as T;
}

const HSID_RE = /^[A-Za-z0-9_-]{22}$/;

/** Checks a grant before anything in it is used: a broken endpoint should fail here, clearly. */
export function checkGrant(value: unknown): Grant {
  const g = value as Partial<Grant> | undefined;
  const ok = !!g && typeof g.sid === 'string' && typeof g.hsid === 'string' && HSID_RE.test(g.hsid)
    && typeof g.qrdata === 'string' && /^https?:\/\//.test(g.qrdata) && typeof g.expiresIn === 'number' && g.expiresIn > 0;
  if (!ok) throw new EndpointError('bad_grant', 'The session endpoint answered something other than a Tapin session.', 0);
  return g as Grant;
}

/** Only http(s) targets are followed, so an endpoint or attribute can never make the block run `javascript:`. */
export function safeRedirect(target: unknown): string | undefined {
  if (typeof target !== 'string' || target === '') return undefined;
  try {
    const url = new URL(target, document.baseURI);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}
