/**
 * Is this page open on a phone (or tablet) — a device whose own camera cannot scan the code on its screen? Then
 * the block offers to open the authenticator app instead. Client hints where the browser has them, else the
 * user agent, else a touch-only pointer.
 */
export function looksLikePhone(): boolean {
  const hints = (navigator as Navigator & { userAgentData?: { mobile?: boolean } }).userAgentData;
  if (hints?.mobile) return true;
  if (/Android|iPhone|iPad|iPod|Mobile/i.test(navigator.userAgent)) return true;
  // iPadOS reports itself as a Mac; it is the one "Mac" with a touch screen.
  if (/Macintosh/.test(navigator.userAgent) && navigator.maxTouchPoints > 1) return true;
  return matchMedia('(pointer: coarse)').matches && matchMedia('(hover: none)').matches;
}
