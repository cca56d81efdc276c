import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fromBase64url, toBase64url } from '@tapin/protocol';

/**
 * Encrypts secrets at rest (OTP keys, virtual servers' private keys) with AES-256-GCM under one master key kept
 * outside the database, so a copy of the database alone reveals none of them. The associated data names what a
 * ciphertext belongs to, so one account's encrypted key cannot be pasted into another's row.
 */
export class SecretBox {
  private constructor(private readonly key: Buffer) {}

  static fromKey(key: Uint8Array): SecretBox {
    if (key.length !== 32) throw new Error('the master key must be 32 bytes');
    return new SecretBox(Buffer.from(key));
  }

  static random(): SecretBox {
    return new SecretBox(randomBytes(32));
  }

  /**
   * The master key from `TAPIN_SECRET_KEY` (base64url, 32 bytes) if set, else from `file`, which is created with
   * mode 0600 on first start. Several instances sharing a database must share this key.
   */
  static load(file: string, env: string | undefined): { box: SecretBox; created: boolean } {
    if (env) return { box: SecretBox.fromKey(fromBase64url(env.trim())), created: false };
    if (existsSync(file)) return { box: SecretBox.fromKey(fromBase64url(readFileSync(file, 'utf8').trim())), created: false };
    const key = randomBytes(32);
    writeFileSync(file, `${toBase64url(key)}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(file, 0o600);
    return { box: new SecretBox(key), created: true };
  }

  seal(plaintext: Uint8Array, context: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return toBase64url(Buffer.concat([iv, body, cipher.getAuthTag()]));
  }

  open(sealed: string, context: string): Uint8Array {
    const bytes = Buffer.from(fromBase64url(sealed));
    const decipher = createDecipheriv('aes-256-gcm', this.key, bytes.subarray(0, 12));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(bytes.subarray(bytes.length - 16));
    return Buffer.concat([decipher.update(bytes.subarray(12, bytes.length - 16)), decipher.final()]);
  }
}
