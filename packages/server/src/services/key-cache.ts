import { type KeyObject, createPublicKey, verify as nodeVerify } from 'node:crypto';
import { PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH, fromBase64url } from '@tapin/protocol';

/**
 * Verifies phones' P-256 signatures with node:crypto, keeping parsed public keys by their raw form. The protocol
 * package verifies through WebCrypto so it runs everywhere; the server is Node-only, and OpenSSL's synchronous
 * verify avoids WebCrypto's per-call promise and thread-pool hop, which cost more than the curve arithmetic under
 * load. The bound keeps memory flat when many distinct phones come by.
 */
export class PublicKeyCache {
  private readonly keys = new Map<string, KeyObject>();

  constructor(private readonly max = 10_000) {}

  private key(raw: string): KeyObject {
    const hit = this.keys.get(raw);
    if (hit) return hit;
    const point = fromBase64url(raw);
    if (point.length !== PUBLIC_KEY_LENGTH || point[0] !== 4) throw new Error('not an uncompressed P-256 point');
    const key = createPublicKey({
      format: 'jwk',
      key: { kty: 'EC', crv: 'P-256', x: Buffer.from(point.subarray(1, 33)).toString('base64url'), y: Buffer.from(point.subarray(33)).toString('base64url') },
    });
    if (this.keys.size >= this.max) this.keys.delete(this.keys.keys().next().value as string);
    this.keys.set(raw, key);
    return key;
  }

  /** ECDSA P-256 / SHA-256, IEEE P1363 signature. Never throws: anything malformed simply does not verify. */
  verify(rawPublicKey: string, message: Uint8Array, signature: string): boolean {
    try {
      const sig = fromBase64url(signature);
      if (sig.length !== SIGNATURE_LENGTH) return false;
      return nodeVerify('sha256', message, { key: this.key(rawPublicKey), dsaEncoding: 'ieee-p1363' }, sig);
    } catch {
      return false;
    }
  }
}
