import { describe, expect, it } from 'vitest';
import { fromHex, randomBytes, toBase64url } from './encoding.js';
import { derivePinKey, PIN_PBKDF2_ITERATIONS, PIN_SALT_LENGTH, signWithPinKey } from './pin-key.js';
import { isValidPublicKey, verify } from './signing.js';

const FAST = 1000;
const salt = fromHex('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff');
const message = new TextEncoder().encode('tapin/login/1\n{"decision":"approve"}');

describe('derivePinKey', () => {
  it('is deterministic for the same PIN and salt', async () => {
    const a = await derivePinKey('1234', salt, FAST);
    const b = await derivePinKey('1234', salt, FAST);
    expect(a.publicKey).toBe(b.publicKey);
    expect(a.secretKey).toEqual(b.secretKey);
    expect(a.secretKey).toHaveLength(32);
    expect(isValidPublicKey(a.publicKey)).toBe(true);
  });

  it('a different PIN, salt or iteration count gives a different key', async () => {
    const base = await derivePinKey('1234', salt, FAST);
    const keys = await Promise.all([
      derivePinKey('1235', salt, FAST),
      derivePinKey('12345', salt, FAST),
      derivePinKey('', salt, FAST),
      derivePinKey('1234', salt.map((x, i) => (i === 0 ? x ^ 1 : x)), FAST),
      derivePinKey('1234', randomBytes(PIN_SALT_LENGTH), FAST),
      derivePinKey('1234', salt, FAST + 1),
    ]);
    const publicKeys = new Set([base.publicKey, ...keys.map((k) => k.publicKey)]);
    expect(publicKeys.size).toBe(keys.length + 1);
  });

  it('normalizes the PIN with NFKC', async () => {
    const ascii = await derivePinKey('1234', salt, FAST);
    const fullWidth = await derivePinKey('１２３４', salt, FAST);
    expect(fullWidth.publicKey).toBe(ascii.publicKey);
  });

  it('uses 100 000 iterations by default', async () => {
    expect(PIN_PBKDF2_ITERATIONS).toBe(100_000);
    const byDefault = await derivePinKey('2580', salt);
    const explicit = await derivePinKey('2580', salt, 100_000);
    expect(byDefault.publicKey).toBe(explicit.publicKey);
    expect(byDefault.publicKey).not.toBe((await derivePinKey('2580', salt, FAST)).publicKey);
  });
});

describe('signWithPinKey', () => {
  it('makes deterministic P1363 signatures that WebCrypto verify accepts', async () => {
    const key = await derivePinKey('1234', salt, FAST);
    const sig = signWithPinKey(key.secretKey, message);
    expect(signWithPinKey(key.secretKey, message)).toBe(sig);
    expect(await verify(key.publicKey, message, sig)).toBe(true);
  });

  it('a signature with the wrong PIN does not verify against the enrolled key', async () => {
    const enrolled = await derivePinKey('1234', salt, FAST);
    const guess = await derivePinKey('4321', salt, FAST);
    expect(await verify(enrolled.publicKey, message, signWithPinKey(guess.secretKey, message))).toBe(false);
  });

  it('a signature over another message does not verify', async () => {
    const key = await derivePinKey('1234', salt, FAST);
    const other = new TextEncoder().encode('tapin/login/1\n{"decision":"decline"}');
    expect(await verify(key.publicKey, other, signWithPinKey(key.secretKey, message))).toBe(false);
    expect(toBase64url(key.secretKey)).not.toBe(key.publicKey);
  });
});
