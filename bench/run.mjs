// npm run bench — Tapin's figures, its ceiling, the HTTP floor and the better-auth peer, in one run. Prints a table and writes
// bench/results.json. Options: --db postgres://… --redis redis://… (default: a fresh SQLite file per run),
// --runs N (3), --duration S (10), --warmup S (3), --watchers N (50000), --quick (a smoke test for CI), --no-peer,
// --profile DIR (each server writes a --cpu-prof profile into DIR), --server FILE (another build's cli.js, to compare).
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { hasTaskset, maxOpenFiles, runLoad, startTapin } from './lib/server.mjs';
import { median } from './lib/stats.mjs';

const { values: o } = parseArgs({
  options: {
    db: { type: 'string' }, redis: { type: 'string' }, runs: { type: 'string', default: '3' }, duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' }, watchers: { type: 'string', default: '50000' }, quick: { type: 'boolean', default: false },
    'no-peer': { type: 'boolean', default: false }, out: { type: 'string' }, profile: { type: 'string' }, server: { type: 'string' },
    only: { type: 'string', default: 'logins,watchers,otp,ceiling,peer' },
  },
});
const here = import.meta.dirname;
const quick = o.quick;
const RUNS = quick ? 1 : Number(o.runs);
const DURATION = quick ? '2' : o.duration;
const WARMUP = quick ? '1' : o.warmup;
// Each watcher is a socket, i.e. a file descriptor, in the server and in the load process: the hard limit on open
// files caps how many one process can hold, whatever Tapin does.
const fdLimit = maxOpenFiles();
const WATCHERS = String(Math.min(Number(quick ? '500' : o.watchers), fdLimit - 1000));
const wantedWatchers = Number(quick ? '500' : o.watchers);
const log = (...a) => console.error(...a);
const only = new Set(o.only.split(','));
const results = { meta: { date: new Date().toISOString(), node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model, memGiB: Math.round(totalmem() / 2 ** 30), taskset: hasTaskset, db: o.db ?? 'SQLite (fresh file per run)', redis: o.redis ?? null, runs: RUNS, durationS: Number(DURATION), quick } };

/** One fresh server per run, as the peer does; returns the load's result. */
async function withServer(loadArgs) {
  const server = await startTapin({ db: o.db, redis: o.redis, profileDir: o.profile && resolve(o.profile), ...(o.server ? { entry: resolve(o.server) } : {}) });
  try {
    return await runLoad([`--url=${server.url}`, `--sid=${server.sid}`, `--key=${server.apiKey}`, `--server-pid=${server.pid}`, ...loadArgs]);
  } finally {
    await server.stop();
  }
}

async function repeat(name, loadArgs, pick) {
  const runs = [];
  for (let r = 1; r <= RUNS; r++) {
    const res = await withServer(loadArgs);
    res.load = loadAverage();
    runs.push(res);
    log(`  ${name} run ${r}: ${JSON.stringify(pick(res))}`);
  }
  return runs;
}

const med = (runs, f) => median(runs.map(f));
// Other work on the machine changes wall-clock figures; the 1-minute load average is recorded next to each run.
const loadAverage = () => Math.round(100 * loadavg()[0]) / 100;

// The same fixed CPU work at the start and at the end (section 4) shows whether the machine itself changed speed during
// the run (a VM's neighbours do that): figures from a run whose ceiling moved by more than a few % compare badly.
function measureCeiling() {
  const seconds = quick ? '1' : '3';
  const out = execFileSync(hasTaskset ? 'taskset' : process.execPath, hasTaskset ? ['-c', '0', process.execPath, join(here, 'ceiling.mjs'), seconds] : [join(here, 'ceiling.mjs'), seconds]);
  return JSON.parse(out.toString());
}
const ceilingAtStart = measureCeiling();

