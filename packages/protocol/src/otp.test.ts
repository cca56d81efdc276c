import { describe, expect, it } from 'vitest';
import { randomBytes, randomId } from './encoding.js';
import { deriveHsid } from './hsid.js';
import { generateNonce } from './nonce.js';
import { formatOtp, OTP_INTERVAL_SECONDS, OTP_MAX_REF, otpCode, otpInterval, parseOtp } from './otp.js';

const key = randomBytes(32);
const sid = randomId();
const hsid = deriveHsid(sid, generateNonce());

describe('otpInterval', () => {
  it('is floor(unix seconds / 120)', () => {
    expect(OTP_INTERVAL_SECONDS).toBe(120);
    expect(otpInterval(0)).toBe(0);
    expect(otpInterval(119_999)).toBe(0);
    expect(otpInterval(120_000)).toBe(1);
    const now = Date.now();
    expect(otpInterval(now)).toBe(Math.floor(now / 120_000));
  });

  it('changes exactly at every boundary, also far in the future', () => {
    for (const T of [14_726_880, 20_000_000, 99_999_999, 2 ** 31]) {
      expect(otpInterval(T * 120_000)).toBe(T);
      expect(otpInterval(T * 120_000 - 1)).toBe(T - 1);
    }
  });
});

describe('otpCode', () => {
  it('is a deterministic 30-bit integer', () => {
    for (let T = 14_000_000; T < 14_000_200; T++) {
      const code = otpCode(key, sid, hsid, T);
      expect(Number.isInteger(code)).toBe(true);
      expect(code).toBeGreaterThanOrEqual(0);
      expect(code).toBeLessThan(2 ** 30);
      expect(otpCode(key, sid, hsid, T)).toBe(code);
    }
  });

  it('depends on key, sid, hsid and interval', () => {
    const T = otpInterval(Date.now());
    const code = otpCode(key, sid, hsid, T);
    expect(otpCode(randomBytes(32), sid, hsid, T)).not.toBe(code);
    expect(otpCode(key, randomId(), hsid, T)).not.toBe(code);
    expect(otpCode(key, sid, deriveHsid(sid, generateNonce()), T)).not.toBe(code);
    expect(otpCode(key, sid, hsid, T - 1)).not.toBe(code);
    expect(otpCode(key, sid, hsid, T + 1)).not.toBe(code);
  });
});

describe('formatOtp / parseOtp', () => {
  const otpref = 0x2345678;
  const code = otpCode(key, sid, hsid, 14_726_880);
  const shown = formatOtp(otpref, code);

  it('shows XXXXXX XXXXXX and reads back', () => {
    expect(shown).toMatch(/^[0-9A-HJKMNP-TV-Z]{6} [0-9A-HJKMNP-TV-Z]{6}$/);
    expect(parseOtp(shown)).toEqual({ otpref, code });
    expect(formatOtp(0, 0)).toBe('000000 000000');
    expect(formatOtp(OTP_MAX_REF, 2 ** 30 - 1)).toBe('ZZZZZZ ZZZZZZ');
    expect(() => formatOtp(OTP_MAX_REF + 1, 0)).toThrow(RangeError);
    expect(() => formatOtp(0, 2 ** 30)).toThrow(RangeError);
  });

  it('accepts lower case, hyphens, spaces and I/L/O look-alikes', () => {
    const compact = shown.replace(' ', '');
    const variants = [
      shown,
      shown.toLowerCase(),
      compact,
      compact.toLowerCase(),
      `${compact.slice(0, 4)}-${compact.slice(4, 8)}-${compact.slice(8)}`,
      `  ${compact.split('').join(' ')}  `,
      `${compact.slice(0, 6)} - ${compact.slice(6)}`,
      `${compact.slice(0, 6)}\t${compact.slice(6)}`,
      shown.replace(/1/g, 'I').replace(/0/g, 'O'),
      shown.replace(/1/g, 'l').replace(/0/g, 'o'),
      shown.replace(/1/g, 'L').replace(/0/g, 'O').toLowerCase(),
    ];
    for (const typed of variants) expect(parseOtp(typed), JSON.stringify(typed)).toEqual({ otpref, code });
  });

  it('reads look-alikes of a code made of ones and zeros', () => {
    const ones = formatOtp(0b00001_00000_00001_00000_00001_00000, 0b00000_00001_00000_00001_00000_00001);
    expect(ones).toBe('101010 010101');
    expect(parseOtp('lOiOLo OiOloI')).toEqual(parseOtp(ones));
  });

  it('returns undefined for the wrong length or symbols', () => {
    const compact = shown.replace(' ', '');
    expect(parseOtp(compact.slice(0, 11))).toBeUndefined();
    expect(parseOtp(`${compact}A`)).toBeUndefined();
    expect(parseOtp(compact.slice(0, 6))).toBeUndefined();
    expect(parseOtp('')).toBeUndefined();
    expect(parseOtp('   -  ')).toBeUndefined();
    expect(parseOtp(`${compact.slice(0, 11)}U`)).toBeUndefined();
    expect(parseOtp(`${compact.slice(0, 11)}!`)).toBeUndefined();
    expect(parseOtp(`${compact.slice(0, 11)}Ü`)).toBeUndefined();
    expect(parseOtp(`${compact.slice(0, 6)}${' '.repeat(80)}${compact.slice(6)}`)).toBeUndefined();
    expect(parseOtp(12 as unknown as string)).toBeUndefined();
  });

  it('a typed code matches what the server computes for T or T-1', () => {
    const boundary = 14_726_880 * 120_000;
    const madeAt = boundary - 1;
    const typed = formatOtp(otpref, otpCode(key, sid, hsid, otpInterval(madeAt))).toLowerCase().replace(' ', '-');
    const parsed = parseOtp(typed)!;
    const T = otpInterval(boundary);
    expect(parsed.code).not.toBe(otpCode(key, sid, hsid, T));
    expect(parsed.code).toBe(otpCode(key, sid, hsid, T - 1));
  });
});
