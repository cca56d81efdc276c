import { readFileSync } from 'node:fs';
import { p256 } from '@noble/curves/nist.js';
import { describe, expect, it } from 'vitest';
import { fromBase64url, toBase64url } from './encoding.js';
import {
  exportPublicKey,
  generateSigningKeyPair,
  importPublicKey,
  isValidPublicKey,
  PUBLIC_KEY_LENGTH,
  sign,
  SIGNATURE_LENGTH,
  verify,
} from './signing.js';

const vectors = JSON.parse(readFileSync(new URL('../vectors.json', import.meta.url), 'utf8')) as {
  ecdsa: { privateKey: string; publicKey: string; message: string; signature: string };
};
const { publicKey, signature } = vectors.ecdsa;
const message = new TextEncoder().encode(vectors.ecdsa.message);

function flipBit(b64: string, bit: number): string {
  const bytes = fromBase64url(b64);
  bytes[bit >> 3]! ^= 1 << (bit & 7);
  return toBase64url(bytes);
}

describe('verify with the fixed-key vector', () => {
  it('accepts the vector signature, with the key as text or as a CryptoKey', async () => {
    expect(await verify(publicKey, message, signature)).toBe(true);
    expect(await verify(await importPublicKey(publicKey), message, signature)).toBe(true);
  });

  it('rejects any flipped bit in the signature or the message', async () => {
    for (const bit of [0, 7, 100, 255, 256, 300, 511]) {
      await expect(verify(publicKey, message, flipBit(signature, bit))).resolves.toBe(false);
    }
    for (const index of [0, 13, message.length - 1]) {
      const tampered = message.slice();
      tampered[index]! ^= 0x01;
      await expect(verify(publicKey, tampered, signature)).resolves.toBe(false);
    }
  });

  it('rejects the wrong key', async () => {
    const other = await generateSigningKeyPair();
    await expect(verify(other.publicKey, message, signature)).resolves.toBe(false);
    await expect(verify(await exportPublicKey(other.publicKey), message, signature)).resolves.toBe(false);
  });

  it('rejects signatures of the wrong length or form, and never throws', async () => {
    const sig = fromBase64url(signature);
    const der = p256.Signature.fromBytes(sig, 'compact').toBytes('der');
    const cases = [
      '',
      toBase64url(sig.slice(0, 63)),
      toBase64url(new Uint8Array([...sig, 0])),
      toBase64url(der),
      toBase64url(new Uint8Array(64)),
      toBase64url(new Uint8Array(64).fill(0xff)),
      `${signature}=`,
      'not base64url!',
      signature.replace(/[A-Z]/, '+'),
    ];
    for (const bad of cases) await expect(verify(publicKey, message, bad), bad).resolves.toBe(false);
  });

  it('rejects malformed public keys without throwing', async () => {
    const pk = fromBase64url(publicKey);
    const compressed = p256.Point.fromBytes(pk).toBytes(true);
    const keys = [
      '',
      'garbage!',
      toBase64url(pk.slice(0, 64)),
      toBase64url(compressed),
      toBase64url(new Uint8Array([4, ...new Uint8Array(64)])),
      flipBit(publicKey, 8 * 40), // off the curve
      toBase64url(new Uint8Array([5, ...pk.slice(1)])),
    ];
    for (const key of keys) await expect(verify(key, message, signature), key).resolves.toBe(false);
    // A private key where a public one belongs is also simply "does not verify".
    const pair = await generateSigningKeyPair();
    await expect(verify(pair.privateKey, message, signature)).resolves.toBe(false);
  });
});

describe('sign / verify round trip', () => {
  it('signs with a fresh WebCrypto key pair and verifies', async () => {
    const pair = await generateSigningKeyPair();
    expect(pair.privateKey.extractable).toBe(false);
    const sig = await sign(pair.privateKey, message);
    expect(fromBase64url(sig)).toHaveLength(SIGNATURE_LENGTH);
    expect(await verify(pair.publicKey, message, sig)).toBe(true);
    const text = await exportPublicKey(pair.publicKey);
    expect(fromBase64url(text)).toHaveLength(PUBLIC_KEY_LENGTH);
    expect(isValidPublicKey(text)).toBe(true);
    expect(await verify(text, message, sig)).toBe(true);
    expect(await verify(text, new TextEncoder().encode('tapin/enrol/1\n{}'), sig)).toBe(false);
    // ECDSA is randomized in WebCrypto: two signatures differ but both verify.
    const again = await sign(pair.privateKey, message);
    expect(await verify(text, message, again)).toBe(true);
  });

  it('WebCrypto signatures verify with noble (P1363, SHA-256 prehash)', async () => {
    const pair = await generateSigningKeyPair();
    const sig = await sign(pair.privateKey, message);
    const pk = fromBase64url(await exportPublicKey(pair.publicKey));
    expect(p256.verify(fromBase64url(sig), message, pk, { lowS: false })).toBe(true);
  });

  it('an extractable pair can be made on request', async () => {
    const pair = await generateSigningKeyPair(true);
    expect(pair.privateKey.extractable).toBe(true);
  });
});

describe('isValidPublicKey / importPublicKey', () => {
  it('accepts the vector key and rejects the rest', async () => {
    expect(isValidPublicKey(publicKey)).toBe(true);
    expect(isValidPublicKey(flipBit(publicKey, 8 * 40))).toBe(false);
    expect(isValidPublicKey(publicKey.slice(1))).toBe(false);
    expect(isValidPublicKey(`${publicKey}A`)).toBe(false);
    expect(isValidPublicKey(toBase64url(new Uint8Array([4, ...new Uint8Array(64)])))).toBe(false);
    expect(isValidPublicKey(42)).toBe(false);
    expect(isValidPublicKey(`${publicKey.slice(0, 86)}+`)).toBe(false);
    await expect(importPublicKey(toBase64url(new Uint8Array(65)))).rejects.toThrow();
    await expect(importPublicKey(publicKey.slice(0, 40))).rejects.toThrow();
  });
});
