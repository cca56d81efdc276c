#!/usr/bin/env node
import { execFile, spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { TapinApiError, TapinClient } from '@tapin/client';
import { startDemo } from './serve.js';

/**
 * `npm start`: the Tapin server on SQLite (./tapin.db), the demo website, and what to do next. On the first start
 * it creates a virtual server for the demo and keeps its sid and API key in ./tapin-demo.json (mode 0600), because
 * an API key is shown only once and the demo needs it on every start.
 */
interface DemoConfig {
  sid: string;
  apiKey: string;
  created: string;
}

const env = process.env;
const dir = resolve(env['TAPIN_DEMO_DIR'] ?? process.cwd());
const db = join(dir, 'tapin.db');
const configFile = join(dir, 'tapin-demo.json');
const host = env['TAPIN_HOST'] ?? '127.0.0.1';
const tapinPort = Number(env['TAPIN_PORT'] ?? 8470);
const demoPort = Number(env['DEMO_PORT'] ?? 8480);
const tapinBin = join(dirname(createRequire(import.meta.url).resolve('@tapin/server')), '..', 'bin', 'tapin.js');
/** A path as the person typing `npm start` can use it: relative below the working directory, else absolute. */
const shown = (path: string) => {
  const rel = relative(process.cwd(), path);
  return rel === '' ? '.' : rel.startsWith('..') ? path : `./${rel}`;
};

let stopping = false;

function die(message: string): never {
  process.stderr.write(`npm start: ${message}\n`);
  process.exit(1);
}

async function readConfig(): Promise<DemoConfig | undefined> {
  try {
    const parsed = JSON.parse(await readFile(configFile, 'utf8')) as Partial<DemoConfig>;
    if (typeof parsed.sid === 'string' && typeof parsed.apiKey === 'string') return parsed as DemoConfig;
    return die(`${shown(configFile)} is not a demo config; move it away and start again.`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** A virtual server of its own for the demo, made with the admin CLI (works on a new or an existing database). */
async function createConfig(): Promise<DemoConfig> {
  const { stdout } = await promisify(execFile)(process.execPath, [tapinBin, 'server', 'create', '--name', 'Tapin demo', '--db', db, '--json']);
  const created = JSON.parse(stdout) as { sid: string; apiKey: string };
  const config: DemoConfig = { sid: created.sid, apiKey: created.apiKey, created: new Date().toISOString() };
  // 0600 and never overwritten: the API key is a secret and cannot be shown again.
  await writeFile(configFile, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  return config;
}

async function startTapin(): Promise<{ url: string; publicUrl: string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [tapinBin, 'serve', '--db', db, '--host', host, '--port', String(tapinPort), '--json'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((ok, bad) => {
    createInterface({ input: child.stdout! }).once('line', ok);
    child.once('exit', (code) => bad(new Error(`tapin serve stopped (exit ${code}); is port ${tapinPort} free? (TAPIN_PORT=… picks another)`)));
  });
  // Ctrl-C reaches the whole process group: the server stopping then is expected, not a failure.
  child.once('exit', (code) => stopping || die(`the Tapin server stopped (exit ${code}).`));
  const facts = JSON.parse(line) as { url: string; publicUrl: string };
  return {
    url: facts.url,
    publicUrl: facts.publicUrl,
    stop: () => new Promise<void>((done) => {
      child.removeAllListeners('exit');
      child.once('exit', () => done());
      child.kill('SIGTERM');
    }),
  };
}

const existing = await readConfig();
const config = existing ?? (await createConfig());
const tapinServer = await startTapin().catch((err: unknown) => die(err instanceof Error ? err.message : String(err)));
const tapin = new TapinClient({ url: tapinServer.url, sid: config.sid, apiKey: config.apiKey });
const demo = await startDemo({ tapinUrl: tapinServer.url, sid: config.sid, apiKey: config.apiKey, port: demoPort, host }).catch(async (err: unknown) => {
  await tapinServer.stop();
  return die(`the demo site could not start: ${err instanceof Error ? err.message : String(err)} (DEMO_PORT=… picks another port)`);
});

try {
  const settings = await tapin.getSettings();
  // The authenticator app sends people back to the demo after an app-to-app login: the demo's URL must be allowed.
  const returnUrls = [...new Set([...settings.returnUrls, demo.url])];
  await tapin.updateSettings(existing
    ? { returnUrls }
    // First start: offline codes on, and the phone keeps a login alive with a ping every 30 s, so a logout reaches it.
    : { returnUrls, serverFlags: [...new Set([...settings.serverFlags, 'ENABLE_OTP'])], pingTime: 30 });
} catch (err) {
  await demo.close();
  await tapinServer.stop();
  if (err instanceof TapinApiError && (err.code === 'unauthorized' || err.code === 'wrong_server' || err.code === 'server_not_found')) {
    die(`${shown(configFile)} does not belong to ${shown(db)} (was the database replaced?). Move ${shown(configFile)} away and run npm start again.`);
  }
  throw err;
}

/** The installable authenticator app, served by the Tapin server at /app/ once it is built. */
const appUrl = `${tapinServer.publicUrl}/app/`;
const appServed = await fetch(appUrl).then((res) => res.ok, () => false);

const phone = 'npx tapin-device --home ./phone';
process.stdout.write(`
Tapin demo is running

  Demo website        ${demo.url}        <- open this in your browser
  Tapin server        ${tapinServer.url}        API docs: ${tapinServer.url}/docs
  Authenticator app   ${appUrl}${appServed ? '        (open it on your phone)' : '        (not built in this checkout yet: use tapin-device below)'}

  Virtual server "Tapin demo"
    sid       ${config.sid}
    API key   ${config.apiKey}
  (kept in ${shown(configFile)}, readable only by you; data in ${shown(db)}, secrets sealed with ${shown(join(dir, 'tapin.key'))}: back it up)

Enrol and log in with tapin-device, the command-line authenticator (in a second terminal):
  1. Sign up at ${demo.url}/signup and choose a username. The page shows an enrol QR code and, under
     "No Tapin app?", the command to run:
       ${phone} enrol '<enrol link>' --pin 1234
  2. Log in at ${demo.url}/login. Under the QR code, "Can't scan the code?" shows the login link:
       ${phone} login '<login link>' --pin 1234
     It keeps running to keep you logged in (Ctrl-C there logs you out). Or type your username under
     "Send a request to my phone" and answer the push with
       ${phone} listen --approve --once --pin 1234 --number <the number the page shows>
     Or, offline: ${phone} otp '<login link>'  and type the code under "Use an offline code".

Ctrl-C stops both servers.
`);

const stop = async () => {
  stopping = true;
  await demo.close();
  await tapinServer.stop();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
