#!/usr/bin/env node
/**
 * Writes packages/protocol/vectors.json: fixed test vectors for @tapin/protocol, so that other implementations
 * (a native SDK, another server) can check themselves against this one.
 *
 * Build first, then run from the repository root:
 *   npx tsc -b packages/protocol && node packages/protocol/scripts/make-vectors.mjs
 *
 * Every input is fixed (no randomness, no clock), so re-running the script writes an identical file.
 * "Random-looking" inputs are derived from SHA-256 of fixed labels.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { p256 } from '@noble/curves/nist.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import * as P from '../dist/index.js';

const OUT = fileURLToPath(new URL('../vectors.json', import.meta.url));
const enc = new TextEncoder();

/** 32 deterministic bytes from a label. */
const seed = (label) => sha256(enc.encode(`tapin vectors: ${label}`));
const b64 = (label, length) => P.toBase64url(seed(label)).slice(0, length);
const hexOf = (label, length) => P.toHex(seed(label)).slice(0, length);

// ---------------------------------------------------------------------------------------------- hsid
const SID = b64('sid 1', 22);
const SID2 = b64('sid 2', 22);
const NONCE_B64 = P.toBase64url(seed('nonce 1').slice(0, 24)); // 32 chars, like generateNonce()
const NONCE_HEX = hexOf('nonce hex', 32);
const NONCE_22 = b64('nonce 22', 22);
const NONCE_128 = (P.toBase64url(seed('nonce 128 a')) + P.toBase64url(seed('nonce 128 b')) + P.toBase64url(seed('nonce 128 c'))).slice(0, 128);

const hsidCases = [
  { sid: SID, nonce: NONCE_B64 },
  { sid: SID2, nonce: NONCE_B64, note: 'same nonce on another virtual server gives another hsid' },
  { sid: SID, nonce: NONCE_HEX },
  { sid: SID, nonce: NONCE_HEX.toUpperCase(), note: 'the nonce is hashed as given: case matters' },
  { sid: SID, nonce: NONCE_22 },
  { sid: SID, nonce: NONCE_128 },
  { sid: 'sid-0001', nonce: NONCE_B64, note: 'shortest allowed sid (8 chars)' },
].map((c) => ({
  sid: c.sid,
  nonce: c.nonce,
  ...(c.note ? { note: c.note } : {}),
  input: `tapin-hsid\u0000${c.sid}\u0000${c.nonce}`,
  hsid: P.deriveHsid(c.sid, c.nonce),
}));

// ---------------------------------------------------------------------------------------------- nonce
const nonceCases = [
  { nonce: NONCE_22, reason: 'base64url, 22 chars (132 bits): the minimum' },
  { nonce: NONCE_B64, reason: 'base64url, 32 chars (192 bits), as generateNonce() makes' },
  { nonce: b64('nonce 43', 43), reason: 'base64url of 32 bytes (43 chars)' },
  { nonce: NONCE_128, reason: 'base64url, 128 chars: the maximum' },
  { nonce: NONCE_HEX, reason: 'lower-case hex, 32 chars (128 bits)' },
  { nonce: NONCE_HEX.toUpperCase(), reason: 'upper-case hex, 32 chars' },
  { nonce: hexOf('nonce hex 64', 64), reason: 'hex, 64 chars (256 bits)' },
  { nonce: `${b64('nonce dash', 20)}-_`, reason: 'base64url with - and _' },
].map((c) => ({ ...c, valid: true }));
const invalidNonces = [
  { nonce: NONCE_22.slice(0, 21), reason: 'too short: 21 chars' },
  { nonce: '', reason: 'too short: empty' },
  { nonce: `${NONCE_128}A`, reason: 'too long: 129 chars' },
  { nonce: NONCE_HEX.slice(0, 31), reason: 'hex needs 32 chars (128 bits): 31 hex chars' },
  { nonce: hexOf('nonce hex 22', 22), reason: 'hex needs 32 chars (128 bits): 22 hex chars carry only 88 bits' },
  { nonce: `${b64('nonce plus', 21)}+`, reason: 'bad chars: + is standard base64, not base64url' },
  { nonce: `${b64('nonce slash', 21)}/`, reason: 'bad chars: /' },
  { nonce: `${b64('nonce pad', 22)}==`, reason: 'bad chars: = padding' },
  { nonce: `${b64('nonce space', 11)} ${b64('nonce space 2', 11)}`, reason: 'bad chars: space' },
  { nonce: `${b64('nonce umlaut', 21)}ü`, reason: 'bad chars: non-ASCII' },
  { nonce: 'a'.repeat(22), reason: 'placeholder: at most 4 distinct symbols' },
  { nonce: 'abcdabcdabcdabcdabcdabcd', reason: 'placeholder: at most 4 distinct symbols (and 24 hex chars)' },
  { nonce: '0'.repeat(32), reason: 'placeholder: 32 hex chars but one symbol' },
  { nonce: 'abababababababababababababababababababab', reason: 'placeholder: 40 hex chars but two symbols' },
  { nonce: null, reason: 'not a string' },
  { nonce: 12345678901234567890, reason: 'not a string' },
].map((c) => ({ ...c, valid: false }));
for (const c of [...nonceCases, ...invalidNonces]) {
  if (P.isValidNonce(c.nonce) !== c.valid) throw new Error(`nonce case disagrees with isValidNonce: ${JSON.stringify(c)}`);
}

