import { isIP } from 'node:net';
import { TapinError, type UserContext } from '@tapin/protocol';
import type { ServiceContext } from './context.js';

/** Default of `ipPushesPerMinute`: provokes one client IP may ask for per virtual server per minute. */
export const DEFAULT_PUSHES_PER_IP_PER_MINUTE = 30;

/**
 * The address a provoke counts against. On the browser socket that is the page's own IP. A business back-end calls
 * for all its visitors from one address, so when it names the visitor's IP in the context (`announceinfo.ip`, else
 * `sessioninfo.ip`) that is counted instead; anything there that is not an IP address is ignored.
 */
export function pushClientIp(requestIp: string, context?: UserContext | null): string {
  const named = context?.announceinfo?.ip ?? context?.sessioninfo?.ip;
  return named !== undefined && isIP(named) !== 0 ? named : requestIp;
}

/**
 * Counts a provoke against the client IP, or throws push_rate_limited (with Retry-After) once the IP has asked for
 * `ipPushesPerMinute` in the current minute. The per-user back-off stops pushes to one person; this stops one
 * client from pushing to many people (each push wakes somebody's phone).
 */
export async function takeIpPush(ctx: ServiceContext, sid: string, ip: string): Promise<void> {
  const key = `${sid}/${ip}`;
  const waitMs = await ctx.ipPushes.blockedFor(key);
  if (waitMs > 0) {
    throw new TapinError('push_rate_limited', 'Too many push logins asked for from this address; try again later (see Retry-After).', {
      retryAfter: Math.max(1, Math.ceil(waitMs / 1000)),
    });
  }
  await ctx.ipPushes.fail(key);
}
