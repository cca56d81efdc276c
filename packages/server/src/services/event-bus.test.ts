import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventBus, SessionEvent } from './event-bus.js';
import { InProcessEventBus } from './in-process-event-bus.js';
import { PostgresEventBus } from './postgres-event-bus.js';
import { RedisEventBus } from './redis-event-bus.js';

/**
 * One suite for every EventBus (DESIGN §10): in-process always; Redis pub/sub when TAPIN_TEST_REDIS_URL is set;
 * PostgreSQL LISTEN/NOTIFY when TAPIN_TEST_POSTGRES_URL is set. The shared buses are tested as two instances on
 * one broker, as two server processes would use them. Each test gets its own channel, so runs cannot cross.
 */
const REDIS_URL = process.env['TAPIN_TEST_REDIS_URL'];
const PG_URL = process.env['TAPIN_TEST_POSTGRES_URL'];
if (!REDIS_URL) console.warn('event-bus.test.ts: the Redis bus suite is skipped. Set TAPIN_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379) to run it.');
if (!PG_URL) console.warn('event-bus.test.ts: the PostgreSQL bus suite is skipped. Set TAPIN_TEST_POSTGRES_URL (e.g. postgres://postgres@127.0.0.1:5432/test) to run it.');

interface Backend {
  name: string;
  skip: boolean;
  /** Whether two instances share events (all but the in-process bus). */
  shared: boolean;
  /** Opens `n` buses on one channel of their own. */
  open(n: number): Promise<EventBus[]>;
  /** The broker connections `bus` holds open right now. */
  connections?(bus: EventBus): Promise<number>;
  /** Breaks the connection the bus listens on, as a network fault or a broker restart would. */
  breakListener?(bus: EventBus): Promise<void>;
  /** Sends a raw message on the bus's channel, bypassing any bus. */
  raw?(bus: EventBus, message: string): Promise<void>;
}

const tag = () => randomBytes(5).toString('hex');

