import { TapinError } from '@tapin/protocol';
import { newApiKey, parseApiKey } from '../crypto/api-keys.js';
import type { ServiceContext } from './context.js';

/** Reads the row itself rather than through requireServer's cache: virtual-servers.ts uses this module. */
async function requireKnownServer(ctx: ServiceContext, sid: string): Promise<void> {
  if (!(await ctx.store.getServer(sid))) throw new TapinError('server_not_found');
}

/** A new API key for the server: the whole key is returned once, only a hash of its secret is stored. */
export async function createApiKey(ctx: ServiceContext, sid: string): Promise<string> {
  await requireKnownServer(ctx, sid);
  const key = newApiKey();
  await ctx.store.createApiKey({ keyid: key.keyid, sid, hash: key.hash, created: ctx.now() });
  return key.key;
}

export interface ApiKeyInfo {
  keyid: string;
  /** ISO 8601. */
  created: string;
  /** ISO 8601, or null while the key is valid. */
  revoked: string | null;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The server's API keys by id (the middle part of `tapin.<keyid>.<secret>`), revoked ones too; never a secret or its hash. */
export async function listApiKeys(ctx: ServiceContext, sid: string): Promise<ApiKeyInfo[]> {
  await requireKnownServer(ctx, sid);
  return (await ctx.store.listApiKeys(sid)).map((k) => ({ keyid: k.keyid, created: iso(k.created), revoked: k.revoked === null ? null : iso(k.revoked) }));
}

/**
 * Revokes a key, named by its id or given whole (a leaked key can be pasted as it is); returns its id and how many
 * valid keys the server has left. Every instance refuses the key within a second: that is how long an instance keeps
 * a key's row (see business-auth.ts).
 */
export async function revokeApiKey(ctx: ServiceContext, sid: string, key: string): Promise<{ keyid: string; keysLeft: number }> {
  await requireKnownServer(ctx, sid);
  // Something shaped like a whole key that does not parse (a stray `Bearer `, quotes, a typo) must not be taken for
  // a key id: the secret in it would travel to the database as one.
  const keyid = key.startsWith('tapin.') || key.includes(' ') ? parseApiKey(key.trim())?.keyid : key;
  if (keyid === undefined) throw new TapinError('bad_request', 'That is neither a key id (see tapin apikey list) nor a whole API key (tapin.<keyid>.<secret>).');
  if (!(await ctx.store.revokeApiKey(sid, keyid, ctx.now()))) throw new TapinError('api_key_not_found', 'This virtual server has no such API key, or it is revoked already.');
  const keysLeft = (await ctx.store.listApiKeys(sid)).filter((k) => k.revoked === null).length;
  return { keyid, keysLeft };
}
