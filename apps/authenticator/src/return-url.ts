/**
 * App-to-app login: the server has already matched the return URL against its allowlist and answered the
 * normalized form (session.returnUrl); the app navigates only to that. This second look refuses schemes that
 * would run code in the app's own origin even if a server were misconfigured.
 */
const CODE_SCHEMES = new Set(['javascript:', 'data:', 'blob:', 'file:', 'vbscript:', 'about:', 'filesystem:']);

export function safeReturnUrl(returnUrl: string | undefined): string | undefined {
  if (!returnUrl) return undefined;
  try {
    const url = new URL(returnUrl);
    if (CODE_SCHEMES.has(url.protocol) || url.username || url.password) return undefined;
    return url.href;
  } catch {
    return undefined;
  }
}

/** What to call the place the user goes back to ("shop.example", "shopapp"). */
export function returnLabel(url: string): string {
  const u = new URL(url);
  return u.host || u.protocol.replace(/:$/, '');
}
