import { sha256 } from '@noble/hashes/sha2.js';
import { canonicalJson } from './canonical-json.js';
import { toBase64url, utf8Encode } from './encoding.js';
import type { SessionInfo } from './schemas.js';

/**
 * Signed statements (DESIGN §6). Bytes = UTF-8 of `label + "\n" + canonicalJson(fields)`: the label names the
 * ceremony and its version so a signature made for one can never be accepted as another, and canonical JSON lets
 * any implementation rebuild the exact bytes.
 */
export const LABELS = {
  login: 'tapin/login/1',
  enrol: 'tapin/enrol/1',
  request: 'tapin/request/1',
  server: 'tapin/server/1',
  pin: 'tapin/pin/1',
} as const;

export type Decision = 'approve' | 'decline';

export interface LoginFields {
  sid: string;
  hsid: string;
  accountid: string;
  /** The one-time server challenge: makes the statement single-use. */
  challenge: string;
  decision: Decision;
  /** `hashAnnounceinfo` of what the phone showed, so nobody can claim the user approved something else. */
  announceinfo: string;
}

export interface EnrolFields {
  sid: string;
  /** base64url SHA-256 of the enrol token: binds the keys to this one enrolment. */
  token: string;
  authpk: string;
  /** Second-factor public key, or null for a headless account. */
  pinpk: string | null;
  description: string;
}

export interface RequestFields {
  sid: string;
  accountid: string;
  method: string;
  path: string;
  /** Unix time in ms when the phone signed; the server accepts a small window around its own clock. */
  time: number;
  /** Random per request; the server remembers it for the window so the request cannot be replayed. */
  reqid: string;
  /** base64url SHA-256 of the raw body ("" for none). */
  body: string;
}

/**
 * A PIN change: the old second-factor key (proving the old PIN) and the new one (proving possession) both sign
 * this, so the server learns nothing that lets it test PINs, and a wrong old PIN counts as a wrong PIN.
 */
export interface PinChangeFields {
  sid: string;
  accountid: string;
  /** The second-factor public key being replaced (null when a headless account sets its first PIN). */
  oldpinpk: string | null;
  pinpk: string;
}

/** Server parameters the phone receives at enrolment, signed with the virtual server's key. */
export interface ServerParams {
  sid: string;
  name: string;
  logo: string;
  publicUrl: string;
  serverpk: string;
  pingTime: number;
  pinTimeout: number;
  serverFlags: string[];
  issued: number;
}

function statement(label: string, fields: object): Uint8Array {
  return utf8Encode(`${label}\n${canonicalJson(fields)}`);
}

// Each builder copies exactly its fields: an object with extra properties (say, a whole request body) must never
// change the signed bytes.
export const loginStatement = (f: LoginFields): Uint8Array =>
  statement(LABELS.login, { sid: f.sid, hsid: f.hsid, accountid: f.accountid, challenge: f.challenge, decision: f.decision, announceinfo: f.announceinfo });
export const enrolStatement = (f: EnrolFields): Uint8Array =>
  statement(LABELS.enrol, { sid: f.sid, token: f.token, authpk: f.authpk, pinpk: f.pinpk, description: f.description });
export const requestStatement = (f: RequestFields): Uint8Array =>
  statement(LABELS.request, { sid: f.sid, accountid: f.accountid, method: f.method, path: f.path, time: f.time, reqid: f.reqid, body: f.body });
export const pinChangeStatement = (f: PinChangeFields): Uint8Array =>
  statement(LABELS.pin, { sid: f.sid, accountid: f.accountid, oldpinpk: f.oldpinpk, pinpk: f.pinpk });
export const serverParamsStatement = (p: ServerParams): Uint8Array =>
  statement(LABELS.server, {
    sid: p.sid, name: p.name, logo: p.logo, publicUrl: p.publicUrl, serverpk: p.serverpk, pingTime: p.pingTime,
    pinTimeout: p.pinTimeout, serverFlags: p.serverFlags, issued: p.issued,
  });

export function sha256Base64url(data: Uint8Array | string): string {
  return toBase64url(sha256(typeof data === 'string' ? utf8Encode(data) : data));
}

/** The hash of the announceinfo as shown; an absent announceinfo hashes as JSON `null`. */
export function hashAnnounceinfo(announceinfo: SessionInfo | null | undefined): string {
  return sha256Base64url(canonicalJson(announceinfo ?? null));
}
