import { createServer } from 'node:net';
import { TapinClient, generateNonce } from '@tapin/client';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetPhone } from '../support/net-phone.js';
import { type ServerProcess, device, startServerProcess, tempDir } from '../support/processes.js';
import { Watcher } from '../support/watcher.js';

/**
 * Scale-out (DESIGN §10) over real processes: two `tapin serve` instances, A and B, on one PostgreSQL database
 * (a fresh one per run, dropped afterwards) with the same master key, sharing events and failure counters through
 * Redis, and again through PostgreSQL alone (LISTEN/NOTIFY and the counters table). Both have A's address as
 * public URL, as instances behind one load balancer share one; where a step must reach the other instance, the
 * test sends it there, as the balancer might.
 *
 * The phones: `tapin-device` (the real CLI) was enrolled with an enrolment made at A, redeemed at B, so B is its
 * server; it is given login links from A's QR codes with their origin rewritten to B. `NetPhone` (a phone made of
 * @tapin/protocol) names the instance for every call, so it can fetch a challenge at one and answer at the other.
 */
const pgUrl = process.env['TAPIN_TEST_POSTGRES_URL'];
const redisUrl = process.env['TAPIN_TEST_REDIS_URL'];
if (!pgUrl) console.warn('[scale-out] TAPIN_TEST_POSTGRES_URL is not set: the scale-out runs are skipped (.ci/run sets it).');
else if (!redisUrl) console.warn('[scale-out] TAPIN_TEST_REDIS_URL is not set: the run with Redis is skipped (.ci/run sets it).');

const SECRET = 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8';
const OTHER_SECRET = 'HxwdHhscGRgXFhUUExIREA8ODQwLCgkIBwYFBAMCAQA';

const modes = [
  { name: 'PostgreSQL + Redis', skip: !pgUrl || !redisUrl, redis: true, bus: 'redis', counters: 'redis' },
  { name: 'PostgreSQL alone (LISTEN/NOTIFY, counters table)', skip: !pgUrl, redis: false, bus: 'postgres', counters: 'database' },
] as const;

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

