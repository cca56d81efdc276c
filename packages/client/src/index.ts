/**
 * @tapin/client — typed calls to Tapin's business API, for business back-ends.
 * Wire types come from @tapin/protocol and are re-exported here so integrators need only this package.
 */
export { TapinClient } from './client.js';
export type { EnrolOptions, GetSessionOptions, ListAccountsOptions, ListUsersOptions, QrImageFormat, TapinClientOptions } from './client.js';
export type { EnrolData, LoginStatus, Page, QrData } from './types.js';
export { TapinApiError, codeForStatus } from './errors.js';
export type { ApiErrorCode, TapinApiErrorInit } from './errors.js';
export type { FetchLike } from './http.js';
// Re-exported so integrators make nonces with the entropy the server requires, and can check their own.
export { generateNonce, isValidNonce, ERRORS } from '@tapin/protocol';
export type {
  Account,
  ErrorCode,
  ErrorDetails,
  ServerSettings,
  ServerSettingsUpdate,
  SessionInfo,
  SessionState,
  User,
  UserContext,
} from '@tapin/protocol';
