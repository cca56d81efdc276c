import type { SessionState } from './schemas.js';

/**
 * Browser WebSocket frames (DESIGN §4): text `TYPE HSID SID`, with a fourth field only on ERROR (the code) and on
 * CONFIRMPROVOKE (the number the page shows), and a fifth only on ERROR when waiting helps: the seconds to wait
 * (`ERROR HSID SID push_rate_limited 10`, as Retry-After).
 * WAITING and EXPIRED are additions to DESIGN's list so that the answer to REGISTER always names the state.
 */
export const CLIENT_FRAMES = ['REGISTER', 'PROVOKE', 'LOGOUT'] as const;
export const SERVER_FRAMES = ['WAITING', 'CONFIRMSCAN', 'LOGIN', 'LOGOUT', 'CANPROVOKE', 'CONFIRMPROVOKE', 'CANCEL', 'NOACCOUNTS', 'EXPIRED', 'ERROR'] as const;
export type ClientFrameType = (typeof CLIENT_FRAMES)[number];
export type ServerFrameType = (typeof SERVER_FRAMES)[number];

export const MAX_FRAME_LENGTH = 256;

export interface Frame<T extends string = string> {
  type: T;
  hsid: string;
  sid: string;
  code?: string;
  /** ERROR only: seconds until trying again can succeed. */
  retryAfter?: number;
}

export function formatFrame(type: ServerFrameType | ClientFrameType, hsid: string, sid: string, code?: string, retryAfter?: number): string {
  const base = code === undefined ? `${type} ${hsid} ${sid}` : `${type} ${hsid} ${sid} ${code}`;
  return type === 'ERROR' && code !== undefined && retryAfter !== undefined ? `${base} ${Math.max(1, Math.ceil(retryAfter))}` : base;
}

function parse<T extends string>(text: string, types: readonly T[]): Frame<T> | undefined {
  if (typeof text !== 'string' || text.length > MAX_FRAME_LENGTH) return undefined;
  const parts = text.split(' ');
  if (parts.length < 3 || parts.length > 5 || parts.includes('')) return undefined;
  const [type, hsid, sid, code, retry] = parts as [string, string, string, string | undefined, string | undefined];
  if (!(types as readonly string[]).includes(type)) return undefined;
  if (retry !== undefined) {
    if (type !== 'ERROR' || !/^\d{1,7}$/.test(retry)) return undefined;
    return { type: type as T, hsid, sid, code: code!, retryAfter: Number(retry) };
  }
  return code === undefined ? { type: type as T, hsid, sid } : { type: type as T, hsid, sid, code };
}

export const parseClientFrame = (text: string): Frame<ClientFrameType> | undefined => parse(text, CLIENT_FRAMES);
export const parseServerFrame = (text: string): Frame<ServerFrameType> | undefined => parse(text, SERVER_FRAMES);

/** The frame that tells a newly registered watcher where the session stands. */
export function frameForState(state: SessionState): ServerFrameType {
  switch (state) {
    case 'idle': return 'WAITING';
    case 'scanned': return 'CONFIRMSCAN';
    case 'provoked': return 'CONFIRMPROVOKE';
    case 'loggedin': return 'LOGIN';
    case 'loggedout': return 'LOGOUT';
    case 'cancelled': return 'CANCEL';
    case 'expired': return 'EXPIRED';
  }
}
