import { describe, expect, it } from 'vitest';
import { parseFrame, progressOfFrame, progressOfState, socketUrlFor } from './frames.js';

describe('browser socket frames', () => {
  it('parses TYPE HSID SID and the fourth field (ERROR code, CONFIRMPROVOKE number)', () => {
    expect(parseFrame('LOGIN h s')).toEqual({ type: 'LOGIN', hsid: 'h', sid: 's', code: undefined });
    expect(parseFrame('CONFIRMPROVOKE h s 42')).toEqual({ type: 'CONFIRMPROVOKE', hsid: 'h', sid: 's', code: '42' });
    // A refused PROVOKE says how long to wait in a fifth field; the frame is kept.
    expect(parseFrame('ERROR h s push_rate_limited 10')).toEqual({ type: 'ERROR', hsid: 'h', sid: 's', code: 'push_rate_limited' });
  });

  it.each([['too few fields', 'LOGIN h'], ['too many', 'A b c d e'], ['too many for ERROR', 'ERROR h s code 10 x'], ['an empty field', 'LOGIN  s'], ['over 256 chars', `LOGIN ${'h'.repeat(300)} s`], ['not text', 42]])(
    'ignores %s', (_name, frame) => expect(parseFrame(frame)).toBeUndefined());

  it('maps frames and states to what the block shows; unknown ones to nothing', () => {
    expect(progressOfFrame('CONFIRMSCAN')).toBe('scanned');
    expect(progressOfFrame('CANCEL')).toBe('cancelled');
    expect(progressOfFrame('NOACCOUNTS')).toBe('noaccounts');
    expect(progressOfFrame('BOGUS')).toBeUndefined();
    expect(progressOfState('idle')).toBe('waiting');
    expect(progressOfState('loggedin')).toBe('loggedin');
    expect(progressOfState('toString')).toBeUndefined();
  });
});

describe('socketUrlFor', () => {
  it('derives ws(s)://host[/prefix]/v1/ws from the login URL', () => {
    expect(socketUrlFor('https://tapin.example/q/SID/HSID')).toBe('wss://tapin.example/v1/ws');
    expect(socketUrlFor('http://127.0.0.1:8470/q/SID/HSID')).toBe('ws://127.0.0.1:8470/v1/ws');
    expect(socketUrlFor('https://example.com/auth/q/SID/HSID')).toBe('wss://example.com/auth/v1/ws');
  });

  it.each(['javascript:alert(1)', 'not a url', 'https://tapin.example/e/SID/TOKEN', 'ftp://x/q/a/b'])('refuses %s', (url) => {
    expect(socketUrlFor(url)).toBeUndefined();
  });
});
