import { createECDH, createHmac, createDecipheriv, createPublicKey, randomBytes, verify } from 'node:crypto';
import { type IncomingMessage, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Test support: a real Web Push service endpoint (RFC 8030) in the test process. It holds a subscription's keys,
 * checks each push's VAPID JWT (RFC 8292: ES256 by the `k` key, `aud` = this origin, `exp` within 24 h, a `sub`)
 * and decrypts the aes128gcm body (RFC 8291 / RFC 8188) with the subscription's private key and auth secret.
 */
export interface ReceivedPush {
  payload: string;
  ttl: string | undefined;
  urgency: string | undefined;
  vapidKey: string;
  claims: { aud: string; exp: number; sub: string };
}

const hmac = (key: Buffer, data: Buffer) => createHmac('sha256', key).update(data).digest();

export class WebPushReceiver {
  readonly received: ReceivedPush[] = [];
  readonly rejected: string[] = [];
  private readonly ecdh = createECDH('prime256v1');
  private readonly authSecret = randomBytes(16);
  private waiters: Array<() => void> = [];
  /** What the next push gets as status (e.g. 410 to say the subscription is gone). */
  status = 201;

  private constructor(private readonly server: Server, readonly origin: string) {
    this.ecdh.generateKeys();
  }

  static async start(): Promise<WebPushReceiver> {
    const holder: { receiver?: WebPushReceiver } = {};
    const server = createServer((req, res) => {
      if (!holder.receiver) return void res.writeHead(503).end();
      void holder.receiver.handle(req).then((code) => res.writeHead(code).end(), () => res.writeHead(500).end());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    holder.receiver = new WebPushReceiver(server, `http://127.0.0.1:${port}`);
    return holder.receiver;
  }

  /** The subscription JSON a phone would register (PushSubscription.toJSON()). */
  subscription(path = '/push/abc'): { endpoint: string; keys: { p256dh: string; auth: string } } {
    return { endpoint: `${this.origin}${path}`, keys: { p256dh: this.ecdh.getPublicKey().toString('base64url'), auth: this.authSecret.toString('base64url') } };
  }

  async next(ms = 5000): Promise<ReceivedPush> {
    const deadline = Date.now() + ms;
    while (this.received.length === 0) {
      if (Date.now() > deadline) throw new Error(`no push arrived${this.rejected.length ? ` (rejected: ${this.rejected.join('; ')})` : ''}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 50);
        this.waiters.push(() => { clearTimeout(t); r(); });
      });
    }
    return this.received.shift()!;
  }

  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }

  private async handle(req: IncomingMessage): Promise<number> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    try {
      const push = this.check(req, body);
      this.received.push(push);
      for (const w of this.waiters.splice(0)) w();
      return this.status;
    } catch (err) {
      this.rejected.push(err instanceof Error ? err.message : String(err));
      return 400;
    }
  }

  private check(req: IncomingMessage, body: Buffer): ReceivedPush {
    if (req.method !== 'POST') throw new Error('not a POST');
    if (req.headers['content-encoding'] !== 'aes128gcm') throw new Error('not aes128gcm');
    // RFC 8292: Authorization: vapid t=<JWT>, k=<public key>
    const m = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(req.headers['authorization'] ?? '');
    if (!m) throw new Error('no vapid authorization');
    const [jwt, k] = [m[1]!, m[2]!];
    const [h, p, s] = jwt.split('.') as [string, string, string];
    const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { alg: string };
    if (header.alg !== 'ES256') throw new Error('JWT alg is not ES256');
    const point = Buffer.from(k, 'base64url');
    const key = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33, 65).toString('base64url') }, format: 'jwk' });
    if (!verify('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'))) throw new Error('JWT signature does not verify');
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as ReceivedPush['claims'];
    if (claims.aud !== this.origin) throw new Error(`JWT aud ${claims.aud} is not ${this.origin}`);
    const now = Date.now() / 1000;
    if (!(claims.exp > now && claims.exp <= now + 24 * 3600 + 60)) throw new Error('JWT exp out of range');
    if (!claims.sub || !/^(mailto:|https:)/.test(claims.sub)) throw new Error('JWT sub missing');

    // RFC 8188 header: salt(16) rs(4) idlen(1) keyid(idlen) — the keyid is the sender's ephemeral public key.
    const salt = body.subarray(0, 16);
    const idlen = body[20]!;
    const senderKey = body.subarray(21, 21 + idlen);
    const ciphertext = body.subarray(21 + idlen);
    // RFC 8291 key derivation.
    const ecdhSecret = this.ecdh.computeSecret(senderKey);
    const prkKey = hmac(this.authSecret, ecdhSecret);
    const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), this.ecdh.getPublicKey(), senderKey, Buffer.from([1])]);
    const ikm = hmac(prkKey, keyInfo);
    const prk = hmac(salt, ikm);
    const cek = hmac(prk, Buffer.from('Content-Encoding: aes128gcm\0\x01', 'binary')).subarray(0, 16);
    const nonce = hmac(prk, Buffer.from('Content-Encoding: nonce\0\x01', 'binary')).subarray(0, 12);
    const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
    decipher.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
    const padded = Buffer.concat([decipher.update(ciphertext.subarray(0, ciphertext.length - 16)), decipher.final()]);
    // The last record ends with the delimiter 0x02, then zero padding.
    let end = padded.length - 1;
    while (end >= 0 && padded[end] === 0) end--;
    if (padded[end] !== 2) throw new Error('bad record delimiter');
    const ttl = req.headers['ttl'];
    const urgency = req.headers['urgency'];
    return {
      payload: padded.subarray(0, end).toString('utf8'), vapidKey: k, claims,
      ttl: typeof ttl === 'string' ? ttl : undefined, urgency: typeof urgency === 'string' ? urgency : undefined,
    };
  }
}