// 1. Full QR logins per second, at saturation (closed loop, C = 16 and 64, like the peer) and at a fixed 500/s.
const timing = [`--duration=${DURATION}`, `--warmup=${WARMUP}`];
if (only.has('logins')) {
log('1. full QR logins (setContext → WS REGISTER → phone fetch → approve with auth + PIN signatures → WS LOGIN → getSession)');
results.logins = {};
for (const c of quick ? [16] : [16, 64]) {
  const runs = await repeat(`C=${c}`, ['--scenario=logins', `--concurrency=${c}`, ...timing], (r) => ({ perS: r.perS, p99: r.latencyMs.p99, errors: r.errors, serverCpu: r.serverCpuShare, perServerCpuS: r.perServerCpuS, load: loadAverage() }));
  results.logins[`C${c}`] = { loginsPerS: med(runs, (r) => r.perS), perServerCpuS: med(runs, (r) => r.perServerCpuS ?? 0), serverCpuShare: med(runs, (r) => r.serverCpuShare ?? 0), approveToLoginMs: { p50: med(runs, (r) => r.latencyMs.p50), p95: med(runs, (r) => r.latencyMs.p95), p99: med(runs, (r) => r.latencyMs.p99) }, errors: med(runs, (r) => r.errors), runs };
}
const rate = quick ? 50 : 500;
const fixed = await repeat(`${rate}/s`, ['--scenario=logins', `--rate=${rate}`, ...timing], (r) => ({ achieved: r.achievedRate, p99: r.latencyMs.p99, errors: r.errors }));
results.logins[`rate${rate}`] = { rate, approveToLoginMs: { p50: med(fixed, (r) => r.latencyMs.p50), p95: med(fixed, (r) => r.latencyMs.p95), p99: med(fixed, (r) => r.latencyMs.p99) }, errors: med(fixed, (r) => r.errors), runs: fixed };
}

// 2. Idle watchers: N browser sockets each watching its own session on one server process.
let w;
if (only.has('watchers')) {
if (Number(WATCHERS) < wantedWatchers) log(`   (open-file hard limit here is ${fdLimit}: measuring ${WATCHERS} watchers instead of ${wantedWatchers})`);
log(`2. ${WATCHERS} idle watchers, then ${quick ? 100 : 1000} of them logged in`);
w = await withServer(['--scenario=watchers', `--watchers=${WATCHERS}`, `--logins=${quick ? 100 : 1000}`]);
results.watchers = { ...w, wanted: wantedWatchers, openFileLimit: fdLimit, rssPerWatcherKiB: w.rssIdleMiB && w.rssBeforeMiB ? Math.round(((w.rssIdleMiB - w.rssBeforeMiB) * 1024) / w.watchers) : null };
log(`  ${JSON.stringify(w)}`);
}

// 3. otpLogin checks per second (a valid code on a fresh session each time).
if (only.has('otp')) {
log('3. otpLogin checks');
const otpRuns = await repeat('otp C=64', ['--scenario=otp', '--concurrency=64', ...timing], (r) => ({ perS: r.perS, errors: r.errors, serverCpu: r.serverCpuShare, perServerCpuS: r.perServerCpuS, load: loadAverage() }));
results.otp = { checksPerS: med(otpRuns, (r) => r.perS), perServerCpuS: med(otpRuns, (r) => r.perServerCpuS ?? 0), serverCpuShare: med(otpRuns, (r) => r.serverCpuShare ?? 0), latencyMs: { p50: med(otpRuns, (r) => r.latencyMs.p50), p99: med(otpRuns, (r) => r.latencyMs.p99) }, runs: otpRuns };
}

// 4. The ceiling: P-256 verifications per second on one core; a login needs 3 (request, approval, PIN).
log('4. ceiling: P-256 verifications per second on one core');
const ceilingRuns = [];
for (let r = 0; r < RUNS; r++) ceilingRuns.push(measureCeiling());
const verifiesPerS = median(ceilingRuns.map((c) => c.verifiesPerS));
const drift = Math.round((1000 * (verifiesPerS - ceilingAtStart.verifiesPerS)) / ceilingAtStart.verifiesPerS) / 10;
results.machineDrift = { ceilingAtStart: ceilingAtStart.verifiesPerS, ceilingAtEnd: verifiesPerS, percent: drift };
const verifiesPerCpuS = median(ceilingRuns.map((c) => c.verifiesPerCpuS));
const best = Math.max(0, ...Object.values(results.logins ?? {}).map((l) => l.loginsPerS ?? 0));
results.ceiling = { verifiesPerS, verifiesPerCpuS, signaturesPerLogin: 3, loginCeilingPerS: Math.round(verifiesPerS / 3), tapinShare: Math.round((1000 * best) / (verifiesPerS / 3)) / 10 };