async function freshDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `tapin_scale_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: pgUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(pgUrl!);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: pgUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** The same link at another instance: what a load balancer does when it sends the phone's request there. */
const at = (link: string, base: string) => {
  const u = new URL(link);
  return `${base}${u.pathname}${u.search}`;
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

for (const mode of modes) {
  describe.skipIf(mode.skip)(`Scale-out: two instances on ${mode.name}`, () => {
    let db: { url: string; drop(): Promise<void> };
    const prefix = `tapin-e2e-${process.pid}-${Date.now()}:`;
    let portA: number;
    let portB: number;
    let publicUrl: string;
    let a: ServerProcess;
    let b: ServerProcess;
    let baseA: string;
    let baseB: string;
    let clientA: TapinClient;
    let clientB: TapinClient;
    let sid: string;
    let home: { path: string; remove(): Promise<void> };
    let net: NetPhone;

    const start = (port: number, env: Record<string, string> = {}) =>
      startServerProcess(db.url, { TAPIN_SECRET_KEY: SECRET, TAPIN_REDIS_URL: '', ...env }, [
        '--port', String(port), '--public-url', publicUrl, '--trust-proxy',
        ...(mode.redis ? ['--redis', redisUrl!, '--redis-prefix', prefix] : []),
      ]);

    beforeAll(async () => {
      db = await freshDatabase();
      [portA, portB] = [await freePort(), await freePort()];
      publicUrl = `http://127.0.0.1:${portA}`;
      // One after the other: the first start on an empty database creates the virtual server.
      a = await start(portA);
      b = await start(portB);
      [baseA, baseB] = [a.url, b.url];
      sid = a.sid;
      clientA = new TapinClient({ url: baseA, sid, apiKey: a.apiKey });
      clientB = new TapinClient({ url: baseB, sid, apiKey: a.apiKey });

      home = await tempDir('tapin-scale-phone-');
      const enrolment = await clientA.enrol({ name: 'CLI phone', userid: 'alice' });
      expect(new URL(enrolment.data).origin).toBe(publicUrl);
      const enrolled = await device<{ accountid: string }>(home.path, 'enrol', at(enrolment.data, baseB), '--pin', '1234');
      expect(enrolled.error).toBeUndefined();

      net = await NetPhone.create(sid);
      await net.enrol(baseA, (await clientA.enrol({ name: 'Net phone', userid: 'bob' })).data);
    });

    afterAll(async () => {
      await a?.stop();
      await b?.stop();
      await home?.remove();
      await db?.drop();
      if (mode.redis) {
        const r = new Redis(redisUrl!);
        const keys = await r.keys(`${prefix}*`);
        if (keys.length) await r.del(...keys);
        r.disconnect();
      }
    });

    /** A session made through `client`, watched by a browser socket on `base`. */
    async function watchedSession(client: TapinClient, base: string) {
      const nonce = generateNonce();
      await client.setContext(nonce, { announceinfo: { info: { site: 'Scale-out shop' } } });
      const qr = await client.getQr(nonce);
      const watcher = await Watcher.connect(base);
      watcher.send(`REGISTER ${qr.hsid} ${sid}`);
      expect(await watcher.next('WAITING')).toBe(`WAITING ${qr.hsid} ${sid}`);
      return { nonce, qr, watcher };
    }

    it(`both instances share events and counters through ${mode.bus}`, () => {
      for (const p of [a, b]) expect(p.facts).toMatchObject({ eventBus: mode.bus, counters: mode.counters, publicUrl });
      expect(b.sid).toBeNull();
    });

    it('watched at A, approved at B with tapin-device: A hears CONFIRMSCAN and LOGIN, B and A agree it is logged in, a logout at B reaches A', async () => {
      const { nonce, qr, watcher } = await watchedSession(clientA, baseA);
      expect(new URL(qr.data).origin).toBe(publicUrl);
      const login = await device<{ state: string }>(home.path, 'login', at(qr.data, baseB), '--pin', '1234', '--once');
      expect(login.error).toBeUndefined();
      expect(login.json.state).toBe('loggedin');
      expect(await watcher.next('CONFIRMSCAN')).toBe(`CONFIRMSCAN ${qr.hsid} ${sid}`);
      expect(await watcher.next('LOGIN')).toBe(`LOGIN ${qr.hsid} ${sid}`);
      expect(await clientB.getSession(nonce)).toMatchObject({ loggedin: true, userid: 'alice', state: 'loggedin' });
      expect(await clientA.getSession(nonce)).toMatchObject({ loggedin: true, userid: 'alice', state: 'loggedin' });

      await clientB.logout(nonce);
      expect(await watcher.next('LOGOUT')).toBe(`LOGOUT ${qr.hsid} ${sid}`);
      watcher.close();
    });

    it('a long-poll (?wait=) at A returns as soon as B publishes', async () => {
      const nonce = generateNonce();
      const { hsid } = await clientA.getQr(nonce);
      let t = Date.now();
      const scanned = clientA.getSession(nonce, { wait: 15 });
      await new Promise((resolve) => setTimeout(resolve, 200)); // the poll is waiting at A
      const session = await net.fetch(baseB, hsid);
      expect((await scanned).state).toBe('scanned');
      expect(Date.now() - t).toBeLessThan(5_000);

      t = Date.now();
      const loggedIn = clientA.getSession(nonce, { wait: 15 });
      await new Promise((resolve) => setTimeout(resolve, 200));
      await net.answer(baseB, session);
      expect(await loggedIn).toMatchObject({ state: 'loggedin', loggedin: true, userid: 'bob' });
      expect(Date.now() - t).toBeLessThan(5_000);
    });

    it('a challenge issued by A is answered at B; watchers on both hear it', async () => {
      const { nonce, qr, watcher: onA } = await watchedSession(clientB, baseA);
      const onB = await Watcher.connect(baseB);
      onB.send(`REGISTER ${qr.hsid} ${sid}`);
      await onB.next('WAITING');
      const session = await net.fetch(baseA, qr.hsid);
      expect(session.announceinfo).toMatchObject({ info: { site: 'Scale-out shop' } });
      await onA.next('CONFIRMSCAN');
      await onB.next('CONFIRMSCAN');
      expect(await net.answer(baseB, session)).toMatchObject({ state: 'loggedin' });
      expect(await onA.next('LOGIN')).toBe(`LOGIN ${qr.hsid} ${sid}`);
      expect(await onB.next('LOGIN')).toBe(`LOGIN ${qr.hsid} ${sid}`);
      // The challenge was one-time for both instances.
      await expect(net.answer(baseA, session)).rejects.toMatchObject({ code: 'challenge_replayed' });
      expect((await clientA.getSession(nonce)).loggedin).toBe(true);
      onA.close();
      onB.close();
    });

    it('a push provoked at A reaches the phone\'s device socket on B', async () => {
      const socket = await net.deviceSocket(baseB);
      try {
        const nonce = generateNonce();
        const { hsid } = await clientA.getQr(nonce);
        await clientA.provokeAccountLogin(nonce, net.accountid);
        await expect.poll(() => socket.pushes.map((p) => p.hsid), { timeout: 5000 }).toEqual([hsid]);
      } finally {
        socket.close();
      }
    });

    it('LOGIN from B reaches a watcher on A about as fast as one on B (latency measured)', async () => {
      const cross: number[] = [];
      const local: number[] = [];
      for (let i = 0; i < 15; i++) {
        const { qr, watcher: onA } = await watchedSession(clientA, baseA);
        const onB = await Watcher.connect(baseB);
        onB.send(`REGISTER ${qr.hsid} ${sid}`);
        await onB.next('WAITING');
        const session = await net.fetch(baseB, qr.hsid);
        await onA.next('CONFIRMSCAN');
        await onB.next('CONFIRMSCAN');
        // From the moment the answer leaves the phone to the moment each page has its LOGIN frame.
        const sent = performance.now();
        const arrivals = Promise.all([onA, onB].map((w) => w.next('LOGIN').then(() => performance.now() - sent)));
        await net.answer(baseB, session);
        const [viaBroker, inProcess] = await arrivals;
        cross.push(viaBroker!);
        local.push(inProcess!);
        onA.close();
        onB.close();
      }
      const fmt = (xs: number[]) => `median ${median(xs).toFixed(1)} ms, max ${Math.max(...xs).toFixed(1)} ms`;
      const hop = cross.map((x, i) => x - local[i]!);
      process.stdout.write(
        `[scale-out ${mode.bus}] answer sent to B → LOGIN at a watcher on A: ${fmt(cross)}; on B itself: ${fmt(local)}; ` +
          `the broker's extra hop: median ${median(hop).toFixed(2)} ms (${cross.length} logins)\n`,
      );
      expect(Math.max(...cross)).toBeLessThan(1000);
    });

    it('the failure limiter is shared: bad API keys at A count at B (B refuses from its next failure on)', async () => {
      const ip = '203.0.113.77';
      const bad = (base: string, from = ip) =>
        fetch(`${base}/v1/servers/${sid}/session`, { headers: { authorization: 'Bearer tapin.AAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'x-nonce': generateNonce(), 'x-forwarded-for': from } });
      // 30 failures, 15 at each instance; the 30th, at A, reaches the limit counted over both.
      for (let i = 0; i < 30; i++) expect((await bad(i % 2 ? baseA : baseB)).status).toBe(401);
      const limitedAtA = await bad(baseA);
      expect(limitedAtA.status).toBe(429);
      expect(Number(limitedAtA.headers.get('retry-after'))).toBeGreaterThan(0);
      // B learns of the block from the answer to its next failure (RememberedBlocks): one more attempt there, then
      // refused. Had B counted only its own 15 failures, it would take 15 more.
      expect((await bad(baseB)).status).toBe(401);
      const limitedAtB = await bad(baseB);
      expect(limitedAtB.status).toBe(429);
      expect(Number(limitedAtB.headers.get('retry-after'))).toBeGreaterThan(0);
      // Even the right key is refused from that IP, at either instance; other IPs are not affected.
      const good = (base: string, from: string) => fetch(`${base}/v1/servers/${sid}/session`, { headers: { authorization: `Bearer ${a.apiKey}`, 'x-nonce': generateNonce(), 'x-forwarded-for': from } });
      expect((await good(baseB, ip)).status).toBe(429);
      expect((await good(baseB, '203.0.113.78')).status).toBe(200);
    });

    it('killing A mid-flow loses no login, and a restart loses no session, account or pending login', async () => {
      const first = await watchedSession(clientB, baseB);
      const second = await watchedSession(clientB, baseB);
      const done = await watchedSession(clientB, baseB);
      await net.answer(baseB, await net.fetch(baseB, done.qr.hsid));
      await done.watcher.next('LOGIN');
      // The phone fetched both at A, which then dies without a goodbye.
      const firstSession = await net.fetch(baseA, first.qr.hsid);
      const secondSession = await net.fetch(baseA, second.qr.hsid);
      a.child.kill('SIGKILL');
      await new Promise((resolve) => (a.child.exitCode !== null ? resolve(undefined) : a.child.once('exit', resolve)));

      // The phone's next request lands on B, which knows the challenge A issued.
      expect(await net.answer(baseB, firstSession)).toMatchObject({ state: 'loggedin' });
      expect(await first.watcher.next('LOGIN')).toBe(`LOGIN ${first.qr.hsid} ${sid}`);
      expect(await clientB.getSession(first.nonce)).toMatchObject({ loggedin: true, userid: 'bob' });

      // A comes back on the same address; everything is still there, and the pending login can be finished at A.
      a = await start(portA);
      expect(a.sid).toBeNull();
      expect(await clientA.getSession(done.nonce)).toMatchObject({ loggedin: true, userid: 'bob' });
      expect(await clientA.getSession(first.nonce)).toMatchObject({ loggedin: true });
      expect(await clientA.getSession(second.nonce)).toMatchObject({ state: 'scanned' });
      expect(await clientA.getAccount(net.accountid)).toMatchObject({ userid: 'bob', blocked: false });
      expect((await clientA.getUser('alice')).accounts).toBe(1);
      expect(await net.answer(baseA, secondSession)).toMatchObject({ state: 'loggedin' });
      expect(await second.watcher.next('LOGIN')).toBe(`LOGIN ${second.qr.hsid} ${sid}`);
      for (const w of [first, second, done]) w.watcher.close();
    });

    it('PostgreSQL dropping every connection of both instances costs nothing: they reconnect and deliver across again', async () => {
      const admin = new pg.Client({ connectionString: db.url });
      await admin.connect();
      try {
        const killed = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
        expect(killed.rowCount).toBeGreaterThan(0);
        if (mode.bus === 'postgres') {
          // Each instance LISTENs again on a new connection of its own.
          await expect.poll(async () => (await admin.query("SELECT 1 FROM pg_stat_activity WHERE application_name LIKE 'tapin-%-listen'")).rowCount, { timeout: 10_000 }).toBe(2);
        }
      } finally {
        await admin.end();
      }
      for (const p of [a, b]) expect(p.child.exitCode).toBeNull();
      const { nonce, qr, watcher } = await watchedSession(clientB, baseA);
      await net.answer(baseB, await net.fetch(baseB, qr.hsid));
      expect(await watcher.next('LOGIN')).toBe(`LOGIN ${qr.hsid} ${sid}`);
      expect((await clientA.getSession(nonce)).loggedin).toBe(true);
      watcher.close();
    });

    it('an instance with another master key refuses to start on the database', async () => {
      await expect(start(await freePort(), { TAPIN_SECRET_KEY: OTHER_SECRET })).rejects.toThrow(/same key/);
    });
  });
}
