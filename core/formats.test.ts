import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EXPLICIT_FORMATS, FORMAT_ALIASES, negotiateFormat, type ExplicitFormat } from './formats.ts';

describe('format negotiation', () => {
  const all = EXPLICIT_FORMATS;
  const cases: [accept: string | undefined, allowed: readonly ExplicitFormat[], expected: string][] = [
    [undefined, all, 'legacy'],
    ['', all, 'legacy'],
    ['*/*', all, 'legacy'],
    ['image/*', all, 'legacy'],
    ['image/avif', all, 'avif'],
    ['image/webp', all, 'webp'],
    ['image/webp,image/avif', all, 'avif'],
    ['IMAGE/AVIF', all, 'avif'],
    [' image/avif ; q=0.5 ', all, 'avif'],
    ['image/avif;q=0', all, 'legacy'],
    ['image/avif; q=0.0, image/webp', all, 'webp'],
    ['image/avif;q=0.001', all, 'avif'],
    ['image/avif;level=1;q=0', all, 'legacy'],
    ['image/avif;foo=0', all, 'avif'],
    ['image/avif;x=0', all, 'avif'],
    ['image/avifx,image/webpx', all, 'legacy'],
    ['text/image/avif', all, 'legacy'],
    ['image/avif', ['webp', 'jpeg'], 'legacy'],
    ['image/avif,image/webp', ['webp', 'jpeg'], 'webp'],
    ['image/avif,image/webp', ['jpeg', 'png'], 'legacy'],
    ['image/webp', ['avif'], 'legacy'],
  ];
  for (const [accept, allowed, expected] of cases) {
    it(`${JSON.stringify(accept)} with [${allowed.join(', ')}] gets ${expected}`, () => {
      assert.equal(negotiateFormat(accept, allowed), expected);
    });
  }

  it('spells fmt as the README lists it, jpg an alias of jpeg', () => {
    assert.deepEqual(FORMAT_ALIASES, { auto: 'auto', avif: 'avif', webp: 'webp', jpeg: 'jpeg', jpg: 'jpeg', png: 'png', legacy: 'legacy' });
    assert.deepEqual([...EXPLICIT_FORMATS], ['avif', 'webp', 'jpeg', 'png']);
  });
});
