/**
 * Checks every case in ../vectors.json against the implementation, and where it is cheap, against an independent
 * re-computation of the DESIGN §6 formula with node:crypto (so the vectors are not merely the implementation's echo).
 */
import { createECDH, createHash, createHmac, createPublicKey, pbkdf2Sync, verify as nodeVerify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { p256 } from '@noble/curves/nist.js';
import { describe, expect, it } from 'vitest';
import { decodeCrockfordInt, encodeCrockfordInt, normalizeCrockford } from './crockford.js';
import { fromBase64url, fromHex, toBase64url, toHex, utf8Decode } from './encoding.js';
import { TapinError } from './errors.js';
import { deriveHsid, isValidHsid } from './hsid.js';
import { buildEnrolUrl, buildLoginUrl, parseLink, parseScan, type LinkData, type ScannedData } from './links.js';
import { isValidNonce } from './nonce.js';
import { formatOtp, otpCode, otpInterval, parseOtp } from './otp.js';
import { derivePinKey, signWithPinKey } from './pin-key.js';
import { verify } from './signing.js';
import {
  enrolStatement,
  hashAnnounceinfo,
  LABELS,
  loginStatement,
  pinChangeStatement,
  requestStatement,
  serverParamsStatement,
  sha256Base64url,
  type EnrolFields,
  type LoginFields,
  type PinChangeFields,
  type RequestFields,
  type ServerParams,
} from './statements.js';
import { canonicalJson } from './canonical-json.js';
import type { SessionInfo } from './schemas.js';

interface OtpCase {
  name: string;
  otpkey: string;
  sid: string;
  hsid: string;
  otpref: number;
  unixMs: number;
  T: number;
  messageHex: string;
  mac: string;
  offset: number;
  truncated31: number;
  code: number;
  otp: string;
}

interface Vectors {
  description: Record<string, string>;
  version: number;
  hsid: { sid: string; nonce: string; note?: string; input: string; hsid: string }[];
  nonce: { nonce: unknown; reason: string; valid: boolean }[];
  crockford: {
    encodeInt: { value: number; width: number; text: string }[];
    encodeIntErrors: { value: number; width: number; error: string; reason: string }[];
    decodeInt: { symbols: string; value: number | null; reason?: string }[];
    normalize: { input: string; normalized: string }[];
  };
  otp: OtpCase[];
  otpAcceptance: {
    name: string;
    otpkey: string;
    sid: string;
    hsid: string;
    otpref: number;
    phoneUnixMs: number;
    otp: string;
    serverUnixMs: number;
    serverT: number;
    accepted: boolean;
    matchedT: number | null;
  }[];
  otpParse: { input: string; note: string; result: { otpref: number; code: number } | null }[];
  statements: (
    | { kind: 'login'; label: string; fields: LoginFields; text: string; sha256: string }
    | { kind: 'enrol'; label: string; fields: EnrolFields; text: string; sha256: string }
    | { kind: 'request'; label: string; fields: RequestFields; text: string; sha256: string }
    | { kind: 'server'; label: string; fields: ServerParams; text: string; sha256: string }
    | { kind: 'pin'; label: string; fields: PinChangeFields; text: string; sha256: string }
  )[];
  announceinfoHashes: { announceinfo: SessionInfo | null; canonical: string; hash: string }[];
  enrolTokenHash: { token: string; hash: string };
  ecdsa: {
    curve: string;
    hash: string;
    privateKey: string;
    publicKey: string;
    statement: string;
    message: string;
    messageSha256: string;
    signature: string;
    signatureHex: string;
  };
  pinKeys: {
    pin: string;
    pinNFKC?: string;
    salt: string;
    iterations: number;
    pbkdf2: string;
    secretKey: string;
    publicKey: string;
    signedMessage: string;
    signature: string;
  }[];
  links: {
    parse: { url: string; note: string; result?: LinkData; error?: string }[];
    scan: { data: string; note: string; result?: ScannedData; error?: string }[];
    build: { kind: 'login' | 'enrol'; publicUrl: string; sid: string; hsid?: string; token?: string; returnUrl?: string; url: string }[];
  };
}

const vectors = JSON.parse(readFileSync(new URL('../vectors.json', import.meta.url), 'utf8')) as Vectors;
const enc = new TextEncoder();
const sha256Hex = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');
const P256_N = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');

describe('vectors.json', () => {
  it('has a description of every section first', () => {
    expect(Object.keys(vectors)[0]).toBe('description');
    for (const section of ['hsid', 'nonce', 'crockford', 'otp', 'otpAcceptance', 'otpParse', 'statements', 'ecdsa', 'pinKeys', 'links']) {
      expect(vectors.description[section], section).toMatch(/\S/);
      expect(vectors, section).toHaveProperty(section);
    }
    expect(vectors.version).toBe(1);
  });

  describe('hsid', () => {
    it.each(vectors.hsid)('$sid / $nonce', ({ sid, nonce, input, hsid }) => {
      expect(input).toBe(`tapin-hsid\0${sid}\0${nonce}`);
      expect(deriveHsid(sid, nonce)).toBe(hsid);
      // Independently: base64url(SHA-256(input))[0..22].
      expect(createHash('sha256').update(input, 'utf8').digest('base64url').slice(0, 22)).toBe(hsid);
      expect(isValidHsid(hsid)).toBe(true);
    });

    it('differs for every case', () => {
      expect(new Set(vectors.hsid.map((c) => c.hsid)).size).toBe(vectors.hsid.length);
    });
  });

  describe('nonce', () => {
    it.each(vectors.nonce)('$valid: $reason', ({ nonce, valid }) => {
      expect(isValidNonce(nonce)).toBe(valid);
    });

    it('covers both answers and every named reason', () => {
      const reasons = vectors.nonce.map((c) => c.reason).join('\n');
      for (const word of ['too short', 'too long', '31 hex', 'bad chars', '22 chars', '32 chars', '128 chars', 'placeholder', 'not a string']) {
        expect(reasons).toContain(word);
      }
      expect(vectors.nonce.some((c) => c.valid)).toBe(true);
      expect(vectors.nonce.some((c) => !c.valid)).toBe(true);
    });
  });

  describe('crockford', () => {
    it.each(vectors.crockford.encodeInt)('$value in $width symbols is $text', ({ value, width, text }) => {
      expect(encodeCrockfordInt(value, width)).toBe(text);
      expect(decodeCrockfordInt(text)).toBe(value);
      // Independently: BigInt base 32 with Crockford's alphabet, left-padded.
      const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
      const plain = BigInt(value).toString(32).padStart(width, '0');
      expect([...plain].map((d) => alphabet[parseInt(d, 32)]).join('')).toBe(text);
    });

    it.each(vectors.crockford.encodeIntErrors)('$value in $width symbols throws ($reason)', ({ value, width }) => {
      expect(() => encodeCrockfordInt(value, width)).toThrow(RangeError);
    });

    it.each(vectors.crockford.decodeInt)('decodes $symbols', ({ symbols, value }) => {
      expect(decodeCrockfordInt(symbols) ?? null).toBe(value);
    });

    it.each(vectors.crockford.normalize)('normalizes "$input"', ({ input, normalized }) => {
      expect(normalizeCrockford(input)).toBe(normalized);
    });
  });

  describe('otp', () => {
    it.each(vectors.otp)('$name', (c) => {
      const key = fromHex(c.otpkey);
      expect(otpInterval(c.unixMs)).toBe(c.T);
      expect(c.T).toBe(Math.floor(c.unixMs / 120_000));
      expect(otpCode(key, c.sid, c.hsid, c.T)).toBe(c.code);
      expect(formatOtp(c.otpref, c.code)).toBe(c.otp);
      expect(c.otp).toMatch(/^[0-9A-HJKMNP-TV-Z]{6} [0-9A-HJKMNP-TV-Z]{6}$/);
      expect(parseOtp(c.otp)).toEqual({ otpref: c.otpref, code: c.code });

      // Independently, DESIGN §6 step by step with node:crypto.
      const counter = Buffer.alloc(8);
      counter.writeBigUInt64BE(BigInt(c.T));
      const message = Buffer.concat([Buffer.from(`tapin/otp/1\0${c.sid}\0${c.hsid}\0`, 'utf8'), counter]);
      expect(message.toString('hex')).toBe(c.messageHex);
      const mac = createHmac('sha256', Buffer.from(c.otpkey, 'hex')).update(message).digest();
      expect(mac.toString('hex')).toBe(c.mac);
      const offset = mac[31]! & 0x0f;
      expect(offset).toBe(c.offset);
      expect(mac.readUInt32BE(offset) & 0x7fffffff).toBe(c.truncated31);
      expect(c.truncated31 % 2 ** 30).toBe(c.code);
    });

    it('includes a case where mod 2^30 changes the truncated value, and one where it does not', () => {
      expect(vectors.otp.some((c) => c.truncated31 >= 2 ** 30 && c.code !== c.truncated31)).toBe(true);
      expect(vectors.otp.some((c) => c.truncated31 < 2 ** 30)).toBe(true);
    });

    it.each(vectors.otpAcceptance)('acceptance: $name', (c) => {
      const key = fromHex(c.otpkey);
      const parsed = parseOtp(c.otp);
      expect(parsed?.otpref).toBe(c.otpref);
      const T = otpInterval(c.serverUnixMs);
      expect(T).toBe(c.serverT);
      const matched = [T, T - 1].find((t) => otpCode(key, c.sid, c.hsid, t) === parsed?.code);
      expect(matched ?? null).toBe(c.matchedT);
      expect(matched !== undefined).toBe(c.accepted);
      // The code the phone showed is the code of the phone's own interval.
      expect(formatOtp(c.otpref, otpCode(key, c.sid, c.hsid, otpInterval(c.phoneUnixMs)))).toBe(c.otp);
    });

    it('has a case accepted only through T-1, and one rejected as too old', () => {
      expect(vectors.otpAcceptance.some((c) => c.accepted && c.matchedT === c.serverT - 1)).toBe(true);
      expect(vectors.otpAcceptance.some((c) => !c.accepted)).toBe(true);
    });

    it.each(vectors.otpParse)('parses "$input" ($note)', ({ input, result }) => {
      expect(parseOtp(input) ?? null).toEqual(result);
    });
  });

  describe('statements', () => {
    const build = (s: Vectors['statements'][number]): Uint8Array => {
      switch (s.kind) {
        case 'login': return loginStatement(s.fields);
        case 'enrol': return enrolStatement(s.fields);
        case 'request': return requestStatement(s.fields);
        case 'server': return serverParamsStatement(s.fields);
        case 'pin': return pinChangeStatement(s.fields);
      }
    };

    it.each(vectors.statements)('$kind', (s) => {
      const bytes = build(s);
      expect(utf8Decode(bytes)).toBe(s.text);
      expect(Buffer.from(bytes).equals(Buffer.from(s.text, 'utf8'))).toBe(true);
      expect(sha256Hex(bytes)).toBe(s.sha256);
      expect(s.label).toBe(LABELS[s.kind]);
      // label + "\n" + canonical JSON; and the canonical JSON is JSON that reads back as the fields.
      const [label, json, ...rest] = s.text.split('\n');
      expect(label).toBe(s.label);
      expect(rest).toEqual([]);
      expect(JSON.parse(json!)).toEqual(s.fields);
      expect(json).toBe(canonicalJson(s.fields));
    });

    it('covers every statement kind', () => {
      expect(new Set(vectors.statements.map((s) => s.kind))).toEqual(new Set(Object.keys(LABELS)));
    });

    it.each(vectors.announceinfoHashes)('announceinfo hash of $canonical', ({ announceinfo, canonical, hash }) => {
      expect(canonicalJson(announceinfo)).toBe(canonical);
      expect(hashAnnounceinfo(announceinfo)).toBe(hash);
      expect(createHash('sha256').update(canonical, 'utf8').digest('base64url')).toBe(hash);
    });

    it('enrol token hash', () => {
      const { token, hash } = vectors.enrolTokenHash;
      expect(sha256Base64url(token)).toBe(hash);
      expect(createHash('sha256').update(token, 'utf8').digest('base64url')).toBe(hash);
    });
  });

  describe('ecdsa', () => {
    const v = vectors.ecdsa;
    const message = enc.encode(v.message);

    it('public key belongs to the private key', () => {
      const ecdh = createECDH('prime256v1');
      ecdh.setPrivateKey(Buffer.from(v.privateKey, 'hex'));
      expect(ecdh.getPublicKey('base64url', 'uncompressed')).toBe(v.publicKey);
    });

    it('message is the login statement of the vector file', () => {
      const login = vectors.statements.find((s) => s.kind === 'login');
      expect(v.statement).toBe('login');
      expect(v.message).toBe(login?.text);
      expect(sha256Hex(message)).toBe(v.messageSha256);
      expect(toHex(fromBase64url(v.signature))).toBe(v.signatureHex);
    });

    it('signature is the deterministic RFC 6979 one (noble, P1363) and signWithPinKey makes the same', () => {
      const sk = fromHex(v.privateKey);
      expect(toBase64url(p256.sign(message, sk, { format: 'compact' }))).toBe(v.signature);
      expect(signWithPinKey(sk, message)).toBe(v.signature);
    });

    it('verifies with the package verify (WebCrypto) and with node:crypto', async () => {
      expect(await verify(v.publicKey, message, v.signature)).toBe(true);
      const jwk = { kty: 'EC', crv: 'P-256', x: toBase64url(fromBase64url(v.publicKey).slice(1, 33)), y: toBase64url(fromBase64url(v.publicKey).slice(33)) };
      const key = createPublicKey({ key: jwk, format: 'jwk' });
      expect(nodeVerify('sha256', message, { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(v.signatureHex, 'hex'))).toBe(true);
    });
  });

  describe('pin keys', () => {
    it.each(vectors.pinKeys)('pin $pin, $iterations iterations', async (c) => {
      const key = await derivePinKey(c.pin, fromHex(c.salt), c.iterations);
      expect(toHex(key.secretKey)).toBe(c.secretKey);
      expect(key.publicKey).toBe(c.publicKey);

      // Independently: PBKDF2 with node:crypto, then (seed mod (n - 1)) + 1, then the public point.
      const pin = c.pin.normalize('NFKC');
      if (c.pinNFKC !== undefined) expect(pin).toBe(c.pinNFKC);
      const seed = pbkdf2Sync(Buffer.from(pin, 'utf8'), Buffer.from(c.salt, 'hex'), c.iterations, 48, 'sha256');
      expect(seed.toString('hex')).toBe(c.pbkdf2);
      const scalar = (BigInt(`0x${c.pbkdf2}`) % (P256_N - 1n)) + 1n;
      expect(scalar.toString(16).padStart(64, '0')).toBe(c.secretKey);
      const ecdh = createECDH('prime256v1');
      ecdh.setPrivateKey(Buffer.from(c.secretKey, 'hex'));
      expect(ecdh.getPublicKey('base64url', 'uncompressed')).toBe(c.publicKey);

      const message = enc.encode(c.signedMessage);
      expect(signWithPinKey(key.secretKey, message)).toBe(c.signature);
      expect(await verify(c.publicKey, message, c.signature)).toBe(true);
    });

    it('includes the default iteration count and an NFKC case', () => {
      expect(vectors.pinKeys.some((c) => c.iterations === 100_000)).toBe(true);
      expect(vectors.pinKeys.some((c) => c.pinNFKC !== undefined)).toBe(true);
    });
  });

  describe('links', () => {
    it.each(vectors.links.parse)('parse: $note', ({ url, result, error }) => {
      if (result !== undefined) {
        expect(parseLink(url)).toEqual(result);
      } else {
        let thrown: unknown;
        try {
          parseLink(url);
        } catch (e) {
          thrown = e;
        }
        expect(thrown).toBeInstanceOf(TapinError);
        expect((thrown as TapinError).code).toBe(error);
      }
    });

    it.each(vectors.links.scan)('scan: $note', ({ data, result, error }) => {
      if (result !== undefined) {
        expect(parseScan(data)).toEqual(result);
      } else {
        expect(() => parseScan(data)).toThrow(expect.objectContaining({ code: error }));
      }
    });

    it('scan covers bare login and enrol paths and the errors', () => {
      const cases = vectors.links.scan;
      expect(cases.some((c) => c.result?.type === 'login' && c.result.base === null)).toBe(true);
      expect(cases.some((c) => c.result?.type === 'enrol' && c.result.base === null)).toBe(true);
      expect(new Set(cases.map((c) => c.error ?? 'ok'))).toEqual(new Set(['ok', 'qr_parse_error', 'qr_unknown_type']));
      expect(vectors.links.parse.some((c) => c.url.trim().startsWith('{') && c.result)).toBe(true);
    });

    it('covers success, qr_parse_error and qr_unknown_type, a path prefix and ?return=', () => {
      const cases = vectors.links.parse;
      expect(new Set(cases.map((c) => c.error ?? 'ok'))).toEqual(new Set(['ok', 'qr_parse_error', 'qr_unknown_type']));
      expect(cases.some((c) => c.result?.type === 'login' && c.result.returnUrl && new URL(c.result.base).pathname !== '/')).toBe(true);
      expect(cases.some((c) => c.result?.type === 'enrol')).toBe(true);
    });

    it.each(vectors.links.build)('build: $kind from $publicUrl', (c) => {
      const url = c.kind === 'login' ? buildLoginUrl(c.publicUrl, c.sid, c.hsid!, c.returnUrl) : buildEnrolUrl(c.publicUrl, c.sid, c.token!);
      expect(url).toBe(c.url);
      const parsed = parseLink(url);
      expect(parsed.sid).toBe(c.sid);
      expect(parsed.base).toBe(c.publicUrl.replace(/\/+$/, ''));
      if (parsed.type === 'login') {
        expect(parsed.hsid).toBe(c.hsid);
        expect(parsed.returnUrl).toBe(c.returnUrl);
      } else {
        expect(parsed.token).toBe(c.token);
      }
    });
  });
});
