import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
export const TAPIN_CLI = join(root, 'packages/server/bin/tapin.js');
export const DEVICE_CLI = join(root, 'packages/mobile-sdk/bin/tapin-device.js');

export interface ServerProcess {
  url: string;
  sid: string;
  apiKey: string;
  /** Everything the startup line said (publicUrl, database, eventBus, counters, …). */
  facts: Record<string, unknown>;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts a real `tapin serve` process on a free port and reads its startup line. `extraArgs` come after the
 * defaults, so they may also override them (`--port 8471`: the last one counts).
 */
export async function startServerProcess(db = ':memory:', extraEnv: Record<string, string> = {}, extraArgs: string[] = []): Promise<ServerProcess> {
  const child = spawn(process.execPath, [TAPIN_CLI, 'serve', '--db', db, '--port', '0', '--json', '--log-level', 'warn', ...extraArgs], {
    env: { ...process.env, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const line = await new Promise<string>((res, rej) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', res);
    child.once('exit', (code) => rej(new Error(`tapin serve exited with ${code}: ${stderr}`)));
  });
  const facts = JSON.parse(line) as { url: string; sid: string; apiKey: string };
  return {
    ...facts,
    facts: facts as unknown as Record<string, unknown>,
    child,
    stop: () =>
      new Promise<void>((res) => {
        if (child.exitCode !== null) return res();
        child.once('exit', () => res());
        child.kill('SIGTERM');
      }),
  };
}

export interface DeviceResult<T> {
  ok: boolean;
  json: T;
  error?: { code: string; message: string; details?: Record<string, unknown> };
}

/** Runs the real `tapin-device` CLI with --json and returns its answer or its error. */
export async function device<T = Record<string, unknown>>(home: string, ...args: string[]): Promise<DeviceResult<T>> {
  try {
    const { stdout } = await exec(process.execPath, [DEVICE_CLI, '--home', home, '--json', ...args]);
    return { ok: true, json: JSON.parse(stdout) as T };
  } catch (err) {
    const e = err as { stderr?: string };
    const parsed = JSON.parse(e.stderr ?? '{}') as { error: DeviceResult<T>['error'] };
    return { ok: false, json: undefined as T, ...(parsed.error ? { error: parsed.error } : {}) };
  }
}

export async function tempDir(prefix: string): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}
