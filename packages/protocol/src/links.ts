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
 * Parses scanned data. The public URL may carry a path prefix (a reverse proxy at /tapin), so the kind and ids
 * are read from the last three path segments. Throws `qr_parse_error` for anything that is not a Tapin link and
 * `qr_unknown_type` for a Tapin-shaped link of a kind this version does not know.
 */
export function parseLink(data: string): LinkData {
  const text = data.trim();
  if (text.length === 0 || text.length > MAX_LINK_LENGTH) throw new TapinError('qr_parse_error');
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
  const base = `${url.origin}${prefix}`;
  if (!isValidSid(sid)) throw new TapinError('qr_parse_error');
  if (kind === 'q') {
    if (!isValidHsid(id)) throw new TapinError('qr_parse_error');
    const returnUrl = url.searchParams.get('return');
    return returnUrl === null ? { type: 'login', base, sid, hsid: id } : { type: 'login', base, sid, hsid: id, returnUrl };
  }
  if (kind === 'e') {
    if (!isValidEnrolToken(id)) throw new TapinError('qr_parse_error');
    return { type: 'enrol', base, sid, token: id };
  }
  if (/^[a-z]$/.test(kind)) throw new TapinError('qr_unknown_type');
  throw new TapinError('qr_parse_error');
}
