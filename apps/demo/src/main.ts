#!/usr/bin/env node
import { startDemo } from './serve.js';

/**
 * tapin-demo: runs only the demo website against a Tapin server that is already running.
 * `npm start` (start.ts) runs both and needs no settings; this is for pointing the demo at your own server.
 */
const env = process.env;
const need = (name: string) => {
  const value = env[name];
  if (!value) {
    process.stderr.write(`tapin-demo: set ${name} (and TAPIN_URL, TAPIN_SID, TAPIN_API_KEY); or run \`npm start\`, which sets up everything.\n`);
    process.exit(1);
  }
  return value;
};

const demo = await startDemo({
  tapinUrl: need('TAPIN_URL'), sid: need('TAPIN_SID'), apiKey: need('TAPIN_API_KEY'),
  port: Number(env['DEMO_PORT'] ?? 8480), host: env['DEMO_HOST'] ?? '127.0.0.1', secure: env['DEMO_SECURE'] === '1',
});
process.stdout.write(`Tapin demo site at ${demo.url}\n`);
const stop = () => void demo.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
