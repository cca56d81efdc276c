import { TapinError } from './errors.js';

/**
 * App-to-app login (DESIGN §5): a calling app opens the login link with `?return=<url>` and the authenticator sends
 * the user back there after approving or declining. Left open, that is an open redirect on the Tapin server's own
 * origin — a trusted-looking hop to anywhere — so every return URL must match an entry of the virtual server's
 * `returnUrls` list. An entry is `scheme://host[:port][/path]`: a return URL matches it with the same scheme, host
 * and port and a path equal to the entry's or below it (whole segments: `/app` allows `/app/x`, not `/apple`).
 * URLs are compared after WHATWG parsing, so `..`, `%2e%2e`, backslashes and case tricks normalize away first, and
 * the authenticator navigates to the normalized form, never to the raw text.
 */
export const MAX_RETURN_URL_LENGTH = 2048;
export const MAX_RETURN_URLS = 32;

/** Schemes that run code or read local data instead of navigating to another app or site. */
const FORBIDDEN_SCHEMES = new Set(['javascript:', 'data:', 'blob:', 'file:', 'vbscript:', 'about:', 'filesystem:']);

function parse(text: string): URL | undefined {
  if (typeof text !== 'string' || text.length === 0 || text.length > MAX_RETURN_URL_LENGTH) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (FORBIDDEN_SCHEMES.has(url.protocol) || url.username || url.password || url.host === '') return undefined;
  return url;
}

/** Why an allowlist entry is not usable, or undefined when it is. */
export function returnUrlEntryProblem(entry: string): string | undefined {
  const url = parse(entry);
  if (!url) return 'must be an absolute URL with a host (https://app.example/return, myapp://callback), without user name or password';
  if (url.search || url.hash || /[?#]/.test(entry)) return 'must not have a query or fragment';
  return undefined;
}

/** Throws `bad_request` naming the first unusable entry. */
export function checkReturnUrlEntries(entries: readonly string[]): void {
  if (entries.length > MAX_RETURN_URLS) throw new TapinError('bad_request', `At most ${MAX_RETURN_URLS} return URLs.`);
  for (const entry of entries) {
    const problem = returnUrlEntryProblem(entry);
    if (problem) throw new TapinError('bad_request', `Return URL ${JSON.stringify(entry)} ${problem}.`);
  }
}

function pathAllowed(path: string, prefix: string): boolean {
  if (prefix === '' || prefix === '/') return true;
  if (prefix.endsWith('/')) return path.startsWith(prefix);
  return path === prefix || path.startsWith(`${prefix}/`);
}

/**
 * The normalized return URL when it matches an allowed entry, else undefined. Callers redirect only to what this
 * returns.
 */
export function matchReturnUrl(returnUrl: string, allowed: readonly string[]): string | undefined {
  const url = parse(returnUrl);
  if (!url) return undefined;
  for (const entry of allowed) {
    const rule = parse(entry);
    if (!rule || rule.search || rule.hash) continue;
    // `host` includes the port; URL drops default ports, so https://a and https://a:443 compare equal.
    if (rule.protocol === url.protocol && rule.host === url.host && pathAllowed(url.pathname, rule.pathname)) return url.href;
  }
  return undefined;
}
