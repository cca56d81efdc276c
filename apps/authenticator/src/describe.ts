import type { SessionInfo } from '@tapin/protocol';

/** A short "Chrome on Android" from a user-agent string: enough to recognise one's own browser. */
export function browserName(ua: string | undefined): string | undefined {
  if (!ua) return undefined;
  const browser = /Edg\//.test(ua) ? 'Edge' : /OPR\//.test(ua) ? 'Opera' : /Firefox\//.test(ua) ? 'Firefox'
    : /Chrom(e|ium)\//.test(ua) ? 'Chrome' : /Safari\//.test(ua) ? 'Safari' : /curl\//.test(ua) ? 'curl' : undefined;
  const os = /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS' : /Windows/.test(ua) ? 'Windows'
    : /Mac OS X/.test(ua) ? 'macOS' : /Linux/.test(ua) ? 'Linux' : undefined;
  if (browser && os) return `${browser} on ${os}`;
  return browser ?? os ?? ua.slice(0, 60);
}

/** The site's name: `info.site`, else the first info value, else the server's name. */
export function siteName(info: SessionInfo | null | undefined, fallback: string): string {
  const fields = info?.info ?? {};
  return fields['site'] ?? Object.values(fields)[0] ?? fallback;
}

/** The info fields other than the site name, as label/value pairs. */
export function infoRows(info: SessionInfo | null | undefined): Array<[string, string]> {
  const rows = Object.entries(info?.info ?? {}).filter(([k]) => k !== 'site');
  if (info?.ip) rows.push(['IP address', info.ip]);
  const browser = browserName(info?.useragent);
  if (browser) rows.push(['Browser', browser]);
  return rows.map(([k, v]) => [k.charAt(0).toUpperCase() + k.slice(1), v]);
}

export function timeAgo(ms: number, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return new Date(ms).toLocaleDateString();
}
