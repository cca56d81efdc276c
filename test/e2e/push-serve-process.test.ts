import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TapinClient, TapinApiError, generateNonce } from '@tapin/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TAPIN_CLI, device, startServerProcess, tempDir } from '../support/processes.js';

/**
 * Push login against a real `tapin serve` process (its command-line options, and what survives a restart).
 */
const exec = promisify(execFile);

describe('push login on a tapin serve process', () => {
  let dir: { path: string; remove(): Promise<void> };
  let db: string;
  beforeAll(async () => {
    dir = await tempDir('tapin-push-serve-');
    db = join(dir.path, 'tapin.db');
  });
  afterAll(async () => dir.remove());

  it('--push-block sets how long "I did not try to log in" stops pushes to the user', async () => {
    const server = await startServerProcess(db, {}, ['--push-block', '120']);
    const home = await tempDir('tapin-push-phone-');
    try {
      const client = new TapinClient({ url: server.url, sid: server.sid, apiKey: server.apiKey });
      expect((await device(home.path, 'enrol', (await client.enrol({ name: 'x', userid: 'ivy' })).data)).ok).toBe(true);
      await client.provokeUserLogin(generateNonce(), 'ivy');
      const answered = await device<{ state: string }>(home.path, 'listen', '--not-me', '--once', '--interval', '0.2');
      expect(answered.json).toMatchObject({ state: 'cancelled' });
      const refused = await client.provokeUserLogin(generateNonce(), 'ivy').catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(TapinApiError);
      expect((refused as TapinApiError).code).toBe('push_rate_limited');
      const retry = Number((refused as TapinApiError).details?.['retryAfter']);
      // 120 s, not the default hour.
      expect(retry).toBeGreaterThan(100);
      expect(retry).toBeLessThanOrEqual(120);
    } finally {
      await server.stop();
      await home.remove();
    }
  });

  it('refuses a --push-block that is not a whole number of seconds up to 7 days', async () => {
    for (const bad of ['-1', '604801']) {
      const err = (await exec(process.execPath, [TAPIN_CLI, 'serve', '--db', ':memory:', '--push-block', bad]).catch((e: unknown) => e)) as { stderr: string; code: number };
      expect(err.code).toBe(1);
      expect(err.stderr).toContain('--push-block');
      expect(err.stderr).toContain('0 to 604800');
    }
  });
});
