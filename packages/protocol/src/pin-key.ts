import { p256 } from '@noble/curves/nist.js';
import { bufferSource, toBase64url, utf8Encode } from './encoding.js';

/**
 * The second factor (DESIGN §6). The phone stretches the PIN with a device salt that never leaves the phone and
 * maps the result to a P-256 secret key; the server keeps only the public key. Without the salt the server (or a
 * thief of its database) cannot test PIN guesses offline; without the server a thief of the phone cannot either,
 * and the server blocks the account after 5 wrong answers in a row. WebCrypto cannot derive a public key from a
 * chosen secret scalar, so this is the one place noble's curve arithmetic is needed.
 */
export const PIN_PBKDF2_ITERATIONS = 100_000;
export const PIN_SALT_LENGTH = 32;

export interface PinKey {
  secretKey: Uint8Array;
  /** base64url of the uncompressed public point. */
  publicKey: string;
}

export async function derivePinKey(pin: string, salt: Uint8Array, iterations = PIN_PBKDF2_ITERATIONS): Promise<PinKey> {
  const subtle = globalThis.crypto.subtle;
  const material = await subtle.importKey('raw', bufferSource(utf8Encode(pin.normalize('NFKC'))), 'PBKDF2', false, ['deriveBits']);
  // 48 bytes so that reducing modulo the group order has negligible bias (FIPS 186-5 A.4.1).
  const seed = new Uint8Array(await subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt: bufferSource(salt), iterations }, material, 384));
  const secretKey = p256.utils.randomSecretKey(seed);
  return { secretKey, publicKey: toBase64url(p256.getPublicKey(secretKey, false)) };
}

/** Deterministic (RFC 6979) ECDSA P-256/SHA-256 signature in P1363 form, verifiable with WebCrypto. */
export function signWithPinKey(secretKey: Uint8Array, message: Uint8Array): string {
  return toBase64url(p256.sign(message, secretKey, { format: 'compact' }));
}
