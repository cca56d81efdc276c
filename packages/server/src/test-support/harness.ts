/**
 * Test support (not used by the server): an in-process Tapin server with two virtual servers, a fake clock, a
 * business-API caller, and a phone that does with @tapin/protocol what the authenticator app does. Free of vitest
 * so that it compiles with the package; assertions live in the tests.
 */
import {
  type AnswerRequest, type DeviceSession, DEVICE_HEADERS, type Decision, type EnrolResponse, type PinKey, type SessionInfo,
  derivePinKey, devicePaths, enrolStatement, exportPublicKey, fromBase64url, generateNonce, generateOtp, generateSigningKeyPair,
  hashAnnounceinfo, loginStatement, parseLink, randomBytes, randomId, requestStatement, sha256Base64url, sign, signWithPinKey,
} from '@tapin/protocol';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse as InjectResponse } from 'fastify';
import { type ContextOptions, createContext } from '../context-factory.js';
import { buildApp } from '../http/app.js';
import type { ServiceContext } from '../services/context.js';
import { createVirtualServer } from '../services/virtual-servers.js';

export type { InjectResponse };

/** A clock the tests move by hand. Starts at the real time so that nothing looks odd in logs. */
export class Clock {
  t = Date.now();
  readonly now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

export interface Harness {
  ctx: ServiceContext;
  app: FastifyInstance;
  clock: Clock;
  /** The virtual server the tests use, and a second one whose key must never work on the first. */
  a: { sid: string; apiKey: string };
  b: { sid: string; apiKey: string };
  close(): Promise<void>;
}

export async function startHarness(options: Partial<Omit<ContextOptions, 'db' | 'publicUrl' | 'now'>> = {}): Promise<Harness> {
  const clock = new Clock();
  const { ctx } = await createContext({ db: ':memory:', publicUrl: 'http://localhost', now: clock.now, ...options });
  const a = await createVirtualServer(ctx, 'Test');
  const b = await createVirtualServer(ctx, 'Test');
  const app = await buildApp(ctx);
  await app.ready();
  return {
    ctx, app, clock, a, b,
    async close() {
      await app.close();
      await ctx.bus.close();
      await ctx.store.close();
    },
  };
}

// --- business API --------------------------------------------------------------------------------------------

export interface BusinessCall {
  nonce?: string;
  body?: unknown;
  /** A raw payload (sent as is, with Content-Type: application/json unless headers say otherwise). */
  payload?: string | Buffer;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  remoteAddress?: string;
}

/** Calls `/v1/servers/{sid}{path}` with `Authorization: Bearer <apiKey>` (omitted when apiKey is null). */
export function business(app: FastifyInstance, sid: string, apiKey: string | null) {
  return (method: InjectOptions['method'], path: string, call: BusinessCall = {}): Promise<InjectResponse> => {
    const headers: Record<string, string> = {};
    if (apiKey !== null) headers['authorization'] = `Bearer ${apiKey}`;
    if (call.nonce !== undefined) headers['x-nonce'] = call.nonce;
    if (call.body !== undefined || call.payload !== undefined) headers['content-type'] = 'application/json';
    Object.assign(headers, call.headers);
    return app.inject({
      method,
      url: `/v1/servers/${sid}${path}`,
      headers,
      ...(call.query ? { query: call.query } : {}),
      ...(call.payload !== undefined ? { payload: call.payload } : call.body !== undefined ? { payload: JSON.stringify(call.body) } : {}),
      ...(call.remoteAddress ? { remoteAddress: call.remoteAddress } : {}),
    });
  };
}

export { generateNonce };

// --- error bodies --------------------------------------------------------------------------------------------

export interface ErrorSeen {
  status: number;
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

/**
 * Reads an error answer and checks its form: JSON `{error: {code, message[, details]}}` and nothing else, with no
 * stack trace or source location anywhere in the body. Throws (failing the test) when the form is wrong.
 */
export function errorOf(res: InjectResponse): ErrorSeen {
  const text = res.body;
  if (/\n\s*at\s|\bat\s+\S+\s+\(|\.(ts|js):\d+:\d+|"stack"/.test(text)) throw new Error(`error body leaks a stack trace: ${text}`);
  if (!String(res.headers['content-type'] ?? '').startsWith('application/json')) throw new Error(`error is not JSON (${String(res.headers['content-type'])}): ${text}`);
  const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; details?: unknown } };
  const keys = Object.keys(body);
  if (keys.length !== 1 || keys[0] !== 'error' || typeof body.error !== 'object' || body.error === null) throw new Error(`not an error body: ${text}`);
  const { code, message, details, ...rest } = body.error;
  if (Object.keys(rest).length > 0) throw new Error(`unexpected fields in error: ${text}`);
  if (typeof code !== 'string' || typeof message !== 'string' || message.length === 0) throw new Error(`error without code/message: ${text}`);
  return { status: res.statusCode, code, message, ...(details !== undefined ? { details: details as Record<string, unknown> } : {}) };
}

// --- the phone -----------------------------------------------------------------------------------------------

export interface PhoneOptions {
  /** The PIN, or null for a headless account (no second factor). Default '1234'. */
  pin?: string | null;
  description?: string;
}

/** What the authenticator does, over the device API, with the real protocol functions. */
export class Phone {
  readonly sid: string;
  accountid = '';
  enrolment: EnrolResponse | undefined;
  private readonly pinKeys = new Map<string, PinKey>();