async function withRedis<T>(fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis(REDIS_URL!);
  try {
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

async function withPg<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

const backends: Backend[] = [
  {
    name: 'in-process',
    skip: false,
    shared: false,
    open: async (n) => Array.from({ length: n }, () => new InProcessEventBus()),
  },
  {
    name: 'Redis pub/sub',
    skip: !REDIS_URL,
    shared: true,
    open: async (n) => {
      const prefix = `tapin-test-${tag()}:`;
      return Promise.all(Array.from({ length: n }, () => RedisEventBus.connect(REDIS_URL!, { prefix, log: () => undefined })));
    },
    connections: (bus) =>
      withRedis(async (r) => {
        const list = (await r.call('CLIENT', 'LIST')) as string;
        return list.split('\n').filter((line) => line.includes(` name=tapin-${(bus as RedisEventBus).origin}-`)).length;
      }),
    breakListener: (bus) =>
      withRedis(async (r) => {
        // CLIENT KILL cannot filter by name; find the subscriber's id.
        const list = (await r.call('CLIENT', 'LIST')) as string;
        const line = list.split('\n').find((l) => l.includes(` name=tapin-${(bus as RedisEventBus).origin}-sub`));
        const id = /\bid=(\d+)/.exec(line ?? '')?.[1];
        if (!id) throw new Error('subscriber connection not found');
        await r.call('CLIENT', 'KILL', 'ID', id);
      }),
    raw: (bus, message) => withRedis(async (r) => void (await r.publish((bus as RedisEventBus).channel, message))),
  },
  {
    name: 'PostgreSQL LISTEN/NOTIFY',
    skip: !PG_URL,
    shared: true,
    open: async (n) => {
      const channel = `tapin_test_${tag()}`;
      return Promise.all(Array.from({ length: n }, () => PostgresEventBus.connect(PG_URL!, { channel, log: () => undefined })));
    },
    connections: (bus) =>
      withPg(async (c) => {
        const res = await c.query<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE application_name LIKE $1', [`tapin-${(bus as PostgresEventBus).origin}-%`]);
        return Number(res.rows[0]!.n);
      }),
    breakListener: (bus) =>
      withPg(async (c) => {
        const res = await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [`tapin-${(bus as PostgresEventBus).origin}-listen`]);
        if (res.rowCount !== 1) throw new Error('listening connection not found');
      }),
    raw: (bus, message) => withPg(async (c) => void (await c.query('SELECT pg_notify($1, $2)', [(bus as PostgresEventBus).channel, message]))),
  },
];

/** Collects what a listener hears, and waits for it. */
class Heard {
  readonly events: SessionEvent[] = [];
  readonly listener = (event: SessionEvent) => void this.events.push(event);

  async waitFor(count: number, timeoutMs = 3000): Promise<SessionEvent[]> {
    await eventually(() => expect(this.events.length).toBeGreaterThanOrEqual(count), timeoutMs);
    return this.events;
  }
}

async function eventually(check: () => void | Promise<void>, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

const ev = (type: SessionEvent['type'], hsid = 'hsid-aaaaaaaaaaaaaaaaaa', sid = 'srv-test-0001'): SessionEvent => ({ sid, hsid, type });

for (const backend of backends) {
  describe.skipIf(backend.skip)(`EventBus: ${backend.name}`, () => {
    let opened: EventBus[] = [];
    const open = async (n: number) => {
      const buses = await backend.open(n);
      opened.push(...buses);
      return buses;
    };
    afterEach(async () => {
      await Promise.all(opened.map((b) => b.close()));
      opened = [];
    });

    it('delivers a publish to the listeners of that sid/hsid in the same process, once, and to no one else', async () => {
      const [bus] = await open(1);
      const mine = new Heard();
      const twice = new Heard();
      const other = new Heard();
      bus!.subscribe('srv-test-0001', 'hsid-aaaaaaaaaaaaaaaaaa', mine.listener);
      bus!.subscribe('srv-test-0001', 'hsid-aaaaaaaaaaaaaaaaaa', twice.listener);
      bus!.subscribe('srv-test-0001', 'hsid-bbbbbbbbbbbbbbbbbb', other.listener);
      bus!.subscribe('srv-test-0002', 'hsid-aaaaaaaaaaaaaaaaaa', other.listener);
      await bus!.publish(ev('LOGIN'));
      // Local delivery does not wait for the broker: it has happened when publish resolves.
      expect(mine.events).toEqual([ev('LOGIN')]);
      expect(twice.events).toEqual([ev('LOGIN')]);
      // The broker's copy of our own message is not delivered a second time.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(mine.events).toHaveLength(1);
      expect(other.events).toEqual([]);
    });

    it('a listener that throws does not keep the event from the others', async () => {
      const [bus] = await open(1);
      const heard = new Heard();
      bus!.subscribe('srv-test-0001', 'hsid-aaaaaaaaaaaaaaaaaa', () => {
        throw new Error('broken watcher');
      });
      bus!.subscribe('srv-test-0001', 'hsid-aaaaaaaaaaaaaaaaaa', heard.listener);
      await bus!.publish(ev('CANCEL'));
      expect(heard.events).toEqual([ev('CANCEL')]);
    });

    it('unsubscribe stops delivery', async () => {
      const [bus] = await open(1);
      const heard = new Heard();
      const stop = bus!.subscribe('srv-test-0001', 'hsid-aaaaaaaaaaaaaaaaaa', heard.listener);
      await bus!.publish(ev('CONFIRMSCAN'));
      stop();
      stop(); // twice is harmless
      await bus!.publish(ev('LOGIN'));
      expect(heard.events).toEqual([ev('CONFIRMSCAN')]);
    });

    if (!backend.shared) return;

    it('a publish on bus A reaches a subscriber on bus B (two instances), in order', async () => {
      const [a, b] = await open(2);
      const onB = new Heard();
      const onA = new Heard();
      b!.subscribe('srv-test-0001', 'hsid-aaaaaaaaaaaaaaaaaa', onB.listener);
      a!.subscribe('srv-test-0001', 'hsid-aaaaaaaaaaaaaaaaaa', onA.listener);
      const types = ['CONFIRMSCAN', 'LOGIN', 'LOGOUT', 'CONFIRMPROVOKE', 'CANCEL', 'EXPIRED'] as const;
      for (const type of types) await a!.publish(ev(type));
      expect(await onB.waitFor(types.length)).toEqual(types.map((t) => ev(t)));
      // And the other way round; each side hears everything exactly once.
      await b!.publish(ev('NOACCOUNTS'));
      await onA.waitFor(types.length + 1);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(onA.events).toEqual([...types.map((t) => ev(t)), ev('NOACCOUNTS')]);
      expect(onB.events).toEqual([...types.map((t) => ev(t)), ev('NOACCOUNTS')]);
    });

    it('unsubscribe on B stops delivery from A', async () => {
      const [a, b] = await open(2);
      const heard = new Heard();
      const marker = new Heard();
      const stop = b!.subscribe('srv-test-0001', 'hsid-aaaaaaaaaaaaaaaaaa', heard.listener);
      b!.subscribe('srv-test-0001', 'hsid-mmmmmmmmmmmmmmmmmm', marker.listener);
      await a!.publish(ev('CONFIRMSCAN'));
      await heard.waitFor(1);
      stop();
      await a!.publish(ev('LOGIN'));
      // Messages arrive in order: once the marker published after LOGIN is in, LOGIN would have been too.
      await a!.publish(ev('LOGIN', 'hsid-mmmmmmmmmmmmmmmmmm'));
      await marker.waitFor(1);
      expect(heard.events).toEqual([ev('CONFIRMSCAN')]);
    });

    it('ignores messages on its channel that are not events', async () => {
      const [a, b] = await open(2);
      const heard = new Heard();
      b!.subscribe('srv-test-0001', 'hsid-aaaaaaaaaaaaaaaaaa', heard.listener);
      for (const junk of ['', 'LOGIN', '{}', '[1,2,3,4]', '["x","NOTATYPE","srv-test-0001","hsid-aaaaaaaaaaaaaaaaaa"]', '["x","LOGIN","srv-test-0001"]']) {
        await backend.raw!(b!, junk);
      }
      await a!.publish(ev('LOGIN'));
      await heard.waitFor(1);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(heard.events).toEqual([ev('LOGIN')]);
    });

    it('reconnects when the listening connection drops, and delivers again', async () => {
      const [a, b] = await open(2);
      const heard = new Heard();
      b!.subscribe('srv-test-0001', 'hsid-aaaaaaaaaaaaaaaaaa', heard.listener);
      await backend.breakListener!(b!);
      // Events published while B is reconnecting may be lost (pub/sub keeps nothing); keep publishing until one
      // gets through, as the next change of a watched session would.
      await eventually(async () => {
        await a!.publish(ev('LOGIN'));
        expect(heard.events.length).toBeGreaterThan(0);
      }, 10_000);
      await a!.publish(ev('LOGOUT'));
      await eventually(() => expect(heard.events.at(-1)).toEqual(ev('LOGOUT')));
    });

    it('close releases its connections and stops delivery; publishing after close is harmless', async () => {
      const [a, b] = await open(2);
      const heard = new Heard();
      b!.subscribe('srv-test-0001', 'hsid-aaaaaaaaaaaaaaaaaa', heard.listener);
      expect(await backend.connections!(b!)).toBeGreaterThanOrEqual(1);
      await a!.publish(ev('CONFIRMSCAN'));
      await heard.waitFor(1);
      await b!.close();
      await eventually(async () => expect(await backend.connections!(b!)).toBe(0));
      await a!.publish(ev('LOGIN'));
      await b!.publish(ev('LOGIN'));
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(heard.events).toEqual([ev('CONFIRMSCAN')]);
      await a!.close();
      await eventually(async () => expect(await backend.connections!(a!)).toBe(0));
      await a!.close(); // twice is harmless
    });
  });
}

describe.skipIf(!REDIS_URL && !PG_URL)('EventBus: a broker that cannot be reached', () => {
  it.skipIf(!REDIS_URL)('Redis: connect fails with the reason and leaves nothing running', async () => {
    await expect(RedisEventBus.connect('redis://127.0.0.1:1', { log: () => undefined })).rejects.toThrow(/cannot use Redis 127\.0\.0\.1:1: .*ECONNREFUSED/);
  });
  it.skipIf(!PG_URL)('PostgreSQL: connect fails and leaves nothing running', async () => {
    await expect(PostgresEventBus.connect('postgres://postgres@127.0.0.1:1/test', { log: () => undefined })).rejects.toThrow(/ECONNREFUSED/);
  });
});
