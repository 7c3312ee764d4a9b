import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { refererPattern } from './hotlinking.ts';

describe('refererPattern', () => {
  const cases: [string, string, boolean][] = [
    ['shop.example.com', 'https://shop.example.com/p/1', true],
    ['shop.example.com', 'http://shop.example.com', true],
    ['shop.example.com', 'https://shop.example.com:8443/', true],
    ['shop.example.com', 'https://shop.example.com.evil.net/', false],
    ['shop.example.com', 'https://evilshop.example.com/', false],
    ['shop.example.com', 'https://shopXexample.com/', false],
    ['*.example.com', 'https://a.b.example.com/x', true],
    ['*.example.com', 'https://example.com/', false],
    ['*.example.com', 'https://example.com.evil.net/', false],
  ];
  for (const [host, referer, allowed] of cases) {
    it(`${host} ${allowed ? 'allows' : 'refuses'} ${referer}`, () => {
      assert.equal(new RegExp(refererPattern(host)).test(referer), allowed);
    });
  }
});