// ---------------------------------------------------------------------------------------------- crockford
const intCases = [
  [0, 1], [31, 1], [32, 2], [0, 6], [1, 6], [31, 6], [32, 6], [1023, 2], [1024, 6], [123456789, 6],
  [P.OTP_MAX_REF, 6], [2 ** 29, 6], [0x2aaaaaaa, 6], [987654321, 6], [2 ** 35 - 1, 7],
].map(([value, width]) => ({ value, width, text: P.encodeCrockfordInt(value, width) }));
const intErrors = [
  { value: 2 ** 30, width: 6, error: 'RangeError', reason: 'does not fit in 6 symbols' },
  { value: 32, width: 1, error: 'RangeError', reason: 'does not fit in 1 symbol' },
  { value: -1, width: 6, error: 'RangeError', reason: 'negative' },
  { value: 1.5, width: 6, error: 'RangeError', reason: 'not an integer' },
];
const normalizeCases = [
  ['abc', 'ABC'],
  ['0o0O', '0000'],
  ['iIlL1', '11111'],
  ['1234-5678', '12345678'],
  ['12 34\t56', '123456'],
  ['  zz-yy  ', 'ZZYY'],
  ['oil', '011'],
  ['u', 'U'],
].map(([input, normalized]) => {
  if (P.normalizeCrockford(input) !== normalized) throw new Error(`normalize ${input}`);
  return { input, normalized };
});
const decodeCases = [
  { symbols: '000000', value: 0 },
  { symbols: 'ZZZZZZ', value: P.OTP_MAX_REF },
  { symbols: '3NQK8N', value: P.decodeCrockfordInt('3NQK8N') },
  { symbols: 'U00000', value: null, reason: 'U is not in the alphabet' },
  { symbols: 'abc', value: null, reason: 'decoding expects normalized (upper-case) input' },
  { symbols: 'O00000', value: null, reason: 'decoding expects normalized input (O not yet mapped to 0)' },
].map((c) => {
  const got = P.decodeCrockfordInt(c.symbols);
  if ((got ?? null) !== c.value) throw new Error(`decode ${c.symbols}`);
  return c;
});

// ---------------------------------------------------------------------------------------------- otp
const OTPKEY = seed('otpkey 1');
const OTPKEY2 = seed('otpkey 2');
const HSID = P.deriveHsid(SID, NONCE_B64);
const OTPREF = 0x1234567 & P.OTP_MAX_REF;
const BOUNDARY_MS = 1_767_225_600_000; // 2026-01-01T00:00:00Z, exactly on an interval boundary

