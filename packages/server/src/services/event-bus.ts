import type { ServerFrameType } from '@tapin/protocol';

export interface SessionEvent {
  sid: string;
  hsid: string;
  type: ServerFrameType;
}

export type SessionListener = (event: SessionEvent) => void;

/**
 * Fan-out of session changes to whoever watches them (browser sockets, long-polls). Behind an interface because
 * several instances need a shared bus (Redis or PostgreSQL LISTEN/NOTIFY); this in-process one is the default.
 */
export interface EventBus {
  publish(event: SessionEvent): Promise<void>;
  subscribe(sid: string, hsid: string, listener: SessionListener): () => void;
  close(): Promise<void>;
}

export class InProcessEventBus implements EventBus {
  private readonly listeners = new Map<string, Set<SessionListener>>();

  async publish(event: SessionEvent): Promise<void> {
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

  async close(): Promise<void> {
    this.listeners.clear();
  }
}
