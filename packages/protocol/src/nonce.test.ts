import { describe, expect, it } from 'vitest';
import { deriveHsid, HSID_LENGTH, isValidHsid, isValidSid } from './hsid.js';
import { generateNonce, isValidNonce, NONCE_MAX_LENGTH, NONCE_MIN_LENGTH } from './nonce.js';
import { randomId, toHex, randomBytes } from './encoding.js';

describe('nonce', () => {
  it('generateNonce makes valid, distinct, 32-char base64url nonces', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const nonce = generateNonce();
      expect(nonce).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect(isValidNonce(nonce)).toBe(true);
      seen.add(nonce);
    }
    expect(seen.size).toBe(200);
  });

  it('accepts random hex of 128 bits and more, and random base64url ids', () => {
    for (let i = 0; i < 50; i++) {
      expect(isValidNonce(toHex(randomBytes(16)))).toBe(true);
      expect(isValidNonce(toHex(randomBytes(16)).toUpperCase())).toBe(true);
      expect(isValidNonce(toHex(randomBytes(64)))).toBe(true);
      expect(isValidNonce(randomId())).toBe(true);
    }
  });

  it('enforces the length limits', () => {
    const long = 'Ab1-_xYz9'.repeat(20);
    expect(isValidNonce(long.slice(0, NONCE_MIN_LENGTH))).toBe(true);
    expect(isValidNonce(long.slice(0, NONCE_MIN_LENGTH - 1))).toBe(false);
    expect(isValidNonce(long.slice(0, NONCE_MAX_LENGTH))).toBe(true);
    expect(isValidNonce(long.slice(0, NONCE_MAX_LENGTH + 1))).toBe(false);
  });

  it('reads a string of hex digits as hex: fewer than 32 is too few bits', () => {
    const hex = '0123456789abcdef0123456789abcdef';
    expect(isValidNonce(hex)).toBe(true);
    expect(isValidNonce(hex.slice(0, 31))).toBe(false);
    expect(isValidNonce(hex.slice(0, 22))).toBe(false);
    // One non-hex symbol makes it base64url, for which 22 chars suffice.
    expect(isValidNonce(`${hex.slice(0, 21)}g`)).toBe(true);
  });

  it('rejects placeholders, bad characters and non-strings', () => {
    expect(isValidNonce('x'.repeat(40))).toBe(false);
    expect(isValidNonce('0'.repeat(32))).toBe(false);
    expect(isValidNonce('abab'.repeat(10))).toBe(false);
    for (const bad of ['+', '/', '=', ' ', '.', 'é', '\n']) {
      expect(isValidNonce(`AbCdEfGhIjKlMnOpQrStUv${bad}`), JSON.stringify(bad)).toBe(false);
    }
    for (const value of [undefined, null, 12, {}, [], new String('AbCdEfGhIjKlMnOpQrStUv')]) {
      expect(isValidNonce(value)).toBe(false);
    }
  });
});

describe('hsid', () => {
  it('is 22 chars of base64url, deterministic, and bound to sid and nonce', () => {
    const sid = randomId();
    const nonce = generateNonce();
    const hsid = deriveHsid(sid, nonce);
    expect(hsid).toHaveLength(HSID_LENGTH);
    expect(isValidHsid(hsid)).toBe(true);
    expect(deriveHsid(sid, nonce)).toBe(hsid);
    expect(deriveHsid(randomId(), nonce)).not.toBe(hsid);
    expect(deriveHsid(sid, generateNonce())).not.toBe(hsid);
  });

  it('separates sid and nonce, so moving characters between them changes the hsid', () => {
    expect(deriveHsid('abcdefgh1', 'XYZ')).not.toBe(deriveHsid('abcdefgh', '1XYZ'));
  });

  it('does not reveal the nonce', () => {
    const nonce = generateNonce();
    expect(deriveHsid('sid-0001', nonce)).not.toContain(nonce.slice(0, 8));
  });

  it('isValidHsid and isValidSid check shape', () => {
    expect(isValidHsid('a'.repeat(22))).toBe(true);
    expect(isValidHsid('a'.repeat(21))).toBe(false);
    expect(isValidHsid('a'.repeat(23))).toBe(false);
    expect(isValidHsid(`${'a'.repeat(21)}+`)).toBe(false);
    expect(isValidHsid(22)).toBe(false);
    expect(isValidSid('abcdefgh')).toBe(true);
    expect(isValidSid('abcdefg')).toBe(false);
    expect(isValidSid('a'.repeat(64))).toBe(true);
    expect(isValidSid('a'.repeat(65))).toBe(false);
    expect(isValidSid('abc/defgh')).toBe(false);
    expect(isValidSid(null)).toBe(false);
  });
});
