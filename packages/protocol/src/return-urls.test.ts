import { describe, expect, it } from 'vitest';
import { TapinError } from './errors.js';
import { checkReturnUrlEntries, matchReturnUrl, returnUrlEntryProblem } from './return-urls.js';

const allowed = ['https://shop.example/back', 'https://app.example:8443/', 'myapp://login-done', 'http://127.0.0.1:5000/demo/'];

describe('return URLs (app-to-app login)', () => {
  it('allows the same scheme, host and port with the path at or below an entry, and answers the normalized URL', () => {
    expect(matchReturnUrl('https://shop.example/back', allowed)).toBe('https://shop.example/back');
    expect(matchReturnUrl('https://shop.example/back/done?x=1#top', allowed)).toBe('https://shop.example/back/done?x=1#top');
    expect(matchReturnUrl('https://SHOP.example:443/back', allowed)).toBe('https://shop.example/back');
    expect(matchReturnUrl('https://app.example:8443/anything', allowed)).toBe('https://app.example:8443/anything');
    expect(matchReturnUrl('myapp://login-done/ok', allowed)).toBe('myapp://login-done/ok');
    expect(matchReturnUrl('http://127.0.0.1:5000/demo/return', allowed)).toBe('http://127.0.0.1:5000/demo/return');
  });

  it('refuses other origins, sibling paths, traversal, credentials and code schemes', () => {
    for (const url of [
      'https://evil.example/back',
      'https://shop.example.evil.example/back',
      'https://shop.example/backdoor',
      'https://shop.example/other',
      'https://shop.example/back/../admin',
      'https://shop.example/back/%2e%2e/admin',
      'https://shop.example\\@evil.example/back',
      'https://user:pw@shop.example/back',
      'http://shop.example/back',
      'https://shop.example:444/back',
      'https://app.example/',
      'http://127.0.0.1:5000/demo',
      'myapp://other/ok',
      'javascript:alert(1)//https://shop.example/back',
      'data:text/html,<script>1</script>',
      '//shop.example/back',
      '/back',
      '',
      `https://shop.example/back/${'a'.repeat(3000)}`,
    ]) {
      expect(matchReturnUrl(url, allowed), url).toBeUndefined();
    }
    expect(matchReturnUrl('https://shop.example/back', [])).toBeUndefined();
  });

  it('checks allowlist entries when settings change', () => {
    expect(returnUrlEntryProblem('https://shop.example/back')).toBeUndefined();
    expect(returnUrlEntryProblem('myapp://callback')).toBeUndefined();
    for (const bad of ['shop.example', 'javascript:alert(1)', 'https://a.example/?x=1', 'https://a.example/#x', 'https://u:p@a.example/', 'myapp:callback', 'file:///etc/']) {
      expect(returnUrlEntryProblem(bad), bad).toBeDefined();
    }
    expect(() => checkReturnUrlEntries(['https://ok.example', 'nope'])).toThrow(TapinError);
    expect(() => checkReturnUrlEntries(Array.from({ length: 33 }, (_, i) => `https://a${i}.example`))).toThrow(/At most/);
  });
});
