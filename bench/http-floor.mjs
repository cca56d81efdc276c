// node bench/http-floor.mjs [--seconds S] — the HTTP floor on this machine, with no Tapin code in it: a bare Fastify
// route that parses a small JSON body and answers a small JSON object, on one core (CPU 0 when taskset exists),
// driven from another process (CPU 1) by the bench's own keep-alive client (bench/lib/http.mjs), 64 in flight.
// Prints requests per second; docs/PERFORMANCE.md sets it beside the login and otpLogin figures.
import { spawn, spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { request } from './lib/http.mjs';
import { hasTaskset } from './lib/server.mjs';

const { values: o } = parseArgs({ options: { seconds: { type: 'string', default: '5' }, role: { type: 'string' }, port: { type: 'string' } } });
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
  const measureFrom = Date.now() + 1000;
  const end = measureFrom + seconds * 1000;
  let done = 0;
  await Promise.all(Array.from({ length: 64 }, async () => {
    while (Date.now() < end) {
      await request(base, 'POST', '/check', { json: { otp: 'ABCDEFGHJKMN' } });
      if (Date.now() > measureFrom) done++;
    }
  }));
  console.log(Math.round(done / seconds));
  process.exit(0); // the shared keep-alive agent would hold the process open
} else {
  const [cmd, args] = pinned('0', [import.meta.filename, '--role=server']);
  const server = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve) => server.stdout.once('data', (d) => resolve(String(d).trim())));
  const [lcmd, largs] = pinned('1', [import.meta.filename, '--role=load', `--port=${port}`, `--seconds=${seconds}`]);
  const load = spawnSync(lcmd, largs, { encoding: 'utf8' });
  server.kill();
  if (load.status !== 0) throw new Error(`load failed: ${load.stderr}`);
  console.log(`bare Fastify JSON route, one core: ${load.stdout.trim()} requests/s (${hasTaskset ? 'server on CPU 0, load on CPU 1' : 'no taskset: not pinned'})`);
}
