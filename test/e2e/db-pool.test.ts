import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { TapinClient, generateNonce } from '@tapin/client';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TAPIN_CLI, startServerProcess } from '../support/processes.js';

const exec = promisify(execFile);
const pgUrl = process.env['TAPIN_TEST_POSTGRES_URL'];
if (!pgUrl) console.warn('[db-pool] TAPIN_TEST_POSTGRES_URL is not set: the --db-pool run is skipped (.ci/run sets it).');

describe('tapin serve --db-pool', () => {
  it('refuses a pool size that is not a whole number from 1 to 1000, by flag or by TAPIN_DB_POOL', async () => {
    const flag = (await exec(process.execPath, [TAPIN_CLI, 'serve', '--db', ':memory:', '--db-pool', '0']).catch((e: unknown) => e)) as { stderr: string; code: number };
    expect(flag.code).toBe(1);
    expect(flag.stderr).toContain('a whole number of connections from 1 to 1000');
    const env = (await exec(process.execPath, [TAPIN_CLI, 'serve', '--db', ':memory:'], { env: { ...process.env, TAPIN_DB_POOL: 'many' } }).catch((e: unknown) => e)) as { stderr: string; code: number };
    expect(env.code).toBe(1);
    expect(env.stderr.trim()).toBe('tapin: TAPIN_DB_POOL must be a whole number of connections from 1 to 1000');
  });

  describe.skipIf(!pgUrl)('on PostgreSQL', () => {
    const database = `tapin_pool_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: pgUrl });
    beforeAll(async () => {
      await admin.connect();
      await admin.query(`CREATE DATABASE ${database}`);
    });
    afterAll(async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await admin.end();
    });

    it('opens no more query connections than asked, named after the instance in pg_stat_activity', async () => {
      const url = new URL(pgUrl!);
      url.pathname = `/${database}`;
      const server = await startServerProcess(url.toString(), {}, ['--db-pool', '2']);
      try {
        const client = new TapinClient({ url: server.url, sid: server.sid, apiKey: server.apiKey });
        // Many calls at once: a pool of 10 (the default) would open more than 2 connections for them.
        await Promise.all(Array.from({ length: 40 }, () => client.getSession(generateNonce())));
        const { rows } = await admin.query<{ n: string }>(
          'select count(*) as n from pg_stat_activity where datname = $1 and application_name like $2',
          [database, `tapin@%/${server.child.pid}`],
        );
        expect(Number(rows[0]!.n)).toBeGreaterThanOrEqual(1);
        expect(Number(rows[0]!.n)).toBeLessThanOrEqual(2);
      } finally {
        await server.stop();
      }
    });
  });
});