function otpDetail(otpkey, sid, hsid, otpref, unixMs) {
  const T = P.otpInterval(unixMs);
  const counter = new Uint8Array(8);
  new DataView(counter.buffer).setBigUint64(0, BigInt(T));
  const message = P.concatBytes(enc.encode(`tapin/otp/1\u0000${sid}\u0000${hsid}\u0000`), counter);
  const mac = hmac(sha256, otpkey, message);
  const offset = mac[31] & 0x0f;
  const truncated31 = ((mac[offset] & 0x7f) * 2 ** 24) + (mac[offset + 1] << 16) + (mac[offset + 2] << 8) + mac[offset + 3];
  const code = P.otpCode(otpkey, sid, hsid, T);
  if (code !== truncated31 % 2 ** 30) throw new Error('otpCode disagrees with the DESIGN formula');
  return {
    otpkey: P.toHex(otpkey),
    sid,
    hsid,
    otpref,
    unixMs,
    T,
    messageHex: P.toHex(message),
    mac: P.toHex(mac),
    offset,
    truncated31,
    code,
    otp: P.formatOtp(otpref, code),
  };
}

const otpCases = [
  { name: 'first millisecond of an interval', ...otpDetail(OTPKEY, SID, HSID, OTPREF, BOUNDARY_MS) },
  { name: 'last millisecond of the previous interval (T-1 of the case above)', ...otpDetail(OTPKEY, SID, HSID, OTPREF, BOUNDARY_MS - 1) },
  { name: 'middle of the next interval', ...otpDetail(OTPKEY, SID, HSID, OTPREF, BOUNDARY_MS + 180_000) },
  { name: 'another key, otpref 0', ...otpDetail(OTPKEY2, SID, HSID, 0, BOUNDARY_MS + 60_000) },
  { name: 'maximum otpref', ...otpDetail(OTPKEY, SID2, P.deriveHsid(SID2, NONCE_HEX), P.OTP_MAX_REF, 1_700_000_000_000) },
];
// One case where the 31-bit truncated value is >= 2^30, so that "mod 2^30" changes it.
for (let i = 0; ; i++) {
  const d = otpDetail(OTPKEY, SID, HSID, OTPREF, BOUNDARY_MS + 240_000 + i * 120_000);
  if (d.truncated31 >= 2 ** 30) {
    otpCases.push({ name: 'truncated 31-bit value >= 2^30 (mod 2^30 matters)', ...d });
    break;
  }
}
if (!otpCases.some((c) => c.truncated31 < 2 ** 30)) throw new Error('want a case below 2^30 too');

// Server-side acceptance: the phone made the OTP at phoneUnixMs; the server checks at serverUnixMs against T and T-1.
function acceptance(name, phoneUnixMs, serverUnixMs) {
  const phone = otpDetail(OTPKEY, SID, HSID, OTPREF, phoneUnixMs);
  const T = P.otpInterval(serverUnixMs);
  const matched = [T, T - 1].find((t) => P.otpCode(OTPKEY, SID, HSID, t) === phone.code);
  return {
    name,
    otpkey: phone.otpkey,
    sid: SID,
    hsid: HSID,
    otpref: OTPREF,
    phoneUnixMs,
    otp: phone.otp,
    serverUnixMs,
    serverT: T,
    accepted: matched !== undefined,
    matchedT: matched ?? null,
  };
}
const otpAcceptance = [
  acceptance('same interval', BOUNDARY_MS + 10_000, BOUNDARY_MS + 100_000),
  acceptance('made 1 ms before the boundary, checked at the boundary: accepted only through T-1', BOUNDARY_MS - 1, BOUNDARY_MS),
  acceptance('made in the last interval, checked 119 s later', BOUNDARY_MS - 60_000, BOUNDARY_MS + 59_000),
  acceptance('two intervals old (T-2): rejected', BOUNDARY_MS - 1, BOUNDARY_MS + 120_000),
  acceptance('made in the next interval (T+1): rejected, clocks must not run behind', BOUNDARY_MS + 120_000, BOUNDARY_MS + 119_999),
];
if (!otpAcceptance[1].accepted || otpAcceptance[1].matchedT !== otpAcceptance[1].serverT - 1) throw new Error('T-1 case');
if (otpAcceptance[3].accepted || otpAcceptance[4].accepted) throw new Error('rejection cases');

