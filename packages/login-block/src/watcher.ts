import { type Progress, parseFrame, progressOfFrame, progressOfState } from './frames.js';

export interface WatchTarget {
  sid: string;
  hsid: string;
  /** The Tapin server's browser socket, `ws(s)://…/v1/ws`. */
  socketUrl: string | undefined;
  /**
   * The business site's long-poll endpoint (GET `?hsid=…&wait=25[&state=<last seen>]` → `{hsid, state}`: at once
   * when the state is not `state`, else when it changes or `wait` s pass), used when the socket fails.
   */
  statusUrl: string | undefined;
}

export type Transport = 'socket' | 'poll' | 'offline';

export interface WatcherEvents {
  /** `extra` is CONFIRMPROVOKE's fourth field: the number to match, when number matching is on. */
  progress(hsid: string, progress: Progress, extra?: string): void;
  /** An ERROR frame about the watched session (e.g. `session_not_found`). */
  error(hsid: string, code: string): void;
  transport(transport: Transport): void;
}

const CONNECT_TIMEOUT_MS = 5_000;
const POLL_WAIT_S = 25;
const MAX_BACKOFF_MS = 15_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Follows one session at a time: over the Tapin server's WebSocket (REGISTER; the server answers with the current
 * state at once, so a reconnect misses nothing), or — when the socket cannot connect at all, e.g. behind a proxy
 * that refuses upgrades — by long-polling the business site's status endpoint. A socket that worked and dropped is
 * reconnected with back-off before giving up on it.
 */
export class SessionWatcher {
  #target: WatchTarget | undefined;
  #socket: WebSocket | undefined;
  #mode: Transport | 'idle' = 'idle';
  #failures = 0;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #poll: AbortController | undefined;

  constructor(private readonly on: WatcherEvents) {}

  watch(target: WatchTarget): void {
    const previous = this.#target;
    this.#target = target;
    if (this.#mode === 'poll') return this.#startPolling();
    const socket = this.#socket;
    if (socket?.readyState === WebSocket.OPEN) {
      // Stop watching the old session before following the new one; the socket stays.
      if (previous && previous.hsid !== target.hsid) socket.send(`LOGOUT ${previous.hsid} ${previous.sid}`);
      socket.send(`REGISTER ${target.hsid} ${target.sid}`);
    } else if (!socket) {
      clearTimeout(this.#retry);
      this.#connect();
    }
  }

  stop(): void {
    this.#target = undefined;
    this.#mode = 'idle';
    clearTimeout(this.#retry);
    this.#poll?.abort();
    this.#poll = undefined;
    const socket = this.#socket;
    this.#socket = undefined;
    socket?.close();
  }

  #connect(): void {
    const target = this.#target;
    if (!target) return;
    if (!target.socketUrl) return this.#fallBack();
    let socket: WebSocket;
    try {
      socket = new WebSocket(target.socketUrl);
    } catch {
      return this.#fallBack();
    }
    this.#socket = socket;
    let opened = false;
    // A socket that never opens may end in close, in error alone, or (blocked by a page's CSP, in Chromium) in
    // nothing at all: whichever comes first counts, once.
    const lost = () => {
      clearTimeout(timer);
      document.removeEventListener('securitypolicyviolation', blocked);
      if (this.#socket !== socket) return;
      this.#socket = undefined;
      socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
      socket.close();
      if (!this.#target) return;
      this.#failures++;
      // Never connected: the socket is blocked here; long-poll instead. Connected once: try again, then give up.
      if ((!opened && this.#mode !== 'socket') || this.#failures > 3) return this.#fallBack();
      this.on.transport('offline');
      this.#retry = setTimeout(() => this.#connect(), Math.min(MAX_BACKOFF_MS, 500 * 2 ** this.#failures));
    };
    const timer = setTimeout(lost, CONNECT_TIMEOUT_MS);
    const blocked = (event: SecurityPolicyViolationEvent) => {
      if (!opened && event.blockedURI && socket.url.startsWith(event.blockedURI)) lost();
    };
    document.addEventListener('securitypolicyviolation', blocked);
    socket.onopen = () => {
      clearTimeout(timer);
      document.removeEventListener('securitypolicyviolation', blocked);
      opened = true;
      this.#failures = 0;
      this.#mode = 'socket';
      this.on.transport('socket');
      const current = this.#target;
      if (current) socket.send(`REGISTER ${current.hsid} ${current.sid}`);
    };
    socket.onmessage = (event) => {
      const frame = parseFrame(event.data);
      const current = this.#target;
      // Frames about a session this block no longer shows (it was renewed) are old news.
      if (!frame || !current || frame.hsid !== current.hsid) return;
      if (frame.type === 'ERROR') return this.on.error(frame.hsid, frame.code ?? 'unknown');
      const progress = progressOfFrame(frame.type);
      if (progress) this.on.progress(frame.hsid, progress, frame.code);
    };
    socket.onclose = lost;
    socket.onerror = () => {
      if (!opened) lost();
    };
  }

  #fallBack(): void {
    if (!this.#target?.statusUrl) {
      // Nothing to fall back to: keep trying the socket, slowly.
      this.#mode = 'offline';
      this.on.transport('offline');
      this.#retry = setTimeout(() => this.#connect(), MAX_BACKOFF_MS);
      return;
    }
    this.#mode = 'poll';
    this.on.transport('poll');
    this.#startPolling();
  }

  #startPolling(): void {
    this.#poll?.abort();
    const control = new AbortController();
    this.#poll = control;
    void this.#pollLoop(control.signal);
  }

  async #pollLoop(signal: AbortSignal): Promise<void> {
    let failures = 0;
    // The state last seen for `seenFor`: the endpoint answers at once when the session is elsewhere by now, and
    // long-polls only while it is still there, so a change between two polls is never missed.
    let seen: string | undefined;
    let seenFor: string | undefined;
    while (!signal.aborted) {
      const target = this.#target;
      if (!target?.statusUrl) return;
      if (seenFor !== target.hsid) seen = undefined;
      const started = Date.now();
      try {
        const url = new URL(target.statusUrl, document.baseURI);
        url.searchParams.set('hsid', target.hsid);
        url.searchParams.set('wait', String(POLL_WAIT_S));
        if (seen) url.searchParams.set('state', seen);
        const res = await fetch(url, { headers: { accept: 'application/json' }, signal });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const body = (await res.json()) as { hsid?: unknown; state?: unknown };
        failures = 0;
        if (signal.aborted || body.hsid !== this.#target?.hsid) continue;
        seen = String(body.state);
        seenFor = target.hsid;
        const progress = progressOfState(seen);
        if (progress) this.on.progress(target.hsid, progress);
      } catch {
        if (signal.aborted) return;
        failures++;
        await sleep(Math.min(MAX_BACKOFF_MS, 1000 * 2 ** failures));
        continue;
      }
      // An answer that came straight back (a finished session) must not turn into a busy loop.
      if (Date.now() - started < 1000) await sleep(1000);
    }
  }
}
