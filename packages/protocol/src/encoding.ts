import { base64urlnopad, hex as hexCodec, utf8 } from '@scure/base';

export const toBase64url = (bytes: Uint8Array): string => base64urlnopad.encode(bytes);
export const fromBase64url = (text: string): Uint8Array => base64urlnopad.decode(text);
export const toHex = (bytes: Uint8Array): string => hexCodec.encode(bytes);
export const fromHex = (text: string): Uint8Array => hexCodec.decode(text);
export const utf8Encode = (text: string): Uint8Array => utf8.decode(text);
export const utf8Decode = (bytes: Uint8Array): string => utf8.encode(bytes);

export const BASE64URL_RE = /^[A-Za-z0-9_-]+$/;
export const HEX_RE = /^[0-9a-fA-F]+$/;

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function randomBytes(length: number): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(length));
}

/** A fresh 128-bit random identifier in base64url (22 chars). */
export function randomId(bytes = 16): string {
  return toBase64url(randomBytes(bytes));
}

/**
 * Compares two strings without an early exit, so the time taken does not reveal how much of a secret matched.
 * Length is not hidden; every caller compares fixed-length values (hashes, codes).
 */
export function constantTimeEqual(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) diff |= (a.charCodeAt(i) | 0) ^ (b.charCodeAt(i) | 0);
  return diff === 0;
}

/** Narrows a byte array for WebCrypto, whose typings refuse views that might sit on a SharedArrayBuffer. */
export const bufferSource = (bytes: Uint8Array): Uint8Array<ArrayBuffer> => bytes as Uint8Array<ArrayBuffer>;
