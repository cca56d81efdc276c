import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, utf8Encode } from './encoding.js';
import { decodeCrockfordInt, encodeCrockfordInt, normalizeCrockford } from './crockford.js';

/** Offline fallback (DESIGN §6): 2-minute intervals, 30-bit otpref ‖ 30-bit code, 12 Crockford symbols. */
export const OTP_INTERVAL_SECONDS = 120;
export const OTP_REF_BITS = 30;
export const OTP_MAX_REF = 2 ** OTP_REF_BITS - 1;

/** HMAC-SHA-256. Platform code may pass a native one (the server passes node:crypto's, ~3× faster than noble's). */
export type HmacSha256 = (key: Uint8Array, data: Uint8Array) => Uint8Array;
const nobleHmac: HmacSha256 = (key, data) => hmac(sha256, key, data);

export function otpInterval(unixMs: number): number {
  return Math.floor(unixMs / 1000 / OTP_INTERVAL_SECONDS);
}

export function otpCode(otpkey: Uint8Array, sid: string, hsid: string, interval: number, mac: HmacSha256 = nobleHmac): number {
  const counter = new Uint8Array(8);
  new DataView(counter.buffer).setBigUint64(0, BigInt(interval));
  const digest = mac(otpkey, concatBytes(utf8Encode(`tapin/otp/1\0${sid}\0${hsid}\0`), counter));
  // RFC 4226 §5.3 dynamic truncation, then 30 bits.
  const offset = digest[digest.length - 1]! & 0x0f;
  const value = ((digest[offset]! & 0x7f) << 24) | (digest[offset + 1]! << 16) | (digest[offset + 2]! << 8) | digest[offset + 3]!;
  return value % 2 ** 30;
}

export function formatOtp(otpref: number, code: number): string {
  return `${encodeCrockfordInt(otpref, 6)} ${encodeCrockfordInt(code, 6)}`;
}

/** Reads what a person typed; undefined when it cannot be an OTP. */
export function parseOtp(text: string): { otpref: number; code: number } | undefined {
  if (typeof text !== 'string' || text.length > 64) return undefined;
  const symbols = normalizeCrockford(text);
  if (symbols.length !== 12) return undefined;
  const otpref = decodeCrockfordInt(symbols.slice(0, 6));
  const code = decodeCrockfordInt(symbols.slice(6));
  if (otpref === undefined || code === undefined) return undefined;
  return { otpref, code };
}

/** The OTP a phone shows for a session at `unixMs` (DESIGN §6). */
export function generateOtp(otpkey: Uint8Array, otpref: number, sid: string, hsid: string, unixMs: number): string {
  return formatOtp(otpref, otpCode(otpkey, sid, hsid, otpInterval(unixMs)));
}

/**
 * The server's check: the code must match interval T or T−1 of the server's clock, nothing else. Returns the
 * matching interval, or undefined. Both candidates are always computed and compared without an early exit.
 */
export function matchOtpCode(otpkey: Uint8Array, sid: string, hsid: string, code: number, serverUnixMs: number, mac: HmacSha256 = nobleHmac): number | undefined {
  const t = otpInterval(serverUnixMs);
  const now = otpCode(otpkey, sid, hsid, t, mac) ^ code;
  const previous = otpCode(otpkey, sid, hsid, t - 1, mac) ^ code;
  if (now === 0) return t;
  if (previous === 0) return t - 1;
  return undefined;
}
