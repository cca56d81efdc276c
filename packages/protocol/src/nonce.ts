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
  if (!BASE64URL_RE.test(nonce)) return false;
  // A run of one symbol (or a few) is a placeholder, not a secret, in hex as in base64url.
  if (new Set(nonce).size <= 4) return false;
  return HEX_RE.test(nonce) ? nonce.length >= 32 : true;
}

/** A fresh nonce: 192 random bits, base64url (32 chars). */
export function generateNonce(): string {
  return toBase64url(randomBytes(24));
}
