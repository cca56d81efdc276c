// CPU seconds (user + system, all threads) a process has used so far, from /proc; null where /proc is missing.
// The machine is shared, so wall-clock throughput depends on what else runs; work per CPU-second of the server
// depends much less on it, and tells whether the server or the load was the bound.
import { readFileSync } from 'node:fs';

export function cpuSecondsOf(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}