// 4b. The HTTP floor: a bare Fastify route, per server CPU-second (a single load process cannot saturate it, so
// requests per second would be the load's limit). With the signatures (per CPU-second too) it gives the floor of a
// login's server cost: 4 requests (setContext, fetch, answer, getSession) and 3 verifications; otpLogin is one
// request. The bare server runs at ~60 % of its core, where a request costs a little more than at saturation (fewer
// per event-loop turn), so the floor errs on the low side, and Tapin's share of it on the high side.
log('4b. HTTP floor: a bare Fastify route, requests per server CPU-second');
const floorRuns = [];
for (let r = 0; r < RUNS; r++) floorRuns.push(JSON.parse(execFileSync(process.execPath, [join(here, 'http-floor.mjs'), '--json', '--seconds', quick ? '1' : '3']).toString()));
const httpPerCpuS = median(floorRuns.map((f) => f.perServerCpuS).filter(Number.isFinite));
const loginFloorPerCpuS = Number.isFinite(httpPerCpuS) ? Math.round(1 / (4 / httpPerCpuS + 3 / verifiesPerCpuS)) : null;
const share = (x) => (x && loginFloorPerCpuS ? Math.round((1000 * x) / loginFloorPerCpuS) / 10 : null);
const bestPerCpuS = Math.max(0, ...Object.values(results.logins ?? {}).map((l) => l.perServerCpuS ?? 0));
results.floor = {
  httpPerServerCpuS: httpPerCpuS, loginFloorPerServerCpuS: loginFloorPerCpuS, tapinLoginShare: share(bestPerCpuS),
  tapinOtpShare: results.otp?.perServerCpuS && loginFloorPerCpuS ? Math.round((1000 * results.otp.perServerCpuS) / httpPerCpuS) / 10 : null, runs: floorRuns,
};

// 5. The peer: better-auth's device authorization on SQLite, with its own honest bench (same node:http load).
if (only.has('peer') && !o['no-peer'] && !quick) {
  log('5. peer: better-auth device authorization (../shared/peers/better-auth)');
  results.peer = runPeer();
  if (results.peer?.loginsPerS) results.peer.tapinOverPeer = Math.round((10 * best) / results.peer.loginsPerS) / 10;
}

