import pg from 'pg';
import { type BusLog, type EventBus, type SessionEvent, type SessionListener, consoleBusLog, decodeEvent, encodeEvent, newOrigin } from './event-bus.js';
import { InProcessEventBus } from './in-process-event-bus.js';

export interface PostgresEventBusOptions {
  /** The NOTIFY channel (an SQL identifier); default `tapin_events`. Channels are per database, not per schema. */
  channel?: string;
  log?: BusLog;
  /** How often the listening connection proves it is alive (a silently dropped TCP connection emits nothing). */
  heartbeatMs?: number;
}

const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5_000;
const NOTIFY_POOL_SIZE = 4;

/**
 * The event bus over PostgreSQL LISTEN/NOTIFY, used when several instances share a PostgreSQL database and no Redis
 * is configured. One dedicated connection LISTENs on one channel for the whole deployment, and events are fanned
 * out locally by sid/hsid (why one channel, not one per session: see RedisEventBus; LISTEN per session would also
 * hold a catalogue lock per statement). NOTIFY goes through a small pool of its own, so a busy store pool cannot
 * hold events back. The payload is `[origin, type, sid, hsid]`, far below NOTIFY's 8000-byte limit.
 *
 * The listening connection is watched: when it errors, ends or misses a heartbeat, a new one is made with growing
 * back-off (0.1 s to 5 s) and LISTENs again. Notifications sent while it was down are lost to this instance (as with
 * Redis pub/sub); the state itself is in the database.
 */
export class PostgresEventBus implements EventBus {
  readonly kind = 'postgres' as const;
  readonly channel: string;
  /** This bus's id in payloads and in `application_name` (tapin-<origin>-listen / -notify) of its connections. */
  readonly origin = newOrigin();
  private readonly local = new InProcessEventBus();
  private readonly notifier: pg.Pool;
  private readonly log: BusLog;
  private readonly heartbeatMs: number;
  private listener: pg.Client | undefined;
  private reconnecting: Promise<void> | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  /** Ends the back-off wait early (on close). */
  private wake: (() => void) | undefined;
  private closed = false;
  /** How many times the listening connection was made anew (tests watch it). */
  reconnects = 0;

  private constructor(private readonly url: string, options: PostgresEventBusOptions) {
    this.channel = options.channel ?? 'tapin_events';
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(this.channel)) throw new Error('invalid NOTIFY channel name');
    this.log = options.log ?? consoleBusLog;
    this.heartbeatMs = options.heartbeatMs ?? 15_000;
    this.notifier = new pg.Pool({ connectionString: url, max: NOTIFY_POOL_SIZE, application_name: `tapin-${this.origin}-notify` });
    // An idle pooled connection that breaks emits 'error' on the pool; unheard, that would end the process.
    this.notifier.on('error', (err) => this.log('warn', 'PostgreSQL NOTIFY connection lost', err));
  }

  /** Connects the listening connection; rejects (having released everything) when the database cannot be reached. */
  static async connect(url: string, options: PostgresEventBusOptions = {}): Promise<PostgresEventBus> {
    const bus = new PostgresEventBus(url, options);
    try {
      await bus.listen();
    } catch (err) {
      await bus.close();
      throw err;
    }
    bus.heartbeat = setInterval(() => void bus.beat(), bus.heartbeatMs);
    bus.heartbeat.unref();
    return bus;
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url, application_name: `tapin-${this.origin}-listen`, keepAlive: true });
    client.on('notification', (msg) => {
      if (msg.channel !== this.channel || msg.payload === undefined) return;
      const decoded = decodeEvent(msg.payload);
      if (decoded && decoded.origin !== this.origin) this.local.deliver(decoded.event);
    });
    client.on('error', (err) => this.dropped(client, err));
    client.on('end', () => this.dropped(client));
    try {
      await client.connect();
      await client.query(`LISTEN "${this.channel}"`);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.listener = client;
  }

  /** The listening connection broke: make a new one, backing off while the database stays away. */
  private dropped(client: pg.Client, err?: unknown): void {
    if (this.closed || client !== this.listener || this.reconnecting) return;
    this.listener = undefined;
    client.end().catch(() => undefined);
    this.log('warn', 'PostgreSQL LISTEN connection lost; reconnecting', err);
    this.reconnecting = (async () => {
      for (let delay = RECONNECT_MIN_MS; !this.closed; delay = Math.min(delay * 2, RECONNECT_MAX_MS)) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        if (this.closed) return;
        try {
          await this.listen();
          this.reconnects++;
          this.log('info', 'PostgreSQL LISTEN connection restored');
          return;
        } catch {
          // Still down: try again later.
        }
      }
    })().finally(() => (this.reconnecting = undefined));
  }

  private async beat(): Promise<void> {
    const client = this.listener;
    if (!client || this.closed) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        client.query('SELECT 1'),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('heartbeat timed out')), Math.min(this.heartbeatMs, 10_000)))),
      ]);
    } catch (err) {
      this.dropped(client, err);
    } finally {
      clearTimeout(timer);
    }
  }

  async publish(event: SessionEvent): Promise<void> {
    if (this.closed) return;
    this.local.deliver(event);
    try {
      await this.notifier.query('SELECT pg_notify($1, $2)', [this.channel, encodeEvent(this.origin, event)]);
    } catch (err) {
      // The change is already stored; failing the request now would only make its caller believe it was not.
      this.log('warn', 'NOTIFY failed', err);
    }
  }

  subscribe(sid: string, hsid: string, listener: SessionListener): () => void {
    return this.local.subscribe(sid, hsid, listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    this.wake?.();
    await this.local.close();
    const listener = this.listener;
    this.listener = undefined;
    await Promise.all([listener?.end().catch(() => undefined), this.notifier.end().catch(() => undefined), this.reconnecting]);
  }
}
