// node bench/profile-summary.mjs FILE.cpuprofile [--skip S] [--top N]: where a server profile (npm run bench --
// --profile DIR) spent its busy time — the top functions by self time and a share per library. --skip leaves out
// the first S seconds (start-up, phone enrolment). For the flame graph itself, open the file in Chrome DevTools
// (Performance → Load profile) or https://www.speedscope.app.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values: o, positionals } = parseArgs({ allowPositionals: true, options: { skip: { type: 'string', default: '0' }, top: { type: 'string', default: '30' } } });
const profile = JSON.parse(readFileSync(positionals[0], 'utf8'));
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const self = new Map();
const skipUs = Number(o.skip) * 1e6;
let elapsed = 0;
let total = 0;
profile.samples.forEach((id, i) => {
  const d = profile.timeDeltas[i] ?? 0;
  elapsed += d;
  if (elapsed < skipUs) return;
  self.set(id, (self.get(id) ?? 0) + d);
  total += d;
});

const where = (n) => n.callFrame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/packages\//, 'packages/');
const name = (n) => `${n.callFrame.functionName || '(anonymous)'} ${where(n)}${n.callFrame.url ? `:${n.callFrame.lineNumber + 1}` : ''}`;
const libraries = [['signature checks (node:crypto verify)', /^node:internal\/crypto\/sig/], ['SQLite (better-sqlite3 calls)', /group-commit-driver|better-sqlite3/], ['kysely', /kysely/], ['fastify & co', /fastify|find-my-way|avvio|ajv|fast-json-stringify/], ['ws', /\/ws\//], ['tapin', /packages\/(server|protocol)/], ['node', /^node:/]];
// Native frames (no URL) count towards the nearest JavaScript caller's library.
const libraryOf = (id) => {
  for (let n = nodes.get(id); n; n = nodes.get(parent.get(n.id))) {
    for (const [lib, re] of libraries) if (re.test(n.callFrame.url)) return lib;
  }
  return 'other (GC, program)';
};

const byName = new Map();
const byLibrary = new Map();
let idle = 0;
for (const [id, t] of self) {
  const n = nodes.get(id);
  if (n.callFrame.functionName === '(idle)') {
    idle += t;
    continue;
  }
  byName.set(name(n), (byName.get(name(n)) ?? 0) + t);
  const lib = libraryOf(id);
  byLibrary.set(lib, (byLibrary.get(lib) ?? 0) + t);
}
const busy = total - idle;
const pct = (t) => `${((100 * t) / busy).toFixed(1).padStart(5)} %`;
console.log(`${(total / 1e6).toFixed(1)} s profiled, busy ${(busy / 1e6).toFixed(1)} s (${Math.round((100 * busy) / total)} %); shares of busy time:`);
for (const [k, t] of [...byLibrary].sort((a, b) => b[1] - a[1])) console.log(`${pct(t)}  ${k}`);
console.log('top functions by self time:');
for (const [k, t] of [...byName].sort((a, b) => b[1] - a[1]).slice(0, Number(o.top))) console.log(`${pct(t)}  ${k}`);