const typed = otpCases[0].otp; // "XXXXXX XXXXXX"
const lookalike = (s) => s.replace(/1/g, 'l').replace(/0/g, 'o');
const otpParse = [
  { input: typed, note: 'as shown' },
  { input: typed.toLowerCase(), note: 'lower case' },
  { input: typed.replace(' ', '-'), note: 'hyphen instead of space' },
  { input: typed.replace(' ', ''), note: 'no separator' },
  { input: `  ${typed.slice(0, 3)} ${typed.slice(3, 9)}-${typed.slice(9)}  `, note: 'extra spaces and hyphens' },
  { input: 'O1IL0o iIlLoO', note: 'look-alikes: I, L read as 1 and O as 0' },
  { input: lookalike(P.formatOtp(0x1010101, 0x0101010)), note: 'look-alikes in a real code' },
  { input: 'ZZZZZZ ZZZZZZ', note: 'maximum values' },
  { input: typed.replace(' ', '').slice(0, 11), note: 'wrong length: 11 symbols' },
  { input: `${typed}0`, note: 'wrong length: 13 symbols' },
  { input: typed.replace(/.$/, 'U'), note: 'U is not a Crockford symbol' },
  { input: typed.replace(/.$/, '*'), note: 'not a Crockford symbol' },
  { input: '', note: 'empty' },
  { input: `${typed.slice(0, 6)}${' '.repeat(60)}${typed.slice(7)}`, note: 'longer than 64 characters before normalization' },
].map((c) => {
  const parsed = P.parseOtp(c.input);
  return { input: c.input, note: c.note, result: parsed ?? null };
});

// ---------------------------------------------------------------------------------------------- statements
const ANNOUNCE = {
  info: { 'Amount': '€ 12.50', 'Shop': 'Bäckerei "Zum Korn"' },
  ip: '203.0.113.7',
  useragent: 'Mozilla/5.0 (X11; Linux x86_64)',
};
const ACCOUNTID = b64('accountid 1', 22);
const CHALLENGE = b64('challenge 1', 22);
const ENROL_TOKEN = b64('enrol token 1', 32);

const ECDSA_SK_HEX = 'c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721'; // RFC 6979 A.2.5
const ECDSA_SK = P.fromHex(ECDSA_SK_HEX);
const ECDSA_PK = P.toBase64url(p256.getPublicKey(ECDSA_SK, false));

