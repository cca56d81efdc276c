import { describe, expect, it } from 'vitest';
import { randomId } from './encoding.js';
import { TapinError } from './errors.js';
import { deriveHsid } from './hsid.js';
import { buildEnrolUrl, buildLoginUrl, isValidEnrolToken, MAX_LINK_LENGTH, parseLink, parseScan, resolveLink } from './links.js';
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

  describe('raw forms ("URL or raw")', () => {
    const login = buildLoginUrl('https://example.org/tapin', sid, hsid);
    const enrol = buildEnrolUrl('https://example.org/tapin', sid, token);

    it('ignores surrounding whitespace and newlines', () => {
      expect(parseLink(` \t${login}\r\n`)).toEqual({ type: 'login', base: 'https://example.org/tapin', sid, hsid });
    });

    it('reads the getQrLogin / enrol JSON answer', () => {
      expect(parseLink(JSON.stringify({ data: login, hsid }))).toEqual({ type: 'login', base: 'https://example.org/tapin', sid, hsid });
      expect(parseLink(`  ${JSON.stringify({ data: enrol, expires: 1700000000000 })}\n`)).toEqual({ type: 'enrol', base: 'https://example.org/tapin', sid, token });
      expect(parseLink(JSON.stringify({ data: `${login}?return=${encodeURIComponent('app://x')}` }))).toMatchObject({ returnUrl: 'app://x' });
    });

    it('refuses JSON that is not such an answer', () => {
      const other = deriveHsid(sid, generateNonce());
      for (const data of [
        '{', '{}', '[]', 'null', JSON.stringify({ data: 42 }), JSON.stringify({ data: login, hsid: 7 }), JSON.stringify({ url: login }),
        JSON.stringify({ data: login, hsid: other }), JSON.stringify({ data: enrol, hsid }), JSON.stringify({ data: `q/${sid}/${hsid}` }),
        JSON.stringify({ data: JSON.stringify({ data: login }) }), JSON.stringify({ data: 'not a link' }),
        JSON.stringify({ data: login, pad: 'x'.repeat(MAX_LINK_LENGTH) }),
      ]) {
        expect(errorCode(data), data).toBe('qr_parse_error');
      }
      expect(errorCode(JSON.stringify({ data: `https://h.example/x/${sid}/${hsid}` }))).toBe('qr_unknown_type');
    });

    it('parses a bare path q/<sid>/<hsid> or e/<sid>/<token>, with or without a leading slash, as a link without base', () => {
      expect(parseScan(`q/${sid}/${hsid}`)).toEqual({ type: 'login', base: null, sid, hsid });
      expect(parseScan(` /q/${sid}/${hsid}\n`)).toEqual({ type: 'login', base: null, sid, hsid });
      expect(parseScan(`e/${sid}/${token}`)).toEqual({ type: 'enrol', base: null, sid, token });
      expect(parseScan(`/e/${sid}/${token}`)).toEqual({ type: 'enrol', base: null, sid, token });
      // Full links come out of parseScan as parseLink gives them.
      expect(parseScan(login)).toEqual(parseLink(login));
      expect(parseScan(JSON.stringify({ data: login }))).toEqual(parseLink(login));
    });

    it('refuses malformed bare paths, and parseLink refuses a bare path (it needs the server address)', () => {
      for (const data of [
        `q/${sid}/${hsid}?return=x`, `q/${sid}/${hsid}#f`, `//q/${sid}/${hsid}`, `q/${sid}/${hsid}/`, `q/${sid}`, `a/q/${sid}/${hsid}`,
        `q/${sid}/${hsid.slice(1)}`, `e/${sid}/short`, `Q/${sid}/${hsid}`, `qq/${sid}/${hsid}`, `q/abc/${hsid}`, `q /${sid}/${hsid}`,
        `https:/q/${sid}/${hsid}`,
      ]) {
        expect(() => parseScan(data), data).toThrow(expect.objectContaining({ code: 'qr_parse_error' }));
      }
      expect(() => parseScan(`x/${sid}/${hsid}`)).toThrow(expect.objectContaining({ code: 'qr_unknown_type' }));
      for (const data of [`q/${sid}/${hsid}`, `/e/${sid}/${token}`]) expect(errorCode(data)).toBe('qr_parse_error');
    });

    it('resolveLink puts a server address in front of a bare path and leaves full links alone', () => {
      expect(resolveLink(parseScan(`q/${sid}/${hsid}`), 'https://example.org/tapin/')).toEqual(parseLink(login));
      expect(resolveLink(parseScan(`e/${sid}/${token}`), 'https://example.org/tapin')).toEqual(parseLink(enrol));
      expect(resolveLink(parseLink(login), 'https://elsewhere.example')).toEqual(parseLink(login));
    });
  });
});
