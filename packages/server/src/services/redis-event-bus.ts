import { Redis, type RedisOptions } from 'ioredis';
import { type BusLog, type EventBus, type SessionEvent, type SessionListener, decodeEvent, encodeEvent, newOrigin, consoleBusLog } from './event-bus.js';
import { InProcessEventBus } from './in-process-event-bus.js';

export interface RedisEventBusOptions {
  /**
   * Put before the channel name (and the counters' keys), so that several deployments can share one Redis.
   * Default `tapin:`.
   */
  prefix?: string;
  log?: BusLog;
}

export const DEFAULT_REDIS_PREFIX = 'tapin:';

/** A Redis URL as logs may show it: scheme, host, port and database, never a password. */
export function describeRedisUrl(url: string): string {
  const u = new URL(url);
  return `Redis ${u.hostname}:${u.port || 6379}${u.pathname && u.pathname !== '/' ? u.pathname : ''}`;
}

/**
 * The event bus over Redis pub/sub, with two connections: `commands` publishes (and serves the shared counters,
 * see RedisFailureLimiter) and `subscriber` listens.
 *
 * One channel for the whole deployment (`<prefix>events`), fanned out locally by sid/hsid, rather than a Redis
 * channel per session:
 * - `subscribe()` must be effective the moment it returns (callers subscribe, then read the state, and count on
 *   hearing every later change). A per-session SUBSCRIBE takes a round trip to become effective, and an event
 *   published during it would be lost; the one channel is subscribed before the server takes its first request.
 * - Watches come and go with every page view and long-poll; per-session channels would cost a SUBSCRIBE and an
 *   UNSUBSCRIBE round trip each, while the one channel costs nothing per watch.
 * - The price is that every instance receives every event and drops those nobody watches locally. An event is
 *   about 80 bytes and a login makes a handful, so even thousands of logins a second are a few hundred kB/s per
 *   instance: cheap next to the HTTP traffic that caused them. (Were it ever not, the channel could be split
 *   into N shards by hash of the hsid without changing anything else.)
 *
 * A publish reaches this process's listeners at once, without the round trip; the subscriber then skips the
 * copy Redis sends back (each message names the bus it came from). Pub/sub does not store messages: what is
 * published while a subscriber is disconnected is lost to it (ioredis reconnects and resubscribes by itself).
 * The state is in the database, so that delays a page's notification, never a login.
 */
export class RedisEventBus implements EventBus {
  readonly kind = 'redis' as const;
  /** The command connection: publishes, and the counters use it too. Closed with the bus. */
  readonly commands: Redis;
  readonly prefix: string;
  readonly channel: string;
  /** This bus's id in messages and in the connections' names (`CLIENT LIST` shows tapin-<origin>-pub/-sub). */
  readonly origin = newOrigin();
  private readonly subscriber: Redis;
  private readonly local = new InProcessEventBus();
  private readonly log: BusLog;
  private closed = false;
  /** The last connection error (ioredis rejects a failed connect with a vague "Connection is closed"). */
  private lastError: unknown;

  private constructor(url: string, options: RedisEventBusOptions) {
    this.prefix = options.prefix ?? DEFAULT_REDIS_PREFIX;
    this.channel = `${this.prefix}events`;
    this.log = options.log ?? consoleBusLog;
    const common: RedisOptions = { lazyConnect: true };
    // While Redis is away a command waits for one reconnection attempt, then fails, so that nothing piles up (see
    // publish and RedisFailureLimiter: neither makes a request wait for Redis while it is known to be away).
    this.commands = new Redis(url, { ...common, maxRetriesPerRequest: 1, connectionName: `tapin-${this.origin}-pub` });
    this.subscriber = new Redis(url, { ...common, connectionName: `tapin-${this.origin}-sub` });
    this.watch(this.commands, 'publisher');
    this.watch(this.subscriber, 'subscriber');
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.channel) return;
      const decoded = decodeEvent(message);
      if (decoded && decoded.origin !== this.origin) this.local.deliver(decoded.event);
    });
  }

  /** Connects both connections and subscribes; rejects (having released everything) when Redis cannot be reached. */
  static async connect(url: string, options: RedisEventBusOptions = {}): Promise<RedisEventBus> {
    const bus = new RedisEventBus(url, options);
    try {
      await Promise.all([bus.commands.connect(), bus.subscriber.connect()]);
      await bus.subscriber.subscribe(bus.channel);
    } catch (err) {
      await bus.close();
      const cause = bus.lastError ?? err;
      throw new Error(`cannot use ${describeRedisUrl(url)}: ${cause instanceof Error ? cause.message : String(cause)}`);
    }
    return bus;
  }

  /** Reports a connection's trouble once per outage, not at every reconnection attempt (failing to connect at all is connect()'s to report). */
  private watch(client: Redis, name: string): void {
    let state: 'new' | 'up' | 'down' = 'new';
    // Without an 'error' listener ioredis prints every failed attempt itself.
    client.on('error', (err: unknown) => (this.lastError = err));
    client.on('close', () => {
      if (state !== 'up' || this.closed) return;
      state = 'down';
      this.log('warn', `Redis ${name} connection lost; reconnecting`, this.lastError);
    });
    client.on('ready', () => {
      if (state === 'down' && !this.closed) this.log('info', `Redis ${name} connection restored`);
      state = 'up';
    });
  }

  async publish(event: SessionEvent): Promise<void> {
    if (this.closed) return;
    this.local.deliver(event);
    // The change is already stored; failing the request now would only make its caller believe it was not.
    const sent = this.commands.publish(this.channel, encodeEvent(this.origin, event)).catch((err: unknown) => {
      this.log('warn', 'publish to Redis failed', err);
    });
    // While Redis is away the message waits for the next reconnection attempt; the request does not.
    if (this.commands.status === 'ready') await sent;
  }

  subscribe(sid: string, hsid: string, listener: SessionListener): () => void {
    return this.local.subscribe(sid, hsid, listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.local.close();
    await Promise.all([this.commands, this.subscriber].map(async (client) => {
      // QUIT lets queued commands finish; a connection that is down gets no answer, so it is not waited for long.
      if (client.status === 'ready') {
        await Promise.race([client.quit().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
      }
      client.disconnect();
    }));
  }
}