  private constructor(
    private readonly app: FastifyInstance,
    sid: string,
    readonly keys: CryptoKeyPair,
    readonly authpk: string,
    readonly salt: Uint8Array,
    readonly pin: string | null,
    private readonly now: () => number,
  ) {
    this.sid = sid;
  }

  static async create(app: FastifyInstance, sid: string, now: () => number, pin: string | null = '1234'): Promise<Phone> {
    const keys = await generateSigningKeyPair();
    return new Phone(app, sid, keys, await exportPublicKey(keys.publicKey), randomBytes(32), pin, now);
  }

  /** The second-factor key for `pin` (default: the right PIN), derived like the app does (PBKDF2, default iterations). */
  async pinKey(pin = this.pin): Promise<PinKey> {
    if (pin === null) throw new Error('headless phone');
    let key = this.pinKeys.get(pin);
    if (!key) {
      key = await derivePinKey(pin, this.salt);
      this.pinKeys.set(pin, key);
    }
    return key;
  }

  /** The enrol request body for an enrol token, signed with the auth key (and the PIN key unless headless). */
  async enrolBody(token: string, description = 'Test phone'): Promise<Record<string, unknown>> {
    const pinpk = this.pin === null ? null : (await this.pinKey()).publicKey;
    const statement = enrolStatement({ sid: this.sid, token: sha256Base64url(token), authpk: this.authpk, pinpk, description });
    return {
      token, authpk: this.authpk, pinpk, description, clientVersion: 'test/1',
      signature: await sign(this.keys.privateKey, statement),
      ...(pinpk === null ? {} : { pinsignature: signWithPinKey((await this.pinKey()).secretKey, statement) }),
    };
  }

  /** POSTs an enrolment for the token in `enrolData` (the enrol link); on success the phone knows its account. */
  async enrol(enrolData: string, description?: string): Promise<InjectResponse> {
    const link = parseLink(enrolData);
    if (link.type !== 'enrol') throw new Error('not an enrol link');
    const res = await this.app.inject({ method: 'POST', url: devicePaths.enrol(this.sid), payload: await this.enrolBody(link.token, description) });
    if (res.statusCode === 200) {
      this.enrolment = res.json<EnrolResponse>();
      this.accountid = this.enrolment.accountid;
    }
    return res;
  }

  /** The signed-request headers for one call (path = URL path, body = hash of the raw body). */
  async signedHeaders(method: string, path: string, rawBody = '', over: { time?: number; reqid?: string; accountid?: string } = {}): Promise<Record<string, string>> {
    const time = over.time ?? this.now();
    const reqid = over.reqid ?? randomId(16);
    const accountid = over.accountid ?? this.accountid;
    const statement = requestStatement({ sid: this.sid, accountid, method, path, time, reqid, body: sha256Base64url(rawBody) });
    return {
      [DEVICE_HEADERS.account]: accountid,
      [DEVICE_HEADERS.time]: String(time),
      [DEVICE_HEADERS.reqid]: reqid,
      [DEVICE_HEADERS.signature]: await sign(this.keys.privateKey, statement),
    };
  }

  /** A signed POST …/sessions/{hsid}/fetch (empty body). */
  async fetchRaw(hsid: string, headers?: Record<string, string>): Promise<InjectResponse> {
    const url = devicePaths.fetchSession(this.sid, hsid);
    return this.app.inject({ method: 'POST', url, headers: headers ?? (await this.signedHeaders('POST', url)) });
  }

