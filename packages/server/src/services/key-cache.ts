import { importPublicKey } from '@tapin/protocol';

/**
 * Imported WebCrypto public keys by their raw form. Importing costs about as much as a verification, and the
 * same phones come back again and again; the bound keeps memory flat when they do not.
 */
export class PublicKeyCache {
  private readonly keys = new Map<string, CryptoKey>();

  constructor(private readonly max = 10_000) {}

  async get(raw: string): Promise<CryptoKey> {
    const hit = this.keys.get(raw);
    if (hit) return hit;
    const key = await importPublicKey(raw);
    if (this.keys.size >= this.max) this.keys.delete(this.keys.keys().next().value as string);
    this.keys.set(raw, key);
    return key;
  }
}
