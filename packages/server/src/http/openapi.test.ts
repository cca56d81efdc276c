import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Harness, startHarness } from '../test-support/harness.js';

/**
 * The OpenAPI description is generated from the route schemas. This pins the public contract of DESIGN §3: a route
 * that loses its schema, or is hidden by mistake, disappears from /docs/json and fails here.
 */

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

interface OpenApi {
  openapi: string;
  paths: Record<string, Record<string, { parameters?: { name: string; in: string }[]; responses?: Record<string, unknown> }>>;
}

const B = '/v1/servers/{sid}';
const BUSINESS: [method: string, path: string][] = [
  ['get', `${B}/session`],
  ['put', `${B}/session/context`],
  ['get', `${B}/session/qr`],
  ['post', `${B}/session/provoke`],
  ['post', `${B}/users/{userid}/provokelogin`],
  ['post', `${B}/accounts/{accountid}/provokelogin`],
  ['post', `${B}/session/otp`],
  ['post', `${B}/session/logout`],
  ['post', `${B}/session/registeruser`],
  ['get', `${B}/session/html/login`],
  ['get', `${B}/html/footer`],
  ['post', `${B}/enrolments`],
  ['get', `${B}/`],
  ['put', `${B}/`],
  ['get', `${B}/users`],
  ['get', `${B}/users/{userid}`],
  ['delete', `${B}/users/{userid}`],
  ['get', `${B}/users/{userid}/accounts`],
  ['delete', `${B}/users/{userid}/accounts`],
  ['get', `${B}/users/{userid}/attributes`],
  ['put', `${B}/users/{userid}/attributes`],
  ['delete', `${B}/users/{userid}/attributes`],
  ['get', `${B}/accounts`],
  ['get', `${B}/accounts/{accountid}`],
  ['delete', `${B}/accounts/{accountid}`],
  ['put', `${B}/accounts/{accountid}`],
  ['put', `${B}/accounts/{accountid}/user`],
];

it('serves the documentation UI at /docs', async () => {
  const res = await h.app.inject({ method: 'GET', url: '/docs/' });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toMatch(/text\/html/);
});

it('/docs/json describes every business call of DESIGN §3, with the nonce in X-Nonce and error responses', async () => {
  const res = await h.app.inject({ method: 'GET', url: '/docs/json' });
  expect(res.statusCode).toBe(200);
  const doc = res.json<OpenApi>();
  expect(doc.openapi).toMatch(/^3\./);
  // Route parameters are written :name by Fastify and {name} by OpenAPI; normalise the names we compare.
  const paths = new Map(Object.entries(doc.paths).map(([p, ops]) => [p.replace(/\{accountid\}|\{id\}/g, '{accountid}'), ops]));
  const missing = BUSINESS.filter(([method, path]) => paths.get(path)?.[method] === undefined);
  expect(missing).toEqual([]);

  const getSession = paths.get(`${B}/session`)?.['get'];
  expect(getSession?.parameters?.some((p) => p.in === 'header' && p.name.toLowerCase() === 'x-nonce')).toBe(true);
  // No business route takes the nonce in its URL (URLs end up in logs).
  for (const [path, ops] of paths) {
    for (const op of Object.values(ops)) {
      expect(op.parameters?.filter((p) => p.name.toLowerCase() === 'nonce' && p.in !== 'header') ?? [], path).toEqual([]);
    }
  }
  // Errors are part of the contract: every business route documents at least one error status.
  for (const [method, path] of BUSINESS) {
    const statuses = Object.keys(paths.get(path)?.[method]?.responses ?? {});
    expect(statuses.some((s) => /^[45]/.test(s)), `${method} ${path}`).toBe(true);
  }
});

it('documents the device API as well', async () => {
  const doc = (await h.app.inject({ method: 'GET', url: '/docs/json' })).json<OpenApi>();
  const device = Object.keys(doc.paths).filter((p) => p.startsWith('/v1/device/{sid}/'));
  expect(device).toEqual(expect.arrayContaining([
    '/v1/device/{sid}/enrol', '/v1/device/{sid}/sessions/{hsid}/fetch', '/v1/device/{sid}/sessions/{hsid}/answer',
  ]));
});