  /** Fetches a session and returns what the phone shows; throws unless the server answers 200. */
  async fetch(hsid: string): Promise<DeviceSession> {
    const res = await this.fetchRaw(hsid);
    if (res.statusCode !== 200) throw new Error(`fetch failed: ${res.statusCode} ${res.body}`);
    return res.json<DeviceSession>();
  }

  /**
   * An answer body. `pin`: the PIN to sign with (default: the right one when the session asks for it or
   * `withPin` is set), or false to send no PIN signature.
   */
  async answerBody(session: Pick<DeviceSession, 'hsid' | 'challenge' | 'announceinfo'>, decision: Decision, pin?: string | false): Promise<AnswerRequest> {
    const statement = loginStatement({
      sid: this.sid, hsid: session.hsid, accountid: this.accountid, challenge: session.challenge, decision,
      announceinfo: hashAnnounceinfo(session.announceinfo as SessionInfo | null),
    });
    const body: AnswerRequest = { accountid: this.accountid, decision, challenge: session.challenge, signature: await sign(this.keys.privateKey, statement) };
    const usePin = pin === undefined ? (this.pin ?? false) : pin;
    if (usePin !== false) body.pinsignature = signWithPinKey((await this.pinKey(usePin)).secretKey, statement);
    return body;
  }

  answerRaw(hsid: string, body: unknown): Promise<InjectResponse> {
    return this.app.inject({
      method: 'POST', url: devicePaths.answer(this.sid, hsid),
      ...(typeof body === 'string' ? { payload: body, headers: { 'content-type': 'application/json' } } : { payload: body as Record<string, unknown> }),
    });
  }

  async answer(session: DeviceSession, decision: Decision, pin?: string | false): Promise<InjectResponse> {
    return this.answerRaw(session.hsid, await this.answerBody(session, decision, pin));
  }

  /** A signed POST with an empty body, as the phone sends ping and logout. */
  async signedPost(url: string): Promise<InjectResponse> {
    return this.app.inject({ method: 'POST', url, headers: await this.signedHeaders('POST', url) });
  }

  /** Keeps a logged-in session alive (signed). */
  ping(hsid: string): Promise<InjectResponse> {
    return this.signedPost(devicePaths.ping(this.sid, hsid));
  }

  /** Ends a session this phone logged in (signed). */
  logout(hsid: string): Promise<InjectResponse> {
    return this.signedPost(devicePaths.logout(this.sid, hsid));
  }

  /** The offline code this phone shows for a session at `unixMs` (default: the clock's now), from its enrolment. */
  otp(hsid: string, unixMs = this.now()): string {
    if (!this.enrolment) throw new Error('not enrolled');
    return generateOtp(fromBase64url(this.enrolment.otpkey), this.enrolment.otpref, this.sid, hsid, unixMs);
  }

  /** Fetch and approve (with the right PIN); throws unless logged in. */
  async login(hsid: string): Promise<void> {
    const res = await this.answer(await this.fetch(hsid), 'approve');
    if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode} ${res.body}`);
  }
}

/** Creates an enrolment through the business API and enrols a new phone with it. */
export async function enrolPhone(h: Harness, options: PhoneOptions & { userid?: string; server?: 'a' | 'b' } = {}): Promise<Phone> {
  const srv = h[options.server ?? 'a'];
  const res = await business(h.app, srv.sid, srv.apiKey)('POST', '/enrolments', {
    body: { name: options.description ?? 'Phone', ...(options.userid !== undefined ? { userid: options.userid } : {}) },
  });
  if (res.statusCode !== 200) throw new Error(`enrolment failed: ${res.statusCode} ${res.body}`);
  const phone = await Phone.create(h.app, srv.sid, h.clock.now, options.pin === undefined ? '1234' : options.pin);
  const enrolled = await phone.enrol(res.json<{ data: string }>().data, options.description);
  if (enrolled.statusCode !== 200) throw new Error(`enrol failed: ${enrolled.statusCode} ${enrolled.body}`);
  return phone;
}

// --- database snapshots --------------------------------------------------------------------------------------

/** Everything a test may want to prove unchanged, read through the store. */
export async function snapshot(ctx: ServiceContext, sid: string, hsids: readonly string[] = []): Promise<unknown> {
  return {
    server: await ctx.store.getServer(sid),
    sessions: await Promise.all(hsids.map((hsid) => ctx.store.getSession(sid, hsid))),
    accounts: (await ctx.store.listAccounts(sid, { limit: 1000 })).items,
    users: (await ctx.store.listUsers(sid, { limit: 1000 })).items,
  };
}
