// node bench/http-floor.mjs [--seconds S] [--json] — the HTTP floor on this machine, with no Tapin code in it: a
// bare Fastify route that parses a small JSON body and answers a small JSON object, on one core (CPU 0 when
// taskset exists), driven from another process (CPU 1) by the bench's own keep-alive client (bench/lib/http.mjs),
// 64 in flight. The figure that counts is requests per server CPU-second: one client process cannot keep a bare
// route busy (on a 2-core machine it saturates its own core first), so requests per second alone would be the
// client's limit, not the server's. npm run bench runs this too, and sets it beside the signature ceiling.
import { spawn, spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { cpuSecondsOf } from './lib/cpu.mjs';
import { request } from './lib/http.mjs';
import { hasTaskset } from './lib/server.mjs';

const { values: o } = parseArgs({
  options: { seconds: { type: 'string', default: '5' }, role: { type: 'string' }, port: { type: 'string' }, 'server-pid': { type: 'string' }, json: { type: 'boolean', default: false } },
});
const seconds = Number(o.seconds);
const pinned = (cpu, args) => (hasTaskset ? ['taskset', ['-c', cpu, process.execPath, ...args]] : [process.execPath, args]);

if (o.role === 'server') {
  const { default: Fastify } = await import('fastify');
  const app = Fastify({ logger: false });
  app.post('/check', async (req) => ({ loggedin: true, accountid: 'acct', userid: null, otplogin: true, length: String(req.body?.otp ?? '').length }));
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  console.log(new URL(address).port);
} else if (o.role === 'load') {
  const base = `http://127.0.0.1:${o.port}`;
  let measuring = false;
  let done = 0;
  let stop = false;
  const workers = Array.from({ length: 64 }, async () => {
    while (!stop) {
      await request(base, 'POST', '/check', { json: { otp: 'ABCDEFGHJKMN' } });
      if (measuring) done++;
    }
  });
  await new Promise((r) => setTimeout(r, 1000)); // warm-up: connections open, the JIT settles
  const cpu0 = { server: cpuSecondsOf(o['server-pid']), load: cpuSecondsOf('self') };
  const t0 = performance.now();
  measuring = true;
  await new Promise((r) => setTimeout(r, seconds * 1000));
  measuring = false;
  const elapsed = (performance.now() - t0) / 1000;
  // Without /proc (or a server pid) there is no CPU time to read: say null rather than divide by nothing.
  const server = cpu0.server === null ? null : cpuSecondsOf(o['server-pid']) - cpu0.server;
  const load = cpu0.load === null ? null : cpuSecondsOf('self') - cpu0.load;
  stop = true;
  await Promise.all(workers);
  const share = (s) => (s === null ? null : Math.round((100 * s) / elapsed) / 100);
  console.log(JSON.stringify({ perS: Math.round(done / elapsed), perServerCpuS: server ? Math.round(done / server) : null, serverCpuShare: share(server), loadCpuShare: share(load) }));
  process.exit(0); // the shared keep-alive agent would hold the process open
} else {
  const [cmd, args] = pinned('0', [import.meta.filename, '--role=server']);
  const server = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve) => server.stdout.once('data', (d) => resolve(String(d).trim())));
  const [lcmd, largs] = pinned('1', [import.meta.filename, '--role=load', `--port=${port}`, `--seconds=${seconds}`, `--server-pid=${server.pid}`]);
  const load = spawnSync(lcmd, largs, { encoding: 'utf8' });
  server.kill();
  if (load.status !== 0) throw new Error(`load failed: ${load.stderr}`);
  const r = JSON.parse(load.stdout.trim());
  if (o.json) console.log(JSON.stringify(r));
  else if (r.perServerCpuS === null) console.log(`bare Fastify JSON route: ${r.perS} requests/s (no server CPU time to read here: that is the load's figure, not the server's)`);
  else {
    console.log(`bare Fastify JSON route: ${r.perS} requests/s with the server at ${Math.round(100 * r.serverCpuShare)} % of a core and the load at ${Math.round(100 * r.loadCpuShare)} % `
      + `(${hasTaskset ? 'server on CPU 0, load on CPU 1' : 'no taskset: not pinned'}) → ${r.perServerCpuS} requests per server CPU-second`);
  }
}
