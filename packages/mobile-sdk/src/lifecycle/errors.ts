import { TapinError } from '@tapin/protocol';
import type { UserError } from './callbacks.js';

/** Whatever a step threw, as the TapinError the app is told about and the history records. */
export const asTapinError = (err: unknown): TapinError =>
  err instanceof TapinError ? err : new TapinError('server_error', err instanceof Error ? err.message : String(err));

/** An error as UserErrorMessage carries it: errors without a platform code of their own get 49. */
export const toUserError = (e: TapinError): UserError => ({ errorCode: e.userError ?? 49, code: e.code, message: e.message });