function runPeer() {
  const source = resolve(here, '../../shared/peers/better-auth');
  if (!existsSync(source)) return { skipped: `no peer at ${source}` };
  const dir = join(here, '.peer');
  if (!existsSync(join(dir, 'node_modules/better-auth'))) {
    log('  installing the peer (npm ci, builds better-sqlite3 once)…');
    mkdirSync(dir, { recursive: true });
    for (const f of ['package.json', 'package-lock.json', 'server.mjs', 'bench.mjs']) cpSync(join(source, f), join(dir, f));
    const ci = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, stdio: 'inherit' });
    if (ci.status !== 0) return { skipped: 'npm ci failed for the peer' };
  }
  const outFile = join(dir, 'result.json');
  const args = [join(dir, 'bench.mjs'), '--concurrency', '16,64', '--runs', String(RUNS), '--duration', DURATION, '--warmup', WARMUP, '--out', outFile, '--quiet'];
  const run = spawnSync(hasTaskset ? 'taskset' : process.execPath, hasTaskset ? ['-c', '1', process.execPath, ...args] : args, { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  if (run.status !== 0) return { skipped: 'the peer bench failed' };
  const summary = JSON.parse(readFileSync(outFile, 'utf8')).summary;
  return { loginsPerS: Math.max(...summary.map((s) => s.loginsPerS)), summary };
}

const firstError = (runs) => runs.find((r) => r.errorSample)?.errorSample ?? 'none recorded';
const print = [
  '',
  `Tapin bench — ${results.meta.cpu} ×${results.meta.cpus}, Node ${process.version}, ${results.meta.db}${o.redis ? ' + Redis' : ''}; medians of ${RUNS} run(s) of ${DURATION} s`,
  ...Object.entries(results.logins ?? {}).map(([k, v]) => k.startsWith('C')
    ? `  full QR logins/s, closed loop ${k.padEnd(4)}: ${String(v.loginsPerS).padStart(6)}  (${v.perServerCpuS} per server CPU-second, server at ${Math.round(100 * v.serverCpuShare)} % of a core)   approve→LOGIN p50 ${v.approveToLoginMs.p50} ms  p95 ${v.approveToLoginMs.p95}  p99 ${v.approveToLoginMs.p99}  errors ${v.errors}`
    : Number.isFinite(v.approveToLoginMs.p50)
      ? `  fixed ${v.rate} logins/s                : approve→LOGIN p50 ${v.approveToLoginMs.p50} ms  p95 ${v.approveToLoginMs.p95}  p99 ${v.approveToLoginMs.p99}  errors ${v.errors}${v.errors ? ` (e.g. ${firstError(v.runs)})` : ''}`
      // Nothing completed: the server cannot take this rate, and the open loop's backlog failed every login.
      : `  fixed ${v.rate} logins/s                : not sustained — no login completed (errors ${v.errors}, e.g. ${firstError(v.runs)})`),
  ...(w ? [`  idle watchers: ${w.watchers} sockets, server RSS ${w.rssIdleMiB} MiB idle (${w.rssBeforeMiB} before, ${results.watchers.rssPerWatcherKiB} KiB per watcher), ${w.rssAfterLoginsMiB} MiB after ${w.logins} logins; delivery p50 ${w.deliveryMs.p50} ms p99 ${w.deliveryMs.p99} ms`] : []),
  ...(results.otp ? [`  otpLogin checks/s: ${results.otp.checksPerS}  (${results.otp.perServerCpuS} per server CPU-second, server at ${Math.round(100 * results.otp.serverCpuShare)} % of a core; p50 ${results.otp.latencyMs.p50} ms, p99 ${results.otp.latencyMs.p99} ms)`] : []),
  `  ceiling: ${verifiesPerS} P-256 verifications/s on one core → ${results.ceiling.loginCeilingPerS} logins/s at 3 per login${best ? `; Tapin reaches ${results.ceiling.tapinShare} % of it` : ''}`,
  `  machine drift: the ceiling was ${ceilingAtStart.verifiesPerS}/s at the start of the run and ${verifiesPerS}/s at the end (${drift > 0 ? '+' : ''}${drift} %)${Math.abs(drift) > 5 ? ': the machine changed speed during the run, so its figures compare badly with other runs' : ''}`,
  loginFloorPerCpuS === null ? '  HTTP floor: not measured (no server CPU time: /proc is missing)' : `  HTTP floor: ${httpPerCpuS} bare Fastify requests per server CPU-second → with the signatures, ${loginFloorPerCpuS} logins per server CPU-second at most${results.floor.tapinLoginShare ? `; Tapin does ${bestPerCpuS} (${results.floor.tapinLoginShare} %)` : ''}${results.floor.tapinOtpShare ? `, otpLogin ${results.otp.perServerCpuS} (${results.floor.tapinOtpShare} % of the bare route)` : ''}`,
  results.peer?.loginsPerS ? `  peer better-auth device authorization: ${results.peer.loginsPerS} logins/s → Tapin/peer = ${results.peer.tapinOverPeer}×` : `  peer: ${results.peer?.skipped ?? 'not run'}`,
];
console.log(print.join('\n'));
const out = o.out ?? join(here, 'results.json');
writeFileSync(out, `${JSON.stringify(results, null, 1)}\n`);
log(`wrote ${out}`);

// A bench that had failures measured something else than logins: say so with the exit code (CI runs --quick).
const failures = [...Object.values(results.logins ?? {}).map((l) => l.errors), results.watchers?.errors, results.otp && med(results.otp.runs, (r) => r.errors)]
  .filter((n) => typeof n === 'number' && n > 0);
if (failures.length) {
  log(`errors during the bench: ${failures.join(', ')}`);
  process.exitCode = 1;
}
