import type { HistoryStorage } from '../history.js';
import type { AccountStorage, Fetch, KeyStore } from '../platform.js';
import type { BackoffPolicy } from './backoff.js';
import type { TapinCallbacks } from './callbacks.js';
import type { WebSocketConstructor } from './device-socket.js';

export interface TapinSDKOptions {
  storage: AccountStorage & HistoryStorage;
  keys: KeyStore;
  fetch?: Fetch;
  callbacks?: TapinCallbacks;
  backoff?: Partial<BackoffPolicy>;
  /** How long history items are kept (default 90 days). */
  historyRetentionMs?: number;
  clientVersion?: string;
  timeoutMs?: number;
  now?: () => number;
  random?: () => number;
  pinIterations?: number;
  /** A WebSocket constructor for the device socket (`connect()`); default: the global one (browsers, Node ≥ 22). */
  WebSocket?: WebSocketConstructor;
}
