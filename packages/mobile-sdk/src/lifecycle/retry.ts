import { TapinError } from '@tapin/protocol';
import { type BackoffPolicy, backoffDelay, sleep } from './backoff.js';
import type { TapinCallbacks } from './callbacks.js';
import { toUserError } from './errors.js';
import type { TapinSession } from './session.js';

/** Network trouble worth waiting out; anything else is an answer. */
export const TRANSIENT = new Set(['connection_error', 'server_timeout', 'unavailable']);

/** Thrown inside a run when the session ended meanwhile (the user took an offline code, cancelled, …). */
export class SessionEnded extends Error {}

export interface RetryPolicy {
  backoff: BackoffPolicy;
  random?: (() => number) | undefined;
  /** The session's connectionError is shown to the app through these. */
  cb: TapinCallbacks;
}

/**
 * Runs one network step of a session, retrying transient trouble with back-off until `backoff.maxAttempts`.
 * Throws SessionEnded when the session ended while the step ran, so its answer is not acted on.
 */
export async function retryTransient<T>(session: TapinSession, op: () => Promise<T>, policy: RetryPolicy): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    if (session.ended) throw new SessionEnded();
    try {
      const result = await op();
      if (session.ended) throw new SessionEnded();
      if (session.connectionError) {
        session.connectionError = false;
        policy.cb.SessionUpdate?.(session);
      }
      return result;
    } catch (err) {
      if (err instanceof SessionEnded || !(err instanceof TapinError) || !TRANSIENT.has(err.code)) throw err;
      if (!session.connectionError) {
        // Tell the user at once; then keep trying quietly.
        session.connectionError = true;
        policy.cb.UserErrorMessage?.(session, toUserError(err));
        policy.cb.SessionUpdate?.(session);
      }
      if (attempt + 1 >= policy.backoff.maxAttempts) throw err;
      await sleep(backoffDelay(policy.backoff, attempt, policy.random));
    }
  }
}
