import { createHash, createHmac } from 'node:crypto';
import type { HmacSha256, Sha256 } from '@tapin/protocol';

// The protocol computes these with noble, which runs everywhere; node:crypto's are 1.5× (SHA-256) and 3× (HMAC)
// faster on the server's hot paths: an hsid on every business call, two HMACs per offline code checked.
export const nodeSha256: Sha256 = (data) => createHash('sha256').update(data).digest();
export const nodeHmacSha256: HmacSha256 = (key, data) => createHmac('sha256', key).update(data).digest();
