import { p256 } from '@noble/curves/nist.js';
import { bufferSource, fromBase64url, toBase64url } from './encoding.js';

/**
 * ECDSA P-256 over SHA-256 with IEEE P1363 (r‖s, 64 bytes) signatures, through WebCrypto so that browsers keep
 * keys non-extractable and Node uses OpenSSL. Public keys travel as base64url of the 65-byte uncompressed point.
 */
const ALG = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN_ALG = { name: 'ECDSA', hash: 'SHA-256' } as const;
export const SIGNATURE_LENGTH = 64;
export const PUBLIC_KEY_LENGTH = 65;

const subtle = (): SubtleCrypto => globalThis.crypto.subtle;

export async function generateSigningKeyPair(extractable = false): Promise<CryptoKeyPair> {
  return subtle().generateKey(ALG, extractable, ['sign', 'verify']);
}

export async function exportPublicKey(key: CryptoKey): Promise<string> {
  return toBase64url(new Uint8Array(await subtle().exportKey('raw', key)));
}

/** Imports a public key; throws on anything that is not a valid P-256 point. */
export async function importPublicKey(raw: string): Promise<CryptoKey> {
  const bytes = fromBase64url(raw);
  if (bytes.length !== PUBLIC_KEY_LENGTH || bytes[0] !== 4) throw new Error('not an uncompressed P-256 point');
  return subtle().importKey('raw', bufferSource(bytes), ALG, true, ['verify']);
}

/** True when `raw` decodes to a point on P-256 (checked with noble, synchronously, before anything is stored). */
export function isValidPublicKey(raw: unknown): raw is string {
  if (typeof raw !== 'string' || raw.length !== 87) return false;
  try {
    const bytes = fromBase64url(raw);
    if (bytes.length !== PUBLIC_KEY_LENGTH || bytes[0] !== 4) return false;
    p256.Point.fromBytes(bytes).assertValidity();
    return true;
  } catch {
    return false;
  }
}

export async function sign(privateKey: CryptoKey, message: Uint8Array): Promise<string> {
  return toBase64url(new Uint8Array(await subtle().sign(SIGN_ALG, privateKey, bufferSource(message))));
}

/** Never throws: a malformed key or signature is simply a signature that does not verify. */
export async function verify(publicKey: CryptoKey | string, message: Uint8Array, signature: string): Promise<boolean> {
  try {
    const sig = fromBase64url(signature);
    if (sig.length !== SIGNATURE_LENGTH) return false;
    const key = typeof publicKey === 'string' ? await importPublicKey(publicKey) : publicKey;
    return await subtle().verify(SIGN_ALG, key, bufferSource(sig), bufferSource(message));
  } catch {
    return false;
  }
}
