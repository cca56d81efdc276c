import { TapinError, isValidSid } from '@tapin/protocol';
import type { FastifyRequest } from 'fastify';
import { parseApiKey, secretMatches } from '../crypto/api-keys.js';
import type { ServiceContext } from '../services/context.js';
import { ExpiringCache, perContext } from '../services/expiring-cache.js';
import type { ApiKeyRow } from '../store/store.js';
import { checkNotLimited } from './client-ip.js';

/**
 * Every business call reads its key's row, and a row changes only when its key is revoked, so a row found is kept
 * for a second: a revocation (`tapin apikey revoke`) takes up to that second to reach every instance. The secret is
 * still checked against the stored hash on every call.
 */
const apiKeyCache = perContext<ServiceContext, ApiKeyRow>(() => new ExpiringCache(1000));

/**
 * The business API's gate: a valid API key of this very virtual server. Runs before body parsing and validation,
 * so an unauthenticated caller learns nothing about the routes. Failures count against the client IP.
 */
export async function authenticateBusiness(ctx: ServiceContext, request: FastifyRequest): Promise<void> {
  await checkNotLimited(ctx, request);
  const header = request.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  const parsed = match?.[1] ? parseApiKey(match[1]) : undefined;
  const row = parsed ? await apiKeyCache(ctx).get(parsed.keyid, () => ctx.store.getApiKey(parsed.keyid)) : undefined;
  if (!parsed || !row || !secretMatches(parsed.secret, row.hash)) {
    await ctx.ipFailures.fail(request.ip);
    throw new TapinError('unauthorized');
  }
  // Only a caller holding the whole key gets here, so this is a back-end not yet rotated, not a guess: it is told,
  // and not counted against its IP, where it would soon lock out the back-end's current key as well.
  if (row.revoked !== null) throw new TapinError('api_key_revoked');
  const sid = (request.params as { sid?: string }).sid;
  // A key never reaches another virtual server, and an unknown sid is answered the same way, so keys cannot probe.
  if (!isValidSid(sid) || row.sid !== sid) throw new TapinError('wrong_server');
}
