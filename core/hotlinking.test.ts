import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { refererAllowed } from './hotlinking.ts';

describe('refererAllowed', () => {
  const cases: [string[], string | undefined, boolean][] = [
    [['shop.example.com'], 'https://shop.example.com/p/1', true],
    [['shop.example.com'], 'http://shop.example.com', true],
    [['shop.example.com'], 'https://shop.example.com:8443/', true],
    [['shop.example.com'], 'HTTPS://Shop.Example.COM/P', true],
    [['shop.example.com'], 'https://shop.example.com.evil.net/', false],
    [['shop.example.com'], 'https://evilshop.example.com/', false],
    [['shop.example.com'], 'https://shopXexample.com/', false],
    [['shop.example.com'], 'https://shop.example.com@evil.net/', false],
    [['shop.example.com'], 'ftp://shop.example.com/', false],
    [['shop.example.com'], 'not a url', false],
    [['*.example.com'], 'https://a.b.example.com/x', true],
    [['*.example.com'], 'https://example.com/', false],
    [['*.example.com'], 'https://.example.com/', false],
    [['*.example.com'], 'https://a..example.com/', false],
    [['*.example.com'], 'https://example.com.evil.net/', false],
    [['*.example.com'], 'https://evilexample.com/', false],
    [['other.net', '*.example.com'], 'https://www.example.com/', true],
    // No Referer at all passes (privacy settings, apps); so does any site when none is listed.
    [['shop.example.com'], undefined, true],
    [['shop.example.com'], '', true],
    [[], 'https://anywhere.net/', true],
    // The host is the whole authority after the scheme, and a wildcard needs whole labels before the domain.
    [['shop.example.com'], 'android-app://https://shop.example.com/', false],
    [['a.example.com'], 'https://b.example.com/', false],
    [['*.example.com'], 'https://.a.example.com/', false],
    [['*.example.com'], 'https://x.evilxxx.net/', false],
  ];
  for (const [hosts, referer, allowed] of cases) {
    it(`[${hosts.join(', ')}] ${allowed ? 'allows' : 'refuses'} ${JSON.stringify(referer)}`, () => {
      assert.equal(refererAllowed(referer, hosts), allowed);
    });
  }
});
