import type { EventBus, SessionEvent, SessionListener } from './event-bus.js';

/**
 * The bus of a single server process: listeners in a map keyed by sid/hsid. The shared buses use one of these for
 * the listeners of their own process.
 */
export class InProcessEventBus implements EventBus {
  readonly kind = 'in-process' as const;
  private readonly listeners = new Map<string, Set<SessionListener>>();

  async publish(event: SessionEvent): Promise<void> {
    this.deliver(event);
  }

  /** Synchronous delivery to this process's listeners. */
  deliver(event: SessionEvent): void {
    const set = this.listeners.get(`${event.sid}/${event.hsid}`);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(event);
      } catch {
        // One broken watcher must not stop delivery to the others.
      }
    }
  }

  subscribe(sid: string, hsid: string, listener: SessionListener): () => void {
    const key = `${sid}/${hsid}`;
    let set = this.listeners.get(key);
    if (!set) {
      set = new Set();
      this.listeners.set(key, set);
    }
    set.add(listener);
    return () => {
      const current = this.listeners.get(key);
      if (!current) return;
      current.delete(listener);
      if (current.size === 0) this.listeners.delete(key);
    };
  }

  /** How many sid/hsid keys have listeners (tests check that unsubscribing cleans up). */
  get size(): number {
    return this.listeners.size;
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }
}
