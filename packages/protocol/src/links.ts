import { TapinError } from './errors.js';
import { BASE64URL_RE } from './encoding.js';
import { isValidHsid, isValidSid } from './hsid.js';

/** What a QR code or link carries (DESIGN §5). `base` is the server's public URL, without a trailing slash. */
export type LinkData =
  | { type: 'login'; base: string; sid: string; hsid: string; returnUrl?: string }
  | { type: 'enrol'; base: string; sid: string; token: string };

export const MAX_LINK_LENGTH = 2048;

function trimBase(publicUrl: string): string {
  return publicUrl.replace(/\/+$/, '');
}

export function buildLoginUrl(publicUrl: string, sid: string, hsid: string, returnUrl?: string): string {
  const url = `${trimBase(publicUrl)}/q/${sid}/${hsid}`;
  return returnUrl === undefined ? url : `${url}?return=${encodeURIComponent(returnUrl)}`;
}

export function buildEnrolUrl(publicUrl: string, sid: string, token: string): string {
  return `${trimBase(publicUrl)}/e/${sid}/${token}`;
}

export function isValidEnrolToken(token: unknown): token is string {
  return typeof token === 'string' && token.length >= 22 && token.length <= 64 && BASE64URL_RE.test(token);
}

/**
 * A bare path as some integrations print or encode it, `q/<sid>/<hsid>` or `e/<sid>/<token>` (a leading `/`
 * allowed): the ids without the server's address. `base` is null; the reader supplies it (`resolveLink`).
 */
export type RelativeLinkData =
  | { type: 'login'; base: null; sid: string; hsid: string }
  | { type: 'enrol'; base: null; sid: string; token: string };

/** Whatever a scan may carry: a full link, or a bare path still to be resolved against a server's URL. */
export type ScannedData = LinkData | RelativeLinkData;

/** Exactly three non-empty segments with no scheme, query or fragment: `kind/sid/id` or `/kind/sid/id`. */
const BARE_PATH_RE = /^\/?([^/?#:\s]+)\/([^/?#\s]+)\/([^/?#\s]+)$/;

/**
 * Parses scanned data (DESIGN §5), "URL or raw", with surrounding whitespace ignored and at most
 * MAX_LINK_LENGTH characters in every form:
 * - a link URL, `https://<public-url>/q/<sid>/<hsid>[?return=…]` or `…/e/<sid>/<token>` (http or https);
 * - a JSON object whose `data` is such a URL, as the getQrLogin and enrol answers are (`{"data": "…", "hsid": …}`);
 *   a `hsid` beside it must be the link's;
 * - a bare path `q/<sid>/<hsid>` or `e/<sid>/<token>` (optionally with a leading `/`, no query): `base` is null.
 * The public URL may carry a path prefix (a reverse proxy at /tapin), so the kind and ids are read from the last
 * three path segments. Throws `qr_parse_error` for anything else and `qr_unknown_type` for a Tapin-shaped link of a
 * kind this version does not know.
 */
export function parseScan(data: string): ScannedData {
  const text = data.trim();
  if (text.length === 0 || text.length > MAX_LINK_LENGTH) throw new TapinError('qr_parse_error');
  if (text.startsWith('{')) return parseJsonAnswer(text);
  const bare = BARE_PATH_RE.exec(text);
  if (bare) return parseParts(bare[1]!, bare[2]!, bare[3]!, null, null);
  return parseUrl(text);
}

/** Like parseScan, for callers that need the server's address: a bare path is a `qr_parse_error` here. */
export function parseLink(data: string): LinkData {
  const scanned = parseScan(data);
  if (scanned.base === null) throw new TapinError('qr_parse_error', "This code has no server address (a bare q/… or e/… path): scan the full link.");
  return scanned;
}

/** A bare path with the server's public URL put in front (the URL of an account enrolled at that sid). */
export function resolveLink(scanned: ScannedData, publicUrl: string): LinkData {
  if (scanned.base !== null) return scanned;
  const base = trimBase(publicUrl);
  return scanned.type === 'login' ? { type: 'login', base, sid: scanned.sid, hsid: scanned.hsid } : { type: 'enrol', base, sid: scanned.sid, token: scanned.token };
}

function parseJsonAnswer(text: string): LinkData {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new TapinError('qr_parse_error');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TapinError('qr_parse_error');
  const { data, hsid } = value as { data?: unknown; hsid?: unknown };
  if (typeof data !== 'string' || (hsid !== undefined && typeof hsid !== 'string')) throw new TapinError('qr_parse_error');
  const link = parseUrl(data.trim());
  // The answer names its session twice; two different names mean the data was tampered with or mixed up.
  if (hsid !== undefined && (link.type !== 'login' || link.hsid !== hsid)) throw new TapinError('qr_parse_error');
  return link;
}

function parseUrl(text: string): LinkData {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TapinError('qr_parse_error');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TapinError('qr_parse_error');
  if (url.username || url.password) throw new TapinError('qr_parse_error');
  const segments = url.pathname.split('/');
  if (segments.length < 4) throw new TapinError('qr_parse_error');
  const [kind, sid, id] = segments.slice(-3) as [string, string, string];
  const prefix = segments.slice(0, -3).join('/');
  return parseParts(kind, sid, id, `${url.origin}${prefix}`, url.searchParams.get('return'));
}

function parseParts(kind: string, sid: string, id: string, base: string, returnUrl: string | null): LinkData;
function parseParts(kind: string, sid: string, id: string, base: null, returnUrl: null): RelativeLinkData;
function parseParts(kind: string, sid: string, id: string, base: string | null, returnUrl: string | null): ScannedData {
  if (!isValidSid(sid)) throw new TapinError('qr_parse_error');
  if (kind === 'q') {
    if (!isValidHsid(id)) throw new TapinError('qr_parse_error');
    if (base === null) return { type: 'login', base, sid, hsid: id };
    return returnUrl === null ? { type: 'login', base, sid, hsid: id } : { type: 'login', base, sid, hsid: id, returnUrl };
  }
  if (kind === 'e') {
    if (!isValidEnrolToken(id)) throw new TapinError('qr_parse_error');
    return base === null ? { type: 'enrol', base, sid, token: id } : { type: 'enrol', base, sid, token: id };
  }
  if (/^[a-z]$/.test(kind)) throw new TapinError('qr_unknown_type');
  throw new TapinError('qr_parse_error');
}
