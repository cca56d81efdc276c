import type { LoginStatus as WireLoginStatus, SessionState } from '@tapin/protocol';

/**
 * Answer shapes of the business API that the client names itself.
 */

/**
 * A session's status, as getSession and the other session calls answer it. Same shape as the protocol's
 * LoginStatus; `state` is spelled out because the protocol's TypeBox union over `SESSION_STATES.map(…)` is
 * built from an array, not a tuple, so its static type collapses to `never`. Identical once that is fixed.
 */
export type LoginStatus = Omit<WireLoginStatus, 'state'> & { state: SessionState };

/** One page of a list; pass `marker` back to get the next page, `null` means this was the last. */
export interface Page<T> {
  items: T[];
  marker: string | null;
}

/** Login QR data: the URL to draw as a QR code, and the session's public handle. */
export interface QrData {
  data: string;
  hsid: string;
}

/** Enrol QR data: a one-use URL for an authenticator app to scan, and when it stops working (unix ms). */
export interface EnrolData {
  data: string;
  expires: number;
}
