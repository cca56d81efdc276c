import type { TapinSession } from './session.js';

/** The timers of continuous authentication: at most one ping pending per session, pingTime seconds ahead. */
export class PingLoop {
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private stopped = false;

  constructor(private readonly ping: (session: TapinSession) => Promise<void>) {}

  /** Replaces the session's pending ping, if any. */
  schedule(session: TapinSession): void {
    if (this.stopped) return;
    clearTimeout(this.timers.get(session.id));
    this.timers.set(session.id, setTimeout(() => void this.ping(session), session.pingTime * 1000));
  }

  cancel(session: TapinSession): void {
    clearTimeout(this.timers.get(session.id));
    this.timers.delete(session.id);
  }

  /** For good (the SDK is disposed): nothing is scheduled after this. */
  stop(): void {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
