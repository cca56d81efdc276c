// Starts a Tapin server process for one bench run: fresh SQLite file (or the given PostgreSQL/Redis), pinned to
// CPU 0 when taskset exists, with a high file-descriptor limit for the idle-watcher run.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

const root = resolve(import.meta.dirname, '../..');
export const hasTaskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0;

/**
 * Every run needs an empty database (its first virtual server and keys are made at start, sealed with that run's
 * master key). On PostgreSQL each run gets a schema of its own in the named database, dropped afterwards.
 */
async function freshSchema(url) {
  const { default: pg } = await import('pg');
  const schema = `tapin_bench_${process.pid}_${Date.now()}`;
  const admin = async (sql) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE SCHEMA ${schema}`);
  const scoped = new URL(url);
  scoped.searchParams.set('options', `-c search_path=${schema}`);
  return { url: scoped.toString(), drop: () => admin(`DROP SCHEMA ${schema} CASCADE`) };
}

export async function startTapin({ db, redis, cpu = '0', profileDir, entry = join(root, 'packages/server/bin/tapin.js') } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'tapin-bench-'));
  const pgSchema = db && /^postgres(ql)?:\/\//.test(db) ? await freshSchema(db) : undefined;
  if (pgSchema) db = pgSchema.url;
  // --cpu-prof writes a .cpuprofile when the server exits (SIGTERM ends it cleanly), for a flame graph.
  const node = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const args = [...node, entry, 'serve', '--port', '0', '--json', '--log-level', 'silent', '--db', db ?? join(dir, 'bench.db'), '--key-file', join(dir, 'tapin.key')];
  // A prefix of its own, so that nothing of other runs (or of tests sharing this Redis) is counted in.
  if (redis) args.push('--redis', redis, '--redis-prefix', `tapin-bench-${process.pid}-${Date.now()}:`);
  const pin = hasTaskset && cpu !== 'none' ? `exec taskset -c ${cpu} "$@"` : 'exec "$@"';
  const child = spawn('bash', ['-c', `ulimit -n "$(ulimit -Hn)" 2>/dev/null; ${pin}`, 'tapin', process.execPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const line = await new Promise((res, rej) => {
    createInterface({ input: child.stdout }).once('line', res);
    child.once('exit', (code) => rej(new Error(`tapin serve exited (${code}): ${stderr}`)));
  });
  const facts = JSON.parse(line);
  if (!facts.sid) throw new Error('the bench needs an empty database (serve prints the first sid and API key)');
  return {
    ...facts,
    pid: child.pid,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
      await pgSchema?.drop();
    },
  };
}

/** Runs bench/load.mjs on CPU 1 and returns its JSON line. */
export function runLoad(args, cpu = '1') {
  const load = join(root, 'bench/load.mjs');
  const cmd = hasTaskset && cpu !== 'none' ? ['taskset', ['-c', cpu, process.execPath, load, ...args]] : [process.execPath, [load, ...args]];
  return new Promise((resolvePromise, reject) => {
    const child = spawn('bash', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"', 'load', cmd[0], ...cmd[1]], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.once('exit', (code) => {
      const last = out.trim().split('\n').at(-1);
      if (code !== 0 || !last) return reject(new Error(`load ${args.join(' ')} exited ${code}`));
      resolvePromise(JSON.parse(last));
    });
  });
}

/** The most files a process may open here (the hard limit): each watcher is one socket on the server. */
export function maxOpenFiles() {
  const out = spawnSync('bash', ['-c', 'ulimit -Hn']).stdout?.toString().trim();
  return out === 'unlimited' ? Infinity : Number(out) || 1024;
}
