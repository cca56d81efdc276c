import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { toBase64url } from '@tapin/protocol';

/**
 * API keys look like `tapin.<keyid>.<secret>`. The key id finds the row; only SHA-256 of the secret is stored.
 * A fast hash is right here: the secret has 256 random bits, so there is nothing to brute-force.
 */
const PREFIX = 'tapin';

export interface NewApiKey {
  keyid: string;
  hash: string;
  /** The full key, shown once to whoever created it. */
  key: string;
}

export function newApiKey(): NewApiKey {
  const keyid = toBase64url(randomBytes(12));
  const secret = toBase64url(randomBytes(32));
  return { keyid, hash: hashSecret(secret), key: `${PREFIX}.${keyid}.${secret}` };
}

export function parseApiKey(key: string): { keyid: string; secret: string } | undefined {
  const parts = key.split('.');
  if (parts.length !== 3 || parts[0] !== PREFIX) return undefined;
  const [, keyid, secret] = parts as [string, string, string];
  if (!/^[A-Za-z0-9_-]{16}$/.test(keyid) || !/^[A-Za-z0-9_-]{43}$/.test(secret)) return undefined;
  return { keyid, secret };
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url');
}

export function secretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(hashSecret(secret));
  const b = Buffer.from(storedHash);
  return a.length === b.length && timingSafeEqual(a, b);
}
