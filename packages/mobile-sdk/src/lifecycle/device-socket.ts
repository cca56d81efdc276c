import { type PendingPush, TapinError, devicePaths, isErrorCode } from '@tapin/protocol';
import type { DeviceHttp } from '../device-http.js';
import type { AccountStorage, KeyStore, StoredAccount } from '../platform.js';
import { noteBlocked } from './account-state.js';
import { type BackoffPolicy, backoffDelay } from './backoff.js';
import type { TapinCallbacks } from './callbacks.js';
import { asTapinError, toUserError } from './errors.js';

/** The part of the standard WebSocket the SDK uses (browsers' and the `ws` package's both fit). */
export interface WebSocketLike {
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: unknown) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(): void;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

export interface DeviceSocketDeps {
  /** TapinSDKOptions' fields, spelled out because that type takes WebSocketConstructor from here. */
  options: { storage: AccountStorage; keys: KeyStore; random?: (() => number) | undefined; WebSocket?: WebSocketConstructor | undefined };
  http: DeviceHttp;
  backoff: BackoffPolicy;
  cb: TapinCallbacks;
  /** Once the SDK is disposed no socket opens or reconnects (dispose also calls the returned function). */
  disposed: () => boolean;
  receivePush: (account: StoredAccount, push: Pick<PendingPush, 'pushid' | 'sid' | 'hsid'>) => void;
}

/**
 * Opens one device socket per account on this phone (DESIGN §8); each push it hears goes to `receivePush`.
 * Returns a function that closes them all and cancels their pending reconnects; calling it again does nothing.
 */
export function connectDeviceSockets(deps: DeviceSocketDeps): () => void {
  const { options, http, cb } = deps;
  const Ctor = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (!Ctor) throw new TapinError('bad_request', 'No WebSocket here: pass the WebSocket option.');
  let stopped = false;
  const sockets = new Set<WebSocketLike>();
  const reconnects = new Set<ReturnType<typeof setTimeout>>();
  const open = (account: StoredAccount, attempt: number) => {
    if (stopped || deps.disposed()) return;
    const path = devicePaths.socket(account.sid);
    const ws = new Ctor(`${account.base.replace(/^http/, 'ws')}${path}`);
    sockets.add(ws);
    let ready = false;
    ws.onopen = () => {
      const send = (auth: unknown) => {
        // The socket may have closed while the signature was made; some socket classes throw on send then.
        try {
          ws.send(JSON.stringify(auth));
        } catch {
          ws.close();
        }
      };
      void http.signature(options.keys, account, 'GET', path).then(send, () => ws.close());
    };
    ws.onmessage = (event) => {
      let message: { type?: unknown; pushid?: unknown; sid?: unknown; hsid?: unknown };
      try {
        message = JSON.parse(String(event.data)) as typeof message;
      } catch {
        return;
      }
      if (message.type === 'ready') {
        ready = true;
        // The server let the account in, so it is not blocked (any more). Nobody to throw to here (see onclose).
        void noteBlocked(options.storage, cb, account, false).catch(() => undefined);
      }
      if (message.type === 'push' && typeof message.pushid === 'string' && typeof message.hsid === 'string' && message.sid === account.sid) {
        deps.receivePush(account, { pushid: message.pushid, sid: account.sid, hsid: message.hsid });
      }
    };
    ws.onerror = () => undefined;
    ws.onclose = (event) => {
      sockets.delete(ws);
      if (stopped || deps.disposed()) return;
      const { code, reason } = event as { code?: unknown; reason?: unknown };
      if (code === 1008) {
        // The server will not let this account in as it is (blocked, deleted, a key it does not accept):
        // reconnecting would only knock on the same door forever. Pull still reports it each time the app opens.
        const e = new TapinError(isErrorCode(reason) ? reason : 'server_auth_failed');
        // Recorded like any other refusal, so that the next answer for the account reports the unblock. A close
        // handler has nobody to throw to: AccountUpdate has fired already, and the next pull records it again.
        if (e.code === 'account_blocked') void noteBlocked(options.storage, cb, account, true).catch(() => undefined);
        cb.UserErrorMessage?.(undefined, toUserError(e));
        return;
      }
      const next = ready ? 0 : attempt + 1;
      const timer = setTimeout(() => {
        reconnects.delete(timer);
        open(account, next);
      }, backoffDelay(deps.backoff, next, options.random));
      reconnects.add(timer);
    };
  };
  // A storage that cannot list the accounts is the app's to hear of, not an unhandled rejection.
  void options.storage.list().then((accounts) => accounts.forEach((a) => open(a, 0)), (err: unknown) => cb.UserErrorMessage?.(undefined, toUserError(asTapinError(err))));
  return () => {
    stopped = true;
    // A pending reconnect would open nothing now, but its timer would still keep a Node process alive.
    for (const timer of reconnects) clearTimeout(timer);
    reconnects.clear();
    for (const ws of sockets) ws.close();
    sockets.clear();
  };
}
