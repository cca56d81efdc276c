import { type Server, createServer } from 'node:http';
import { type AddressInfo } from 'node:net';
import { buildLoginUrl } from '@tapin/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HSID, SID, makeAccount, memoryPlatform } from '../test-support/memory-platform.js';
import type { UserError } from './callbacks.js';
import { TapinSDK } from './sdk.js';
import type { TapinSession } from './session.js';

/**
 * UserErrorMessage codes 49, 50 and 51 as an app receives them: the SDK talks over real HTTP to a server that
 * answers badly in one way each (41 comes from a real Tapin server in test/e2e/sdk-lifecycle.test.ts).
 */
let server: Server;
let base: string;
let mode = '';

beforeAll(async () => {
  server = createServer((_req, res) => {
    if (mode === 'internal') res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'internal', message: 'Internal server error.' } }));
    else if (mode === 'bad-gateway') res.writeHead(502, { 'content-type': 'text/html' }).end('<html>502 Bad Gateway</html>');
    else if (mode === 'stall') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
    } else if (mode === 'not-found') res.writeHead(404, { 'content-type': 'text/html' }).end('<html>Not Found</html>');
    else if (mode === 'portal') res.writeHead(200, { 'content-type': 'text/html' }).end('<html>Log in to the Wi-Fi</html>');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

async function scanWhile(behaviour: string): Promise<{ errors: UserError[]; session: TapinSession }> {
  mode = behaviour;
  const p = memoryPlatform([makeAccount('acct-errors-00000000001', { base })]);
  const errors: UserError[] = [];
  let stopped!: (s: TapinSession) => void;
  const stop = new Promise<TapinSession>((r) => (stopped = r));
  const sdk = new TapinSDK({
    ...p, timeoutMs: 300, backoff: { baseMs: 10, maxAttempts: 2 },
    callbacks: { UserErrorMessage: (_s, e) => errors.push(e), SessionStop: (s) => stopped(s) },
  });
  await sdk.processQR(buildLoginUrl(base, SID, HSID));
  const session = await stop;
  expect(p.history[0]).toMatchObject({ status: 'ERROR', error: session.error?.code });
  return { errors, session };
}

describe('UserErrorMessage codes through the callback', () => {
  it('49: the server answers with an error (its own internal error, or a proxy error page)', async () => {
    for (const behaviour of ['internal', 'bad-gateway']) {
      const { errors, session } = await scanWhile(behaviour);
      expect(errors.map((e) => e.errorCode), behaviour).toEqual([49]);
      expect(session.state).toBe('ERROR');
    }
  });

  it('50: the server does not answer in time (its body never comes) — reported once, retried, then ERROR', async () => {
    const { errors, session } = await scanWhile('stall');
    expect(errors).toEqual([expect.objectContaining({ errorCode: 50, code: 'server_timeout' })]);
    expect(session.error?.code).toBe('server_timeout');
  });

  it('51: whatever answers is not a Tapin server (a 404 page, a captive portal)', async () => {
    for (const behaviour of ['not-found', 'portal']) {
      const { errors } = await scanWhile(behaviour);
      expect(errors.map((e) => [e.errorCode, e.code]), behaviour).toEqual([[51, 'server_unknown']]);
    }
  });
});
