import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionEvent } from './event-bus.js';
import { RedisEventBus } from './redis-event-bus.js';
import { RedisFailureLimiter } from './redis-failure-limiter.js';

/**
 * What Redis going away means for a running server: publishing and the failure limiter answer at once instead of
 * hanging requests, and when Redis is back the bus resubscribes and delivers across instances again. Runs on a
 * private redis-server of its own (the shared one is not ours to stop), when TAPIN_TEST_REDIS_URL says Redis is
 * part of this run and the redis-server binary is installed.
 */
const hasRedisServer = (() => {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const skip = !process.env['TAPIN_TEST_REDIS_URL'] || !hasRedisServer;
if (skip) console.warn('redis-outage.test.ts: skipped (needs TAPIN_TEST_REDIS_URL and the redis-server binary).');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'ignore'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('Ready to accept connections') && resolve());
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
  });
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

describe.skipIf(skip)('Redis outage', () => {
  let port: number;
  let redis: ChildProcess;
  beforeAll(async () => {
    port = await freePort();
    redis = await startRedis(port);
  });
  afterAll(async () => {
    if (redis) await stop(redis);
  });

  it('publish and the limiter answer at once while Redis is down; afterwards delivery across instances resumes', async () => {
    const url = `redis://127.0.0.1:${port}`;
    const warnings: string[] = [];
    const log = (level: 'warn' | 'info', message: string) => void (level === 'warn' && warnings.push(message));
    const a = await RedisEventBus.connect(url, { log });
    const b = await RedisEventBus.connect(url, { log });
    const limiter = new RedisFailureLimiter(a.commands, 'tapin:fail:ip:', { maxFailures: 3, windowMs: 60_000 }, log);
    try {
      const onA: SessionEvent[] = [];
      const onB: SessionEvent[] = [];
      a.subscribe('srv-1', 'hsid-1', (e) => void onA.push(e));
      b.subscribe('srv-1', 'hsid-1', (e) => void onB.push(e));
      await a.publish({ sid: 'srv-1', hsid: 'hsid-1', type: 'CONFIRMSCAN' });
      await expect.poll(() => onB.length).toBe(1);

      await stop(redis);
      let t = performance.now();
      await a.publish({ sid: 'srv-1', hsid: 'hsid-1', type: 'LOGIN' });
      const publishMs = performance.now() - t;
      expect(onA.map((e) => e.type)).toEqual(['CONFIRMSCAN', 'LOGIN']); // this process's watchers still hear it
      t = performance.now();
      await limiter.fail('198.51.100.1');
      expect(await limiter.blockedFor('198.51.100.1')).toBe(0); // lets through rather than refuse everyone
      const limiterMs = performance.now() - t;
      process.stdout.write(`[redis-outage] while Redis is down: publish ${publishMs.toFixed(0)} ms, limiter fail+check ${limiterMs.toFixed(0)} ms\n`);
      expect(publishMs).toBeLessThan(2000);
      expect(limiterMs).toBeLessThan(4000);
      expect(warnings.some((w) => w.includes('failure limits are not enforced'))).toBe(true);
      expect(warnings.some((w) => w.includes('connection lost'))).toBe(true);

      redis = await startRedis(port);
      // ioredis reconnects and resubscribes by itself; the next change of a watched session gets through.
      await expect.poll(async () => {
        await a.publish({ sid: 'srv-1', hsid: 'hsid-1', type: 'LOGOUT' });
        return onB.some((e) => e.type === 'LOGOUT');
      }, { timeout: 10_000, interval: 100 }).toBe(true);
      for (let i = 0; i < 3; i++) await limiter.fail('198.51.100.2');
      expect(await limiter.blockedFor('198.51.100.2')).toBeGreaterThan(0);
    } finally {
      await a.close();
      await b.close();
    }
  }, 30_000);
});
