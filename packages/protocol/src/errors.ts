/**
 * The one registry of Tapin error codes, shared by server, client and SDK so that a code means the same thing
 * wherever it shows up. `status` is the HTTP status the server answers with; `userError` is the numeric code the
 * mobile SDK reports through `UserErrorMessage` (the numbering of the platform Tapin re-creates).
 */
export const ERRORS = {
  bad_request: { status: 400, message: 'The request is malformed.' },
  invalid_nonce: { status: 400, message: 'The session identifier (X-Nonce) is missing or not 22–128 characters of base64url or hex with at least 128 bits.' },
  invalid_hsid: { status: 400, message: 'The session handle is malformed.' },
  payload_too_large: { status: 413, message: 'The request body is larger than 64 KiB.' },
  context_too_large: { status: 413, message: 'announceinfo and sessioninfo must each be at most 4 KiB.' },
  unauthorized: { status: 401, message: 'A valid API key is required (Authorization: Bearer <key>).' },
  wrong_server: { status: 403, message: 'This API key belongs to another virtual server.' },
  server_not_found: { status: 404, message: 'No such virtual server.' },
  api_key_not_found: { status: 404, message: 'This virtual server has no such API key.' },
  api_key_revoked: { status: 401, message: 'This API key was revoked; use a current one.' },
  not_found: { status: 404, message: 'No such route.' },
  session_not_found: { status: 404, message: 'No such session. Sessions begin with a business call that presents the nonce.' },
  session_expired: { status: 410, message: 'The session has expired; start a new one.' },
  session_state: { status: 409, message: 'The session is not in a state that allows this.' },
  not_logged_in: { status: 409, message: 'The session is not logged in.' },
  account_not_found: { status: 404, message: 'No such account.', userError: 34 },
  account_blocked: { status: 403, message: 'The account is blocked.', userError: 52 },
  user_not_found: { status: 404, message: 'No such user.' },
  enrol_token_invalid: { status: 410, message: 'The enrol code is unknown, expired or already used.', userError: 41 },
  challenge_replayed: { status: 409, message: 'The challenge is unknown or was already used.' },
  challenge_expired: { status: 410, message: 'The challenge has expired; fetch the session again.' },
  bad_signature: { status: 401, message: 'The signature does not verify.', userError: 48 },
  request_replayed: { status: 409, message: 'This signed request was already seen.' },
  request_expired: { status: 401, message: 'The signed request is too old or too far in the future (check the clock).' },
  pin_required: { status: 403, message: 'This login needs the second factor (PIN).' },
  pin_wrong: { status: 403, message: 'Wrong PIN.' },
  rate_limited: { status: 429, message: 'Too many attempts; try again later.' },
  otp_disabled: { status: 403, message: 'Offline codes are not enabled on this server (ENABLE_OTP).' },
  otp_invalid: { status: 401, message: 'The offline code is wrong or expired.' },
  otp_locked: { status: 429, message: 'Too many wrong offline codes; try again later.' },
  push_rate_limited: { status: 429, message: 'A push was sent to this user a moment ago; try again later (see Retry-After).' },
  push_no_accounts: { status: 409, message: 'Nobody to push to: no active account.' },
  push_not_allowed: { status: 409, message: 'This session cannot be provoked (canprovoke is false).' },
  number_wrong: { status: 403, message: 'The wrong number was picked: the login is cancelled.' },
  return_url_not_allowed: { status: 403, message: 'The return URL is not one this server allows (setting returnUrls): nothing was approved.', userError: 52 },
  internal: { status: 500, message: 'Internal server error.', userError: 49 },
  unavailable: { status: 503, message: 'The service is unavailable.', userError: 49 },
  // Errors the SDK raises on the phone; they never come from the server.
  qr_parse_error: { status: 400, message: 'This QR code or link is not Tapin data.', userError: 32 },
  qr_unknown_type: { status: 400, message: 'This Tapin QR code is of an unknown type.', userError: 33 },
  no_accounts: { status: 404, message: 'This phone has no account at that server.', userError: 34 },
  server_auth_failed: { status: 502, message: 'The server could not be authenticated.', userError: 48 },
  server_error: { status: 502, message: 'The server answered with an error.', userError: 49 },
  server_timeout: { status: 504, message: 'The server did not answer in time.', userError: 50 },
  server_unknown: { status: 502, message: 'The server is unknown.', userError: 51 },
  server_not_allowed: { status: 403, message: 'The server does not allow this.', userError: 52 },
  connection_error: { status: 503, message: 'Could not connect to the server.', userError: 70 },
} as const satisfies Record<string, { status: number; message: string; userError?: number }>;

export type ErrorCode = keyof typeof ERRORS;

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERRORS, code);
}

/** Extra, non-secret facts an error may carry (e.g. PIN attempts left). */
export type ErrorDetails = Record<string, string | number | boolean>;

/** The error every Tapin package throws; `toJSON()` is the wire form `{error: {code, message, details?}}`. */
export class TapinError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: ErrorDetails | undefined;

  constructor(code: ErrorCode, message?: string, details?: ErrorDetails) {
    super(message ?? ERRORS[code].message);
    this.name = 'TapinError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.details = details;
  }

  /** The numeric code for the SDK's `UserErrorMessage`, when this error has one. */
  get userError(): number | undefined {
    const entry = ERRORS[this.code];
    return 'userError' in entry ? entry.userError : undefined;
  }

  toJSON(): ErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) } };
  }
}

export interface ErrorBody {
  error: { code: string; message: string; details?: ErrorDetails };
}
