import {
  type AnswerRequest, type DeviceSession, DEVICE_HEADERS, type Decision, type EnrolResponse, type SessionInfo,
  devicePaths, enrolStatement, exportPublicKey, generateSigningKeyPair, hashAnnounceinfo, loginStatement, parseLink, randomId,
  requestStatement, sha256Base64url, sign,
} from '@tapin/protocol';
import WebSocket from 'ws';

/**
 * A headless phone over real HTTP, built from @tapin/protocol like the harness's Phone, that names the server for
 * every call. tapin-device talks to the one server it enrolled at and fetches and answers in one go; the scale-out
 * tests need to fetch at one instance and answer at another.
 */
export class NetPhone {
  accountid = '';

  private constructor(readonly sid: string, private readonly keys: CryptoKeyPair, private readonly authpk: string) {}

  static async create(sid: string): Promise<NetPhone> {
    const keys = await generateSigningKeyPair();
    return new NetPhone(sid, keys, await exportPublicKey(keys.publicKey));
  }

  /** Redeems the enrol link at `base` (whatever origin the link names). */
  async enrol(base: string, enrolLink: string): Promise<EnrolResponse> {
    const link = parseLink(enrolLink);
    if (link.type !== 'enrol') throw new Error('not an enrol link');
    const description = 'Scale-out phone';
    const statement = enrolStatement({ sid: this.sid, token: sha256Base64url(link.token), authpk: this.authpk, pinpk: null, description });
    const body = { token: link.token, authpk: this.authpk, pinpk: null, description, clientVersion: 'e2e/1', signature: await sign(this.keys.privateKey, statement) };
    const enrolled = await call<EnrolResponse>(base, 'POST', devicePaths.enrol(this.sid), JSON.stringify(body));
    this.accountid = enrolled.accountid;
    return enrolled;
  }

  private async signed(method: string, path: string, rawBody = ''): Promise<Record<string, string>> {
    const time = Date.now();
    const reqid = randomId(16);
    const statement = requestStatement({ sid: this.sid, accountid: this.accountid, method, path, time, reqid, body: sha256Base64url(rawBody) });
    return {
      [DEVICE_HEADERS.account]: this.accountid,
      [DEVICE_HEADERS.time]: String(time),
      [DEVICE_HEADERS.reqid]: reqid,
      [DEVICE_HEADERS.signature]: await sign(this.keys.privateKey, statement),
    };
  }

  /** Opens the session at `base`: the server issues a one-time challenge (stored in the shared database). */
  async fetch(base: string, hsid: string): Promise<DeviceSession> {
    const path = devicePaths.fetchSession(this.sid, hsid);
    return call<DeviceSession>(base, 'POST', path, undefined, await this.signed('POST', path));
  }

  /** Answers a fetched session at `base`, which need not be where it was fetched. */
  async answer(base: string, session: DeviceSession, decision: Decision = 'approve'): Promise<{ state: string }> {
    const statement = loginStatement({
      sid: this.sid, hsid: session.hsid, accountid: this.accountid, challenge: session.challenge, decision,
      announceinfo: hashAnnounceinfo(session.announceinfo as SessionInfo | null),
    });
    const body: AnswerRequest = { accountid: this.accountid, decision, challenge: session.challenge, signature: await sign(this.keys.privateKey, statement) };
    return call(base, 'POST', devicePaths.answer(this.sid, session.hsid), JSON.stringify(body));
  }

  /** The device WebSocket at `base`, authenticated; resolves once the server says ready. Collects push frames. */
  async deviceSocket(base: string): Promise<{ pushes: Array<{ pushid: string; hsid: string }>; close(): void }> {
    const path = devicePaths.socket(this.sid);
    const headers = await this.signed('GET', path);
    const socket = new WebSocket(`${base.replace(/^http/, 'ws')}${path}`);
    const pushes: Array<{ pushid: string; hsid: string }> = [];
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.once('close', (code, reason) => reject(new Error(`device socket closed: ${code} ${reason.toString()}`)));
      socket.once('open', () => socket.send(JSON.stringify({
        account: headers[DEVICE_HEADERS.account], time: headers[DEVICE_HEADERS.time], reqid: headers[DEVICE_HEADERS.reqid], signature: headers[DEVICE_HEADERS.signature],
      })));
      socket.on('message', (data) => {
        const frame = JSON.parse(data.toString()) as { type: string; pushid: string; hsid: string };
        if (frame.type === 'ready') resolve();
        if (frame.type === 'push') pushes.push({ pushid: frame.pushid, hsid: frame.hsid });
      });
    });
    socket.removeAllListeners('close');
    return { pushes, close: () => socket.close() };
  }
}

export class DeviceCallError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

async function call<T>(base: string, method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    method, headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { body } : {}),
  });
  const json = (await res.json()) as T & { error?: { code: string; message: string } };
  if (!res.ok) throw new DeviceCallError(res.status, json.error?.code ?? 'unknown', `${method} ${path} at ${base}: ${res.status} ${json.error?.code ?? ''}`);
  return json;
}
