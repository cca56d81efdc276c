import { TapinError } from '@tapin/protocol';
import type { FastifyRequest } from 'fastify';
import type { ServiceContext } from '../services/context.js';

/** Refuses a client that has failed too often; see FailureLimiter. */
export async function checkNotLimited(ctx: ServiceContext, request: FastifyRequest): Promise<void> {
  const waitMs = await ctx.ipFailures.blockedFor(request.ip);
  if (waitMs > 0) throw new TapinError('rate_limited', undefined, { retryAfter: Math.ceil(waitMs / 1000) });
}

/** Runs `fn`; when it fails with one of `guessable` codes, counts a failure against the client's IP. */
export async function countingFailures<T>(ctx: ServiceContext, request: FastifyRequest, guessable: readonly string[], fn: () => Promise<T>): Promise<T> {
  await checkNotLimited(ctx, request);
  try {
    return await fn();
  } catch (err) {
    if (err instanceof TapinError && guessable.includes(err.code)) await ctx.ipFailures.fail(request.ip);
    throw err;
  }
}
