import { ERRORS, isErrorCode } from '@tapin/protocol';
import type { ErrorCode, ErrorDetails } from '@tapin/protocol';

/**
 * A code from the shared registry, or `unknown` when the server (or a proxy in front of it) answered with a code
 * this version of the client does not know. The raw code is then kept in `serverCode`, so a newer server never
 * makes an older client crash, and the integrator can still see what was said.
 */
export type ApiErrorCode = ErrorCode | 'unknown';

export interface TapinApiErrorInit {
  /** HTTP status; defaults to the registry's status for `code` (500 for `unknown`). */
  status?: number;
  message?: string;
  details?: ErrorDetails;
  /** The code exactly as the server sent it, when it sent one. */
  serverCode?: string;
  /** The underlying failure (e.g. the fetch TypeError), for logs. */
  cause?: unknown;
}

/**
 * The one error every TapinClient method throws, so an integrator needs a single `catch` branch.
 *
 * It does not extend the protocol's TapinError because that class's `code` must be a registry code, and a client
 * has to cope with codes it does not know (`unknown`). It keeps the same fields and wire form (`toJSON`), so code
 * written against TapinError reads it the same way.
 *
 * `status` is the HTTP status the server answered with. When no answer came (network down, timeout, or the
 * client refused the call before sending it) it is the registry's status for the code: 503, 504, 400 …
 * `responded` tells the two cases apart.
 */
export class TapinApiError extends Error {
  readonly code: ApiErrorCode;
  readonly status: number;
  readonly details: ErrorDetails | undefined;
  readonly serverCode: string | undefined;
  /** True when the error came from an HTTP answer, false when no answer was received or the call was not sent. */
  readonly responded: boolean;

  constructor(code: ApiErrorCode, init: TapinApiErrorInit = {}) {
    const entry = code === 'unknown' ? undefined : ERRORS[code];
    super(init.message ?? entry?.message ?? 'The server answered with an unknown error.', init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'TapinApiError';
    this.code = code;
    this.status = init.status ?? entry?.status ?? 500;
    this.details = init.details;
    this.serverCode = init.serverCode;
    this.responded = init.status !== undefined;
  }

  /** The numeric code the mobile SDK would report for this error, when the registry gives one. */
  get userError(): number | undefined {
    if (this.code === 'unknown') return undefined;
    const entry = ERRORS[this.code];
    return 'userError' in entry ? entry.userError : undefined;
  }

  toJSON(): { error: { code: string; message: string; details?: ErrorDetails } } {
    return { error: { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) } };
  }
}

/**
 * The code to report when the body says nothing usable (an HTML page from a proxy, an empty body): the status is
 * all we have. Only statuses with one obvious meaning are mapped; the rest become `unknown`.
 */
export function codeForStatus(status: number): ApiErrorCode {
  switch (status) {
    case 400:
      return 'bad_request';
    case 401:
      return 'unauthorized';
    case 404:
      return 'not_found';
    case 413:
      return 'payload_too_large';
    case 429:
      return 'rate_limited';
    case 500:
      return 'internal';
    case 502:
      return 'server_error';
    case 503:
      return 'unavailable';
    case 504:
      return 'server_timeout';
    default:
      return status >= 500 ? 'server_error' : 'unknown';
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Keeps only the primitive entries, so `details` always has the shape the protocol promises. */
function pickDetails(v: unknown): ErrorDetails | undefined {
  if (!isRecord(v)) return undefined;
  const out: ErrorDetails = {};
  for (const [k, x] of Object.entries(v)) {
    if (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean') out[k] = x;
  }
  return out;
}

/** How much of a non-JSON body to keep in `details.body`: enough to recognise a proxy page, not a whole document. */
const BODY_SNIPPET = 200;

/**
 * Builds the error for a non-2xx answer. Tapin answers `{error: {code, message, details?}}`; anything else
 * (a proxy's HTML, Fastify's own `{statusCode, error: 'Bad Request', message}`) is mapped from the status.
 */
export function errorFromResponse(status: number, bodyText: string): TapinApiError {
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch {
    body = undefined;
  }
  if (isRecord(body) && isRecord(body.error) && typeof body.error.code === 'string') {
    const { code, message } = body.error;
    const details = pickDetails(body.error.details);
    return new TapinApiError(isErrorCode(code) ? code : 'unknown', {
      status,
      serverCode: code,
      ...(typeof message === 'string' ? { message } : {}),
      ...(details ? { details } : {}),
    });
  }
  const message = isRecord(body) && typeof body.message === 'string' ? body.message : undefined;
  const snippet = body === undefined ? bodyText.trim().slice(0, BODY_SNIPPET) : '';
  return new TapinApiError(codeForStatus(status), {
    status,
    message: message ?? `The server answered HTTP ${status} without a Tapin error body.`,
    ...(snippet ? { details: { body: snippet } } : {}),
  });
}
