import { sha256 } from '@noble/hashes/sha2.js';
import { BASE64URL_RE, toBase64url, utf8Encode } from './encoding.js';

export const HSID_LENGTH = 22;

/** SHA-256 of a byte string. Platform code may pass a native one (the server passes node:crypto's, ~1.5× faster). */
export type Sha256 = (data: Uint8Array) => Uint8Array;

/**
 * The public handle of a session: QR codes, phones and browser sockets carry it instead of the nonce, so whoever
 * sees a QR code cannot read the login (DESIGN §2). Bound to the virtual server so equal nonces on two servers
 * never collide. SHA-256 is computed synchronously (noble unless `hash` is given) because the server derives it on
 * every business call.
 */
export function deriveHsid(sid: string, nonce: string, hash: Sha256 = sha256): string {
  return toBase64url(hash(utf8Encode(`tapin-hsid\0${sid}\0${nonce}`))).slice(0, HSID_LENGTH);
}

export function isValidHsid(hsid: unknown): hsid is string {
  return typeof hsid === 'string' && hsid.length === HSID_LENGTH && BASE64URL_RE.test(hsid);
}

/** Virtual server ids are 22-char base64url (128 random bits). */
export function isValidSid(sid: unknown): sid is string {
  return typeof sid === 'string' && sid.length >= 8 && sid.length <= 64 && BASE64URL_RE.test(sid);
}
