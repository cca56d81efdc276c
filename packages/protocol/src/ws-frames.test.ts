import { describe, expect, it } from 'vitest';
import { randomId } from './encoding.js';
import { ERRORS } from './errors.js';
import { deriveHsid } from './hsid.js';
import { generateNonce } from './nonce.js';
import { SESSION_STATES } from './schemas.js';
import {
  CLIENT_FRAMES,
  formatFrame,
  frameForState,
  MAX_FRAME_LENGTH,
  parseClientFrame,
  parseServerFrame,
  SERVER_FRAMES,
} from './ws-frames.js';

const sid = randomId();
const hsid = deriveHsid(sid, generateNonce());

describe('ws frames', () => {
  it('formats TYPE HSID SID', () => {
    expect(formatFrame('REGISTER', hsid, sid)).toBe(`REGISTER ${hsid} ${sid}`);
    expect(formatFrame('ERROR', hsid, sid, 'session_expired')).toBe(`ERROR ${hsid} ${sid} session_expired`);
  });

  it('parses every client frame it formats', () => {
    for (const type of CLIENT_FRAMES) {
      expect(parseClientFrame(formatFrame(type, hsid, sid))).toEqual({ type, hsid, sid });
    }
  });

  it('parses every server frame it formats, ERROR with its code', () => {
    for (const type of SERVER_FRAMES) {
      expect(parseServerFrame(formatFrame(type, hsid, sid))).toEqual({ type, hsid, sid });
    }
    expect(parseServerFrame(formatFrame('ERROR', hsid, sid, 'invalid_hsid'))).toEqual({ type: 'ERROR', hsid, sid, code: 'invalid_hsid' });
  });

  it('keeps client and server frame types apart', () => {
    expect(parseClientFrame(`LOGIN ${hsid} ${sid}`)).toBeUndefined();
    expect(parseServerFrame(`REGISTER ${hsid} ${sid}`)).toBeUndefined();
    expect(parseServerFrame(`PROVOKE ${hsid} ${sid}`)).toBeUndefined();
    // LOGOUT goes both ways.
    expect(parseClientFrame(`LOGOUT ${hsid} ${sid}`)?.type).toBe('LOGOUT');
    expect(parseServerFrame(`LOGOUT ${hsid} ${sid}`)?.type).toBe('LOGOUT');
  });

  it('answers undefined for garbage', () => {
    const garbage = [
      '',
      ' ',
      'REGISTER',
      `REGISTER ${hsid}`,
      `REGISTER ${hsid} ${sid} x y`,
      `register ${hsid} ${sid}`,
      `HELLO ${hsid} ${sid}`,
      `REGISTER  ${hsid} ${sid}`,
      `REGISTER ${hsid}  ${sid}`,
      ` REGISTER ${hsid} ${sid}`,
      `REGISTER ${hsid} ${sid} `,
      'REGISTER  ',
      `REGISTER\t${hsid}\t${sid}`,
      `{"type":"REGISTER","hsid":"${hsid}"}`,
      `REGISTER ${'x'.repeat(MAX_FRAME_LENGTH)} ${sid}`,
      '\u0000\u0001\u0002',
    ];
    for (const text of garbage) {
      expect(parseClientFrame(text), JSON.stringify(text)).toBeUndefined();
      expect(parseServerFrame(text.replace('REGISTER', 'LOGIN')), JSON.stringify(text)).toBeUndefined();
    }
    expect(parseClientFrame(undefined as unknown as string)).toBeUndefined();
    expect(parseServerFrame(42 as unknown as string)).toBeUndefined();
  });

  it('names a frame for every session state, and that frame parses', () => {
    const frames = SESSION_STATES.map(frameForState);
    expect(new Set(frames).size).toBe(SESSION_STATES.length);
    for (const type of frames) {
      expect(SERVER_FRAMES).toContain(type);
      expect(parseServerFrame(formatFrame(type, hsid, sid))?.type).toBe(type);
    }
    expect(frameForState('loggedin')).toBe('LOGIN');
    expect(frameForState('idle')).toBe('WAITING');
  });

  it('an ERROR frame may carry the seconds to wait as a fifth field; no other frame may', () => {
    expect(formatFrame('ERROR', hsid, sid, 'push_rate_limited', 9.2)).toBe(`ERROR ${hsid} ${sid} push_rate_limited 10`);
    expect(parseServerFrame(`ERROR ${hsid} ${sid} push_rate_limited 10`)).toEqual({ type: 'ERROR', hsid, sid, code: 'push_rate_limited', retryAfter: 10 });
    expect(parseServerFrame(`ERROR ${hsid} ${sid} push_rate_limited soon`)).toBeUndefined();
    expect(parseServerFrame(`ERROR ${hsid} ${sid} push_rate_limited -1`)).toBeUndefined();
    expect(parseServerFrame(`CONFIRMPROVOKE ${hsid} ${sid} 42 10`)).toBeUndefined();
    expect(parseClientFrame(`PROVOKE ${hsid} ${sid} x 10`)).toBeUndefined();
    expect(formatFrame('CANCEL', hsid, sid, undefined, 10)).toBe(`CANCEL ${hsid} ${sid}`);
  });

  it('an ERROR frame fits any error code within the length limit', () => {
    for (const code of Object.keys(ERRORS)) {
      const text = formatFrame('ERROR', hsid, 'a'.repeat(64), code);
      expect(text.length).toBeLessThanOrEqual(MAX_FRAME_LENGTH);
      expect(parseServerFrame(text)?.code).toBe(code);
    }
  });
});
