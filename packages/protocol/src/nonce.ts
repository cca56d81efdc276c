import { BASE64URL_RE, HEX_RE, randomBytes, toBase64url } from './encoding.js';

export const NONCE_MIN_LENGTH = 22;
export const NONCE_MAX_LENGTH = 128;

/**
 * A nonce names a session and is the business back-end's proof that it owns it, so it must be unguessable:
 * 22–128 characters of base64url (22 chars = 132 bits) or hex. A string made only of hex digits is read as hex
 * and needs 32 characters (128 bits), because 22 hex digits would carry only 88 bits. Lower-case hex is
 * indistinguishable from base64url that happens to use only those symbols; the stricter rule wins.
 */
export function isValidNonce(nonce: unknown): nonce is string {
  if (typeof nonce !== 'string') return false;
  if (nonce.length < NONCE_MIN_LENGTH || nonce.length > NONCE_MAX_LENGTH) return false;
  if (HEX_RE.test(nonce)) return nonce.length >= 32;
  if (!BASE64URL_RE.test(nonce)) return false;
  // A run of one symbol is a placeholder, not a secret.
  return new Set(nonce).size > 4;
}

/** A fresh nonce: 192 random bits, base64url (32 chars). */
export function generateNonce(): string {
  return toBase64url(randomBytes(24));
}
