// The ceiling: how many P-256 signature verifications one core of this machine does per second, with the same
// call the server uses (node:crypto, IEEE P1363). Prints one JSON line: per second, and per CPU-second.
import { generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';

const seconds = Number(process.argv[2] ?? 3);
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const messages = Array.from({ length: 64 }, () => randomBytes(200));
const sigs = messages.map((m) => sign('sha256', m, { key: privateKey, dsaEncoding: 'ieee-p1363' }));
let n = 0;
const cpu0 = process.cpuUsage();
const end = performance.now() + seconds * 1000;
while (performance.now() < end) {
  for (let i = 0; i < 64; i++) if (!verify('sha256', messages[i], { key: publicKey, dsaEncoding: 'ieee-p1363' }, sigs[i])) throw new Error('bad');
  n += 64;
}
// Per CPU-second too, to set beside the server's figures, which are per server CPU-second.
const cpu = process.cpuUsage(cpu0);
process.stdout.write(`${JSON.stringify({ verifiesPerS: Math.round(n / seconds), verifiesPerCpuS: Math.round(n / ((cpu.user + cpu.system) / 1e6)) })}\n`);