const loginFields = {
  sid: SID,
  hsid: HSID,
  accountid: ACCOUNTID,
  challenge: CHALLENGE,
  decision: 'approve',
  announceinfo: P.hashAnnounceinfo(ANNOUNCE),
};
const enrolFields = {
  sid: SID,
  token: P.sha256Base64url(ENROL_TOKEN),
  authpk: ECDSA_PK,
  pinpk: null,
  description: 'Zoë’s phone "work"\ttab',
};
const requestFields = {
  sid: SID,
  accountid: ACCOUNTID,
  method: 'POST',
  path: P.devicePaths.answer(SID, HSID),
  time: BOUNDARY_MS + 1234,
  reqid: b64('reqid 1', 22),
  body: P.sha256Base64url('{"decision":"approve"}'),
};
const serverParams = {
  sid: SID,
  name: 'Example Shop',
  logo: 'https://shop.example/logo.png',
  publicUrl: 'https://tapin.example.com',
  serverpk: P.toBase64url(p256.getPublicKey(seed('server key 1'), false)),
  pingTime: 0,
  pinTimeout: -1,
  serverFlags: ['ENABLE_OTP'],
  issued: BOUNDARY_MS,
};
const pinChangeFields = {
  sid: SID,
  accountid: ACCOUNTID,
  oldpinpk: P.toBase64url(p256.getPublicKey(seed('old pin key'), false)),
  pinpk: P.toBase64url(p256.getPublicKey(seed('new pin key'), false)),
};
const statementCase = (kind, fields, bytes) => {
  const text = new TextDecoder().decode(bytes);
  return { kind, label: P.LABELS[kind], fields, text, sha256: P.toHex(sha256(bytes)) };
};
const statements = [
  statementCase('login', loginFields, P.loginStatement(loginFields)),
  statementCase('login', { ...loginFields, decision: 'decline', announceinfo: P.hashAnnounceinfo(null) }, P.loginStatement({ ...loginFields, decision: 'decline', announceinfo: P.hashAnnounceinfo(null) })),
  statementCase('enrol', enrolFields, P.enrolStatement(enrolFields)),
  statementCase('request', requestFields, P.requestStatement(requestFields)),
  statementCase('server', serverParams, P.serverParamsStatement(serverParams)),
  statementCase('pin', pinChangeFields, P.pinChangeStatement(pinChangeFields)),
  statementCase('pin', { ...pinChangeFields, oldpinpk: null }, P.pinChangeStatement({ ...pinChangeFields, oldpinpk: null })),
];
const announceHashes = [
  { announceinfo: ANNOUNCE, canonical: P.canonicalJson(ANNOUNCE), hash: P.hashAnnounceinfo(ANNOUNCE) },
  { announceinfo: null, canonical: 'null', hash: P.hashAnnounceinfo(null) },
  { announceinfo: {}, canonical: '{}', hash: P.hashAnnounceinfo({}) },
];
const tokenHash = { token: ENROL_TOKEN, hash: P.sha256Base64url(ENROL_TOKEN) };

// ---------------------------------------------------------------------------------------------- ecdsa
const loginBytes = P.loginStatement(loginFields);
const ecdsaSig = P.toBase64url(p256.sign(loginBytes, ECDSA_SK, { format: 'compact' }));
if (P.signWithPinKey(ECDSA_SK, loginBytes) !== ecdsaSig) throw new Error('signWithPinKey differs from p256.sign');
const ecdsa = {
  curve: 'P-256',
  hash: 'SHA-256',
  nonce: 'RFC 6979 deterministic k; low-S normalized (s <= n/2)',
  privateKey: ECDSA_SK_HEX,
  publicKey: ECDSA_PK,
  statement: 'login',
  message: new TextDecoder().decode(loginBytes),
  messageSha256: P.toHex(sha256(loginBytes)),
  signature: ecdsaSig,
  signatureHex: P.toHex(P.fromBase64url(ecdsaSig)),
};

// ---------------------------------------------------------------------------------------------- pin key
async function pinCase(pin, saltHex, iterations) {
  const salt = P.fromHex(saltHex);
  const material = await crypto.subtle.importKey('raw', enc.encode(pin.normalize('NFKC')), 'PBKDF2', false, ['deriveBits']);
  const bits = new Uint8Array(await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, material, 384));
  const key = await P.derivePinKey(pin, salt, iterations);
  const message = P.loginStatement({ ...loginFields, accountid: ACCOUNTID });
  return {
    pin,
    ...(pin !== pin.normalize('NFKC') ? { pinNFKC: pin.normalize('NFKC') } : {}),
    salt: saltHex,
    iterations,
    pbkdf2: P.toHex(bits),
    secretKey: P.toHex(key.secretKey),
    publicKey: key.publicKey,
    signedMessage: new TextDecoder().decode(message),
    signature: P.signWithPinKey(key.secretKey, message),
  };
}
const pinKeys = [
  await pinCase('123456', P.toHex(seed('pin salt 1')), P.PIN_PBKDF2_ITERATIONS),
  await pinCase('2468', P.toHex(seed('pin salt 2')), 1000),
  await pinCase('２４６８', P.toHex(seed('pin salt 2')), 1000),
];
if (pinKeys[1].publicKey !== pinKeys[2].publicKey) throw new Error('NFKC');

