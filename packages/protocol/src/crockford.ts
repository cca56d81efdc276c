import { base32crockford } from '@scure/base';

/**
 * Crockford base32. Bytes go through @scure/base; fixed-width integers (the OTP's two 30-bit halves) are encoded
 * here because they are not byte-aligned. Decoding is forgiving the way Crockford intends for people typing:
 * case-insensitive, I/L read as 1, O as 0, hyphens and spaces ignored.
 */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export const crockfordBytes = {
  encode: (bytes: Uint8Array): string => base32crockford.encode(bytes),
  decode: (text: string): Uint8Array => base32crockford.decode(normalizeCrockford(text)),
};

/** Upper-cases, maps look-alikes (I, L → 1; O → 0) and drops spaces and hyphens. */
export function normalizeCrockford(text: string): string {
  return text
    .toUpperCase()
    .replace(/[\s-]/g, '')
    .replace(/[IL]/g, '1')
    .replace(/O/g, '0');
}

/** Encodes `value` (0 ≤ value < 32^width) as exactly `width` symbols, most significant first. */
export function encodeCrockfordInt(value: number, width: number): string {
  if (!Number.isSafeInteger(value) || value < 0 || value >= 32 ** width) {
    throw new RangeError(`value ${value} does not fit in ${width} Crockford symbols`);
  }
  let out = '';
  for (let i = width - 1; i >= 0; i--) out += ALPHABET[Math.floor(value / 32 ** i) % 32];
  return out;
}

/** Decodes already-normalized symbols; returns undefined for any symbol outside the alphabet. */
export function decodeCrockfordInt(symbols: string): number | undefined {
  let value = 0;
  for (const ch of symbols) {
    const digit = ALPHABET.indexOf(ch);
    if (digit < 0) return undefined;
    value = value * 32 + digit;
  }
  return value;
}
