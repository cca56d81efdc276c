// The load process: runs one scenario against a running Tapin server and prints one JSON line with its figures.
// Run by bench/run.mjs on its own CPU; see docs/PERFORMANCE.md.
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { deriveHsid, fromBase64url, generateOtp } from '@tapin/protocol';
import { BrowserPool, openSocket } from './lib/browsers.mjs';
import { cpuSecondsOf } from './lib/cpu.mjs';
import { ok, request } from './lib/http.mjs';
import { BenchPhone } from './lib/phone.mjs';
import { percentiles } from './lib/stats.mjs';

const { values: o } = parseArgs({
  options: {
    scenario: { type: 'string' }, url: { type: 'string' }, sid: { type: 'string' }, key: { type: 'string' },
    phones: { type: 'string', default: '64' }, concurrency: { type: 'string', default: '64' }, duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' }, rate: { type: 'string' }, sockets: { type: 'string' },
    watchers: { type: 'string', default: '50000' }, logins: { type: 'string', default: '1000' }, 'server-pid': { type: 'string' },
  },
});
const base = o.url;
const sid = o.sid;
const auth = { authorization: `Bearer ${o.key}` };
const log = (...a) => console.error(...a);
const nonce = () => randomBytes(24).toString('base64url');

async function enrolPhones(n) {
  const phones = [];
  for (let i = 0; i < n; i += 16) phones.push(...(await Promise.all(Array.from({ length: Math.min(16, n - i) }, (_, j) => BenchPhone.enrol(base, sid, o.key, '1234', `user${i + j}`)))));
  return phones;
}

/** One full QR login as the issue defines it; returns approve → LOGIN in ms. */
async function login(phone, browsers) {
  const n = nonce();
  const status = await ok(base, 'PUT', `/v1/servers/${sid}/session/context`, { json: { announceinfo: { info: { site: 'bench' } } }, headers: { ...auth, 'x-nonce': n } });
  const ws = await browsers.register(status.hsid, sid);
  const session = await phone.fetch(status.hsid);
  const loginFrame = browsers.waitFor('LOGIN', status.hsid);
  // If the answer fails, nobody awaits the frame: its later timeout must not end the process.
  loginFrame.catch(() => {});
  const t0 = performance.now();
  await phone.answer(session);
  const t1 = await loginFrame;
  ws.send(`LOGOUT ${status.hsid} ${sid}`);
  const after = await ok(base, 'GET', `/v1/servers/${sid}/session`, { headers: { ...auth, 'x-nonce': n } });
  if (!after.loggedin || after.accountid !== phone.accountid) throw new Error(`getSession after LOGIN: ${JSON.stringify(after)}`);
  return t1 - t0;
}

/** CPU seconds the server and this load process have used so far (see lib/cpu.mjs). */
function cpuSeconds() {
  return { server: o['server-pid'] ? cpuSecondsOf(o['server-pid']) : null, load: cpuSecondsOf('self') };
}

/** What the measured interval cost in CPU: the server's share of one core, and work done per server CPU-second. */
function cpuUsed(before, elapsedS, done) {
  const after = cpuSeconds();
  const server = before.server === null ? null : after.server - before.server;
  return {
    serverCpuShare: server === null ? null : Math.round((100 * server) / elapsedS) / 100,
    loadCpuShare: before.load === null ? null : Math.round((100 * (after.load - before.load)) / elapsedS) / 100,
    perServerCpuS: server ? Math.round(done / server) : null,
  };
}

async function closedLoop(fn, concurrency, warmupS, durationS) {
  let measuring = false;
  let stop = false;
  const latencies = [];
  let done = 0;
  let errors = 0;
  let sample;
  const worker = async (w) => {
    for (let i = 0; !stop; i++) {
      try {
        const ms = await fn(w, i);
        if (measuring) {
          latencies.push(ms);
          done++;
        }
      } catch (err) {
        if (measuring) errors++;
        sample ??= String(err);
      }
    }
  };
  const workers = Array.from({ length: concurrency }, (_, w) => worker(w));
  await new Promise((r) => setTimeout(r, warmupS * 1000));
  measuring = true;
  const start = performance.now();
  const cpu = cpuSeconds();
  await new Promise((r) => setTimeout(r, durationS * 1000));
  measuring = false;
  const elapsed = (performance.now() - start) / 1000;
  const used = cpuUsed(cpu, elapsed, done);
  stop = true;
  await Promise.all(workers);
  return { perS: Math.round(done / elapsed), done, errors, errorSample: sample, latencyMs: percentiles(latencies), ...used };
}

async function openLoop(fn, rate, warmupS, durationS) {
  const latencies = [];
  let errors = 0;
  let sample;
  const inflight = new Set();
  const total = Math.round(rate * (warmupS + durationS));
  const warm = Math.round(rate * warmupS);
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const p = fn(i % 1_000_000, i).then((ms) => { if (i >= warm) latencies.push(ms); }, (err) => { if (i >= warm) errors++; sample ??= String(err); });
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  }
  const sentIn = (performance.now() - start) / 1000;
  await Promise.all(inflight);
  return { rate, achievedRate: Math.round(total / sentIn), done: latencies.length, errors, errorSample: sample, latencyMs: percentiles(latencies) };
}