// ---------------------------------------------------------------------------------------------- links
const TOKEN = b64('enrol token 2', 32);
const RETURN = 'https://shop.example/done?order=42&lang=de#top';
const linkOk = [
  { url: `https://tapin.example.com/q/${SID}/${HSID}`, note: 'login' },
  { url: `https://example.org/tapin/q/${SID}/${HSID}?return=${encodeURIComponent(RETURN)}`, note: 'login, public URL with a path prefix, ?return=' },
  { url: `https://example.org/a/b/q/${SID}/${HSID}?other=1&return=app%3A%2F%2Fback#frag`, note: 'deeper prefix, other query parameters and a fragment are ignored' },
  { url: `http://localhost:8470/q/${SID}/${HSID}`, note: 'http and a port' },
  { url: `https://TAPIN.Example.COM:443/e/${SID}/${TOKEN}`, note: 'enrol; host lower-cased and default port dropped (WHATWG URL origin)' },
  { url: `https://example.org/tapin/e/${SID}/${TOKEN}`, note: 'enrol with a path prefix' },
  { url: `  https://tapin.example.com/q/${SID}/${HSID}\n`, note: 'surrounding whitespace is trimmed' },
  { url: `https://tapin.example.com/q/${SID}/${HSID}?return=`, note: 'empty return parameter is kept' },
  { url: JSON.stringify({ data: `https://tapin.example.com/q/${SID}/${HSID}`, hsid: HSID }), note: 'the getQrLogin JSON answer {data, hsid}' },
  { url: ` ${JSON.stringify({ data: `https://example.org/tapin/e/${SID}/${TOKEN}`, expires: 1767225600000 })}\n`, note: 'the enrol JSON answer {data, expires}, with whitespace around' },
];
const linkBad = [
  { url: '', note: 'empty' },
  { url: 'hello world', note: 'not a URL' },
  { url: `tapin.example.com/q/${SID}/${HSID}`, note: 'no scheme' },
  { url: `ftp://tapin.example.com/q/${SID}/${HSID}`, note: 'not http(s)' },
  { url: `https://user:pw@tapin.example.com/q/${SID}/${HSID}`, note: 'credentials in the URL' },
  { url: `https://tapin.example.com/q/${SID}`, note: 'too few path segments' },
  { url: `https://tapin.example.com/q/${SID}/${HSID}/`, note: 'trailing slash: the last three segments are read' },
  { url: `https://tapin.example.com/q/${SID}/${HSID.slice(0, 21)}`, note: 'hsid of 21 chars' },
  { url: `https://tapin.example.com/q/${SID}/${HSID.slice(0, 21)}+`, note: 'hsid with a bad char' },
  { url: `https://tapin.example.com/q/short/${HSID}`, note: 'sid shorter than 8 chars' },
  { url: `https://tapin.example.com/e/${SID}/${TOKEN.slice(0, 21)}`, note: 'enrol token shorter than 22 chars' },
  { url: `https://tapin.example.com/Q/${SID}/${HSID}`, note: 'kind is case-sensitive' },
  { url: `https://tapin.example.com/login/${SID}/${HSID}`, note: 'kind longer than one letter' },
  { url: `https://tapin.example.com/q/${SID}/${HSID}?return=${'x'.repeat(2048)}`, note: 'longer than 2048 chars' },
  { url: JSON.stringify({ data: `https://tapin.example.com/q/${SID}/${HSID}`, hsid: P.deriveHsid(SID, NONCE_HEX) }), note: 'JSON answer whose hsid is not the link\'s' },
  { url: JSON.stringify({ data: `q/${SID}/${HSID}` }), note: 'JSON answer: data must be a full URL' },
  { url: JSON.stringify({ url: `https://tapin.example.com/q/${SID}/${HSID}` }), note: 'JSON without a data string' },
  { url: `{"data": "https://tapin.example.com/q/${SID}/${HSID}"`, note: 'broken JSON' },
  { url: `q/${SID}/${HSID}`, note: 'bare path: parseLink needs the server address (see links.scan)' },
];
const linkUnknown = [
  { url: `https://tapin.example.com/x/${SID}/${HSID}`, note: 'one-letter kind this version does not know' },
  { url: `https://example.org/tapin/r/${SID}/${TOKEN}`, note: 'unknown kind behind a path prefix' },
];
const parseCase = ({ url, note }) => {
  try {
    return { url, note, result: P.parseLink(url) };
  } catch (e) {
    if (!(e instanceof P.TapinError)) throw e;
    return { url, note, error: e.code };
  }
};
// Bare paths: parseScan gives base null, to be resolved against the URL of an account enrolled at that sid.
const scanCase = ({ data, note }) => {
  try {
    return { data, note, result: P.parseScan(data) };
  } catch (e) {
    if (!(e instanceof P.TapinError)) throw e;
    return { data, note, error: e.code };
  }
};
const scanOk = [
  { data: `q/${SID}/${HSID}`, note: 'bare login path' },
  { data: ` /q/${SID}/${HSID}\n`, note: 'bare login path with a leading slash and whitespace' },
  { data: `e/${SID}/${TOKEN}`, note: 'bare enrol path (the SDK refuses it: an enrolment needs the server address)' },
  { data: `https://tapin.example.com/q/${SID}/${HSID}`, note: 'a full link parses as with parseLink' },
];
const scanBad = [
  { data: `q/${SID}/${HSID}?return=app%3A%2F%2Fx`, note: 'a bare path carries no query' },
  { data: `//q/${SID}/${HSID}`, note: 'two leading slashes' },
  { data: `q/${SID}/${HSID}/`, note: 'trailing slash' },
  { data: `tapin/q/${SID}/${HSID}`, note: 'more than three segments without a scheme' },
  { data: `q/${SID}/${HSID.slice(0, 21)}`, note: 'hsid of 21 chars' },
];
const scanUnknown = [{ data: `x/${SID}/${HSID}`, note: 'unknown one-letter kind' }];
for (const c of scanOk) if (scanCase(c).error) throw new Error(`scan should parse: ${c.data}`);
for (const c of scanBad) if (scanCase(c).error !== 'qr_parse_error') throw new Error(`scan should be qr_parse_error: ${c.data}`);
for (const c of scanUnknown) if (scanCase(c).error !== 'qr_unknown_type') throw new Error(`scan should be qr_unknown_type: ${c.data}`);

const links = {
  parse: [...linkOk, ...linkBad, ...linkUnknown].map(parseCase),
  scan: [...scanOk, ...scanBad, ...scanUnknown].map(scanCase),
  build: [
    { kind: 'login', publicUrl: 'https://tapin.example.com', sid: SID, hsid: HSID },
    { kind: 'login', publicUrl: 'https://example.org/tapin/', sid: SID, hsid: HSID, returnUrl: RETURN },
    { kind: 'enrol', publicUrl: 'https://example.org/tapin//', sid: SID, token: TOKEN },
  ].map((c) => ({
    ...c,
    url: c.kind === 'login' ? P.buildLoginUrl(c.publicUrl, c.sid, c.hsid, c.returnUrl) : P.buildEnrolUrl(c.publicUrl, c.sid, c.token),
  })),
};
for (const c of linkOk) if (parseCase(c).error) throw new Error(`link should parse: ${c.url}`);
for (const c of linkBad) if (parseCase(c).error !== 'qr_parse_error') throw new Error(`link should be qr_parse_error: ${c.url}`);
for (const c of linkUnknown) if (parseCase(c).error !== 'qr_unknown_type') throw new Error(`link should be qr_unknown_type: ${c.url}`);

// ---------------------------------------------------------------------------------------------- write
const vectors = {
  description: {
    about: 'Fixed test vectors for @tapin/protocol (DESIGN.md §2, §5, §6), written by packages/protocol/scripts/make-vectors.mjs; strings are exact, byte strings are lower-case hex unless a field says base64url (RFC 4648 §5, no padding), and "\\u0000" is the NUL byte.',
    hsid: 'hsid = first 22 chars of base64url(SHA-256(UTF-8("tapin-hsid\\0" + sid + "\\0" + nonce))) (§2); `input` is the hashed string.',
    nonce: 'A nonce is 22–128 chars of base64url; a string of only hex digits is read as hex and needs ≥ 32 chars (128 bits); a string with at most 4 distinct symbols is a placeholder and invalid (§2).',
    crockford: 'Crockford base32 alphabet 0123456789ABCDEFGHJKMNPQRSTVWXYZ; a fixed-width integer is `width` symbols, most significant first; typed input is normalized by upper-casing, dropping spaces and hyphens, reading I and L as 1 and O as 0 (§6).',
    otp: 'T = floor(unixMs / 1000 / 120); mac = HMAC-SHA256(otpkey, UTF-8("tapin/otp/1\\0" + sid + "\\0" + hsid + "\\0") ‖ T as 8-byte big-endian) (`messageHex`); offset = mac[31] & 0x0f; truncated31 = 31-bit big-endian value at mac[offset..offset+3]; code = truncated31 mod 2^30; OTP = Crockford(otpref, 6) + " " + Crockford(code, 6) (§6).',
    otpAcceptance: 'The server computes T from its own clock and accepts a code that matches interval T or T−1, nothing else (§6).',
    otpParse: 'A typed OTP is normalized as in `crockford`, must then be exactly 12 alphabet symbols (and at most 64 chars before normalization), and splits into otpref (first 6) and code (last 6); otherwise the result is null.',
    statements: 'Statement bytes = UTF-8(label + "\\n" + canonical JSON of the fields), canonical JSON = keys sorted by UTF-16 code units, no whitespace, strings and numbers as ECMAScript JSON.stringify writes them (§6); announceinfo in a login statement is base64url(SHA-256(canonical JSON of the announceinfo, or "null" when absent)) and token in an enrol statement is base64url(SHA-256(UTF-8(enrol token))).',
    ecdsa: 'ECDSA P-256 over SHA-256 of the statement bytes; the private key is a big-endian hex scalar, the public key base64url of the 65-byte uncompressed point, the signature base64url of IEEE P1363 r‖s (64 bytes), here made deterministically (RFC 6979, low-S) so it can be compared byte for byte; verifiers must accept any valid signature (§6).',
    pinKeys: 'pbkdf2 = PBKDF2-HMAC-SHA256(UTF-8(NFKC(pin)), salt, iterations, 48 bytes); secretKey = (pbkdf2 as big-endian integer mod (n − 1)) + 1 as 32 bytes, n the P-256 group order; publicKey = base64url of the uncompressed point; signature as in `ecdsa` (§6).',
    links: 'Login link = publicUrl + "/q/" + sid + "/" + hsid (+ "?return=" + encodeURIComponent(url)); enrol link = publicUrl + "/e/" + sid + "/" + token; the parser reads kind, sid and id from the last three path segments, everything before them is the base, and answers qr_parse_error for non-Tapin data or qr_unknown_type for an unknown one-letter kind (§5). Raw forms (parse and scan): surrounding whitespace is ignored; a JSON object whose "data" is a link URL (the getQrLogin and enrol answers) is read as that URL, and a "hsid" beside it must match; at most 2048 chars in every form. links.scan: a bare path "q/<sid>/<hsid>" or "e/<sid>/<token>" (optional leading "/", no query) parses with base null, to be resolved against the public URL of an account enrolled at that sid; parseLink refuses it (qr_parse_error).',
  },
  version: 1,
  hsid: hsidCases,
  nonce: [...nonceCases, ...invalidNonces],
  crockford: { encodeInt: intCases, encodeIntErrors: intErrors, decodeInt: decodeCases, normalize: normalizeCases },
  otp: otpCases,
  otpAcceptance,
  otpParse,
  statements,
  announceinfoHashes: announceHashes,
  enrolTokenHash: tokenHash,
  ecdsa,
  pinKeys,
  links,
};

writeFileSync(OUT, `${JSON.stringify(vectors, null, 2)}\n`);
console.log(`wrote ${OUT}`);
