import type { SessionState } from '@tapin/protocol';

/**
 * The browser WebSocket's frames (DESIGN §4): text `TYPE HSID SID`, a fourth field (the code) only on ERROR.
 * Parsed here rather than imported from @tapin/protocol so the bundle does not pull in the protocol's schemas.
 */
export interface ServerFrame {
  type: string;
  hsid: string;
  sid: string;
  code: string | undefined;
}

export function parseFrame(text: unknown): ServerFrame | undefined {
  if (typeof text !== 'string' || text.length > 256) return undefined;
  const parts = text.split(' ');
  // A fifth field (ERROR only) is the seconds to wait; the block does not need it, but must not drop the frame.
  if (parts.length < 3 || parts.length > (parts[0] === 'ERROR' ? 5 : 4) || parts.includes('')) return undefined;
  const [type, hsid, sid, code] = parts as [string, string, string, string | undefined];
  return { type, hsid, sid, code };
}

/** What the block shows for a session state, whichever way (socket frame or long-poll) it arrived. */
export type Progress = 'waiting' | 'scanned' | 'provoked' | 'loggedin' | 'cancelled' | 'expired' | 'loggedout'
  // Push signals that are no session state: a push is possible now, or there was nobody to push to.
  | 'canprovoke' | 'noaccounts';

const FRAME_PROGRESS: Record<string, Progress> = {
  WAITING: 'waiting',
  CONFIRMSCAN: 'scanned',
  CONFIRMPROVOKE: 'provoked',
  LOGIN: 'loggedin',
  CANCEL: 'cancelled',
  EXPIRED: 'expired',
  LOGOUT: 'loggedout',
  CANPROVOKE: 'canprovoke',
  NOACCOUNTS: 'noaccounts',
};

export function progressOfFrame(type: string): Progress | undefined {
  return FRAME_PROGRESS[type];
}

export function progressOfState(state: SessionState | string): Progress | undefined {
  switch (state) {
    case 'idle': return 'waiting';
    case 'scanned':
    case 'provoked':
    case 'loggedin':
    case 'cancelled':
    case 'expired':
    case 'loggedout':
      return state;
    default:
      return undefined;
  }
}

/**
 * The socket URL for a login URL `<public-url>/q/<sid>/<hsid>`: the Tapin server's public URL (with any path
 * prefix) + `/v1/ws`, over ws: or wss: to match.
 */
export function socketUrlFor(loginUrl: string): string | undefined {
  let url: URL;
  try {
    url = new URL(loginUrl);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  const segments = url.pathname.split('/');
  if (segments.length < 4 || segments.at(-3) !== 'q') return undefined;
  const prefix = segments.slice(0, -3).join('/');
  return `${url.protocol === 'https:' ? 'wss:' : 'ws:'}//${url.host}${prefix}/v1/ws`;
}
