import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type JsQr from 'jsqr';
import { join, resolve } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { PNG } from 'pngjs';

// jsqr is CommonJS whose module.exports is the function itself (its typings describe an ES default export).
const jsQR = createRequire(import.meta.url)('jsqr') as typeof JsQr.default;
const root = resolve(import.meta.dirname, '../..');
/** What `npm start` runs. */
export const START_SCRIPT = join(root, 'apps/demo/dist/start.js');
export const SHOTS = join(root, 'test-results/screenshots');

export interface StartedDemo {
  demoUrl: string;
  tapinUrl: string;
  appUrl: string;
  sid: string;
  apiKey: string;
  /** Everything `npm start` printed. */
  output: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Runs `npm start`'s script for real (the Tapin server on SQLite in `dir`, the demo site) on free ports, and reads
 * the URLs, sid and API key from what it prints for a person.
 */
export async function startDemoProcess(dir: string): Promise<StartedDemo> {
  const child = spawn(process.execPath, [START_SCRIPT], {
    cwd: dir,
    env: { ...process.env, TAPIN_DEMO_DIR: dir, TAPIN_PORT: '0', DEMO_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  await new Promise<void>((ok, bad) => {
    const timer = setTimeout(() => bad(new Error(`npm start printed no banner in 45 s:\n${output}\n${stderr}`)), 45_000);
    child.stdout!.on('data', (d: Buffer) => {
      output += d.toString();
      if (output.includes('Ctrl-C stops both servers.')) {
        clearTimeout(timer);
        ok();
      }
    });
    child.once('exit', (code) => bad(new Error(`npm start exited with ${code}:\n${output}\n${stderr}`)));
  });
  const grab = (re: RegExp) => {
    const m = re.exec(output);
    if (!m?.[1]) throw new Error(`npm start did not print ${re}:\n${output}`);
    return m[1];
  };
  return {
    demoUrl: grab(/Demo website\s+(\S+)/),
    tapinUrl: grab(/Tapin server\s+(\S+)/),
    appUrl: grab(/Authenticator app\s+(\S+)/),
    sid: grab(/sid\s+(\S+)/),
    apiKey: grab(/API key\s+(\S+)/),
    output,
    child,
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
  };
}

/** Saves a screenshot under test-results/screenshots/ (gitignored): they are how one sees what a person sees. */
export async function shot(target: Page | Locator, name: string): Promise<Buffer> {
  await mkdir(SHOTS, { recursive: true });
  const path = join(SHOTS, `${name}.png`);
  return 'goto' in target ? target.screenshot({ path, animations: 'disabled', fullPage: true }) : target.screenshot({ path, animations: 'disabled' });
}

/** Reads a QR code from a screenshot, the way a phone's camera would. */
export function decodeQr(png: Buffer): string | undefined {
  const image = PNG.sync.read(png);
  return jsQR(new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.length), image.width, image.height)?.data;
}

/** The `<tapin-login>` block's shadow parts, for tests. Playwright's CSS locators pierce open shadow roots. */
export function block(page: Page) {
  const el = page.locator('tapin-login');
  return {
    el,
    state: () => el.getAttribute('state'),
    waitFor: (state: string, timeout = 15_000) => page.waitForSelector(`tapin-login[state="${state}"]`, { timeout }),
    loginUrl: () => el.evaluate((e) => (e as HTMLElement & { loginUrl?: string }).loginUrl),
    status: el.locator('#status'),
    qr: el.locator('#qr'),
  };
}
