import { describe, expect, it } from 'vitest';
import { randomId } from './encoding.js';
import { TapinError } from './errors.js';
import { deriveHsid } from './hsid.js';
import { buildEnrolUrl, buildLoginUrl, isValidEnrolToken, MAX_LINK_LENGTH, parseLink } from './links.js';
import { generateNonce } from './nonce.js';

const sid = randomId();
const hsid = deriveHsid(sid, generateNonce());
const token = randomId(24);

function errorCode(data: string): string | undefined {
  try {
    parseLink(data);
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(TapinError);
    return (e as TapinError).code;
  }
}

describe('links', () => {
  it('builds and parses login links, with and without a path prefix', () => {
    for (const base of ['https://tapin.example.com', 'http://localhost:8470', 'https://example.org/tapin', 'https://example.org/a/b/c']) {
      for (const publicUrl of [base, `${base}/`]) {
        const url = buildLoginUrl(publicUrl, sid, hsid);
        expect(url).toBe(`${base}/q/${sid}/${hsid}`);
        expect(parseLink(url)).toEqual({ type: 'login', base, sid, hsid });
      }
    }
  });

  it('carries a return URL through encoding', () => {
    for (const returnUrl of ['https://shop.example/back', 'myapp://done?x=1&y=2#z', 'https://x.example/a b+c%20d?ü=€', '']) {
      const url = buildLoginUrl('https://example.org/tapin', sid, hsid, returnUrl);
      expect(url).toContain('?return=');
      expect(parseLink(url)).toEqual({ type: 'login', base: 'https://example.org/tapin', sid, hsid, returnUrl });
    }
  });

  it('builds and parses enrol links', () => {
    const url = buildEnrolUrl('https://example.org/tapin/', sid, token);
    expect(url).toBe(`https://example.org/tapin/e/${sid}/${token}`);
    expect(parseLink(url)).toEqual({ type: 'enrol', base: 'https://example.org/tapin', sid, token });
    expect(isValidEnrolToken(token)).toBe(true);
    expect(isValidEnrolToken(token.slice(0, 21))).toBe(false);
    expect(isValidEnrolToken('a'.repeat(65))).toBe(false);
    expect(isValidEnrolToken(`${token}=`)).toBe(false);
    expect(isValidEnrolToken(undefined)).toBe(false);
  });

  it('answers qr_parse_error for data that is not a Tapin link', () => {
    for (const data of [
      '',
      '   ',
      'not a link',
      'WIFI:S:home;T:WPA;P:secret;;',
      `javascript:alert(1)//q/${sid}/${hsid}`,
      `file:///q/${sid}/${hsid}`,
      `ftp://h.example/q/${sid}/${hsid}`,
      `https://u:p@h.example/q/${sid}/${hsid}`,
      `https://h.example/q/${sid}`,
      `https://h.example/q/${sid}/${hsid}x`,
      `https://h.example/q/${sid}/${hsid.slice(1)}`,
      `https://h.example/q/abc/${hsid}`,
      `https://h.example/e/${sid}/short`,
      `https://h.example/qq/${sid}/${hsid}`,
      `https://h.example/Q/${sid}/${hsid}`,
      `https://h.example/1/${sid}/${hsid}`,
      `https://h.example/q/${sid}/${hsid}?return=${'a'.repeat(MAX_LINK_LENGTH)}`,
    ]) {
      expect(errorCode(data), data).toBe('qr_parse_error');
    }
  });

  it('answers qr_unknown_type for a Tapin-shaped link of an unknown kind', () => {
    expect(errorCode(`https://h.example/x/${sid}/${hsid}`)).toBe('qr_unknown_type');
    expect(errorCode(`https://h.example/tapin/z/${sid}/${token}`)).toBe('qr_unknown_type');
  });

  it('link errors carry the SDK user error numbers 32 and 33', () => {
    try {
      parseLink('nonsense');
    } catch (e) {
      expect((e as TapinError).userError).toBe(32);
    }
    try {
      parseLink(`https://h.example/x/${sid}/${hsid}`);
    } catch (e) {
      expect((e as TapinError).userError).toBe(33);
    }
    expect.assertions(2);
  });
});
