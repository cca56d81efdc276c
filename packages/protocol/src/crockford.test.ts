import { describe, expect, it } from 'vitest';
import { crockfordBytes, decodeCrockfordInt, encodeCrockfordInt, normalizeCrockford } from './crockford.js';
import { randomBytes } from './encoding.js';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

describe('crockford', () => {
  it('the alphabet has 32 distinct symbols without I, L, O, U', () => {
    expect(new Set(ALPHABET).size).toBe(32);
    for (const ch of 'ILOU') expect(ALPHABET).not.toContain(ch);
    for (let i = 0; i < 32; i++) expect(encodeCrockfordInt(i, 1)).toBe(ALPHABET[i]);
  });

  it('fixed-width integers round-trip, most significant symbol first', () => {
    const values = [0, 1, 31, 32, 33, 1023, 1024, 2 ** 20, 2 ** 25 - 1, 2 ** 29, 2 ** 30 - 1];
    for (let i = 0; i < 200; i++) values.push(Math.floor(Math.random() * 2 ** 30));
    for (const value of values) {
      const text = encodeCrockfordInt(value, 6);
      expect(text).toHaveLength(6);
      expect(decodeCrockfordInt(text)).toBe(value);
    }
    expect(encodeCrockfordInt(1, 6)).toBe('000001');
    expect(encodeCrockfordInt(32, 2)).toBe('10');
  });

  it('ordering of the text follows ordering of the value', () => {
    const a = encodeCrockfordInt(123_456, 6);
    const b = encodeCrockfordInt(123_457, 6);
    expect(a < b).toBe(true);
  });

  it('refuses values that do not fit', () => {
    expect(() => encodeCrockfordInt(2 ** 30, 6)).toThrow(RangeError);
    expect(() => encodeCrockfordInt(-1, 6)).toThrow(RangeError);
    expect(() => encodeCrockfordInt(0.5, 6)).toThrow(RangeError);
    expect(() => encodeCrockfordInt(Number.NaN, 6)).toThrow(RangeError);
    expect(() => encodeCrockfordInt(Number.MAX_SAFE_INTEGER + 1, 12)).toThrow(RangeError);
  });

  it('decodeCrockfordInt expects normalized symbols', () => {
    expect(decodeCrockfordInt('ZZ')).toBe(1023);
    expect(decodeCrockfordInt('zz')).toBeUndefined();
    expect(decodeCrockfordInt('U')).toBeUndefined();
    expect(decodeCrockfordInt('1-2')).toBeUndefined();
    expect(decodeCrockfordInt(normalizeCrockford('zz'))).toBe(1023);
  });

  it('normalizes what people type', () => {
    expect(normalizeCrockford('a1b2-c3d4 e5f6')).toBe('A1B2C3D4E5F6');
    expect(normalizeCrockford('iIlLoO')).toBe('111100');
    expect(normalizeCrockford(' \t-\n ')).toBe('');
  });

  it('bytes round-trip through @scure/base, forgiving look-alikes and case on decode', () => {
    for (let n = 0; n <= 40; n += 5) {
      const bytes = randomBytes(n);
      const text = crockfordBytes.encode(bytes);
      expect(text).toMatch(/^[0-9A-HJKMNP-TV-Z]*$/);
      expect(crockfordBytes.decode(text)).toEqual(bytes);
      expect(crockfordBytes.decode(text.toLowerCase().replace(/1/g, 'l').replace(/0/g, 'o'))).toEqual(bytes);
    }
  });
});
