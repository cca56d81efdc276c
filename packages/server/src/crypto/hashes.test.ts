import { readFileSync } from 'node:fs';
import { deriveHsid, fromHex, otpCode } from '@tapin/protocol';
import { describe, expect, it } from 'vitest';
import { hsidForNonce } from '../services/sessions.js';
import { nodeHmacSha256, nodeSha256 } from './hashes.js';

const vectors = JSON.parse(readFileSync(new URL('../../../protocol/vectors.json', import.meta.url), 'utf8'));

describe('node:crypto in place of noble on the server', () => {
  it('derives every hsid vector as the protocol does', () => {
    for (const v of vectors.hsid as { sid: string; nonce: string; hsid: string }[]) {
      expect(deriveHsid(v.sid, v.nonce, nodeSha256)).toBe(v.hsid);
      expect(hsidForNonce(v.sid, v.nonce)).toBe(v.hsid);
    }
  });

  it('computes every otp vector\'s MAC and code, and the same codes as noble', () => {
    for (const v of vectors.otp as { otpkey: string; sid: string; hsid: string; T: number; messageHex: string; mac: string; code: number }[]) {
      expect(Buffer.from(nodeHmacSha256(fromHex(v.otpkey), fromHex(v.messageHex))).toString('hex')).toBe(v.mac);
      expect(otpCode(fromHex(v.otpkey), v.sid, v.hsid, v.T, nodeHmacSha256)).toBe(v.code);
    }
    const key = fromHex('00'.repeat(31) + 'ff');
    for (let interval = 0; interval < 200; interval++) {
      expect(otpCode(key, 'sid-x', 'hsid-y', interval, nodeHmacSha256)).toBe(otpCode(key, 'sid-x', 'hsid-y', interval));
    }
  });
});
