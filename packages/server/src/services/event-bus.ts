import { SERVER_FRAMES, type ServerFrameType, randomId } from '@tapin/protocol';

export interface SessionEvent {
  sid: string;
  hsid: string;
  type: ServerFrameType;
}

export type SessionListener = (event: SessionEvent) => void;

/**
 * Fan-out of session changes to whoever watches them (browser sockets, long-polls, device sockets). Three
 * implementations (DESIGN §10): in-process (one server process; the default), Redis pub/sub and PostgreSQL
 * LISTEN/NOTIFY (several processes on one database). The shared ones deliver a publish to this process's own
 * listeners at once and to every other process through the broker.
 *
 * Events say only that something happened; the state lives in the database, and whoever hears an event reads it
 * there. So a broker hiccup can delay or drop a notification, never lose a login.
 */
export interface EventBus {
  /** What kind of bus, for logs and startup facts: `in-process`, `redis` or `postgres`. */
  readonly kind: 'in-process' | 'redis' | 'postgres';
  /** Delivers `event` to the listeners of its sid/hsid in this process and, for a shared bus, in every other. */
  publish(event: SessionEvent): Promise<void>;
  /**
   * Listens to one sid/hsid; returns the unsubscribe function. Effective at once: an event published anywhere
   * after `subscribe` returns reaches the listener (for a shared bus: once the bus is connected, which the
   * factories wait for), so "subscribe, then read the state" never misses a change.
   */
  subscribe(sid: string, hsid: string, listener: SessionListener): () => void;
  /** Stops delivery and releases every connection the bus holds. */
  close(): Promise<void>;
}

/** Tells of what happens in the background: a broker connection lost (`warn`) or back (`info`), a failed publish. */
export type BusLog = (level: 'warn' | 'info', message: string, err?: unknown) => void;

export const consoleBusLog: BusLog = (level, message, err) => {
  if (level === 'warn') console.warn(`tapin event bus: ${message}${err === undefined ? '' : `: ${err instanceof Error ? err.message : String(err)}`}`);
};

const FRAME_TYPES: ReadonlySet<string> = new Set(SERVER_FRAMES);

/** A random id per bus instance, carried in every message so that a process skips what it published itself. */
export const newOrigin = (): string => randomId(12);

/** The broker message: `[origin, type, sid, hsid]` as JSON, well under PostgreSQL's 8000-byte NOTIFY limit. */
export function encodeEvent(origin: string, event: SessionEvent): string {
  return JSON.stringify([origin, event.type, event.sid, event.hsid]);
}

/** Reads a broker message; undefined for anything that is not one (the broker is shared, so be strict). */
export function decodeEvent(text: string): { origin: string; event: SessionEvent } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed) || parsed.length !== 4 || !parsed.every((p) => typeof p === 'string' && p.length <= 256)) return undefined;
  const [origin, type, sid, hsid] = parsed as [string, string, string, string];
  if (!FRAME_TYPES.has(type)) return undefined;
  return { origin, event: { type: type as ServerFrameType, sid, hsid } };
}