async function logins() {
  const phones = await enrolPhones(Number(o.phones));
  // A real page has a socket of its own; the pool shares a few, and the server allows 64 watches per socket. A closed
  // loop never has more than C logins in flight, but an open loop that the server cannot keep up with piles them up
  // (until the 30 s wait gives up), so it gets enough sockets that the sharing itself never meets that limit.
  const sockets = o.sockets ? Number(o.sockets) : o.rate ? Math.max(32, Math.ceil((Number(o.rate) * 30) / 64)) : 32;
  const browsers = await BrowserPool.open(base, sockets);
  const fn = (w, i) => login(phones[(w + i) % phones.length], browsers);
  const result = o.rate
    ? await openLoop(fn, Number(o.rate), Number(o.warmup), Number(o.duration))
    : await closedLoop(fn, Number(o.concurrency), Number(o.warmup), Number(o.duration));
  browsers.close();
  return result;
}

async function otp() {
  // Logins by offline code: each check is POST /session/otp with a valid code on a fresh session.
  await ok(base, 'PUT', `/v1/servers/${sid}`, { json: { serverFlags: ['ENABLE_OTP'] }, headers: auth });
  const phones = await enrolPhones(Number(o.phones));
  const fn = async (w, i) => {
    const phone = phones[(w + i) % phones.length];
    // A session springs into being on the first call that names its nonce, otpLogin included, so one request is
    // one check; the phone computes the hsid from the nonce as the page's QR code would carry it.
    const n = nonce();
    const code = generateOtp(fromBase64url(phone.otpkey), phone.otpref, sid, deriveHsid(sid, n), Date.now());
    const t0 = performance.now();
    const res = await request(base, 'POST', `/v1/servers/${sid}/session/otp`, { json: { otp: code }, headers: { ...auth, 'x-nonce': n } });
    if (res.status !== 200 || !res.data.otplogin) throw new Error(`otp → ${res.status} ${JSON.stringify(res.data)}`);
    return performance.now() - t0;
  };
  return closedLoop(fn, Number(o.concurrency), Number(o.warmup), Number(o.duration));
}

function rssMiB(pid) {
  return import('node:fs').then(({ readFileSync }) => Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024));
}

async function watchers() {
  const count = Number(o.watchers);
  const pid = o['server-pid'];
  const rssBefore = pid ? await rssMiB(pid) : null;
  const hsids = [];
  const t0 = performance.now();
  for (let i = 0; i < count; i += 256) {
    const batch = await Promise.all(Array.from({ length: Math.min(256, count - i) }, async () => {
      const n = nonce();
      const s = await ok(base, 'GET', `/v1/servers/${sid}/session`, { headers: { ...auth, 'x-nonce': n } });
      return { n, hsid: s.hsid };
    }));
    hsids.push(...batch);
  }
  log(`  ${count} sessions made in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  // One socket per watcher, as 50,000 browsers would have; source addresses spread over 127.0.0.0/8 so the
  // loopback's ephemeral ports do not run out.
  const sockets = [];
  const t1 = performance.now();
  for (let i = 0; i < count; i += 500) {
    const slice = hsids.slice(i, i + 500);
    const opened = await Promise.all(slice.map((s, j) => openSocket(base, `127.0.${1 + Math.floor((i + j) / 20000)}.${1 + ((i + j) % 200)}`)));
    await Promise.all(opened.map((ws, j) => new Promise((resolve) => {
      ws.once('message', resolve);
      ws.send(`REGISTER ${slice[j].hsid} ${sid}`);
    })));
    sockets.push(...opened);
  }
  log(`  ${count} sockets watching in ${((performance.now() - t1) / 1000).toFixed(1)} s`);
  await new Promise((r) => setTimeout(r, 2000));
  const rssIdle = pid ? await rssMiB(pid) : null;
  // Now log in `logins` of them and time delivery to their own socket.
  const phones = await enrolPhones(16);
  const latencies = [];
  const n = Math.min(Number(o.logins), count);
  let errors = 0;
  for (let i = 0; i < n; i += 10) {
    await Promise.all(Array.from({ length: Math.min(10, n - i) }, async (_, j) => {
      const k = i + j;
      try {
        const session = await phones[k % phones.length].fetch(hsids[k].hsid);
        const frame = new Promise((resolve) => {
          const onMsg = (d) => { if (String(d).startsWith('LOGIN')) { sockets[k].off('message', onMsg); resolve(performance.now()); } };
          sockets[k].on('message', onMsg);
        });
        const t = performance.now();
        await phones[k % phones.length].answer(session);
        latencies.push((await frame) - t);
      } catch {
        errors++;
      }
    }));
  }
  const rssAfter = pid ? await rssMiB(pid) : null;
  for (const ws of sockets) ws.terminate();
  return { watchers: count, rssBeforeMiB: rssBefore, rssIdleMiB: rssIdle, rssAfterLoginsMiB: rssAfter, logins: n, errors, deliveryMs: percentiles(latencies) };
}

const scenarios = { logins, otp, watchers };
const result = await scenarios[o.scenario]();
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
