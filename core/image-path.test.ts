import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { formatImagePath, isImageId, isTenantId, NOT_FOUND_PATH, parseImagePath, parseVersion } from './image-path.ts';

describe('image paths', () => {
  const paths: [uri: string, expected: { tenant: string; imageId: string; version?: number } | string][] = [
    ['/img/shop/sku-42', { tenant: 'shop', imageId: 'sku-42' }],
    ['/img/shop/sku-42/v3', { tenant: 'shop', imageId: 'sku-42', version: 3 }],
    ['/img/abc/a', { tenant: 'abc', imageId: 'a' }],
    [`/img/${'a'.repeat(32)}/${'B'.repeat(128)}/v999999999`, { tenant: 'a'.repeat(32), imageId: 'B'.repeat(128), version: 999999999 }],
    ['/img/a-1/0_-Z', { tenant: 'a-1', imageId: '0_-Z' }],
    ['/images/shop/sku-42', 'NotFound'],
    ['/x/img/shop/sku-42', 'NotFound'],
    ['img/shop/sku-42', 'NotFound'],
    ['/img/shop', 'InvalidPath'],
    ['/img/shop/a/v1/b', 'InvalidPath'],
    ['/img/ab/sku', 'InvalidPath'],
    [`/img/${'a'.repeat(33)}/sku`, 'InvalidPath'],
    ['/img/-ab/sku', 'InvalidPath'],
    ['/img/ab-/sku', 'InvalidPath'],
    ['/img/a_b/sku', 'InvalidPath'],
    [`/img/shop/${'B'.repeat(129)}`, 'InvalidPath'],
    ['/img/shop/_a', 'InvalidPath'],
    ['/img/shop/-a', 'InvalidPath'],
    ['/img/shop/a.jpg', 'InvalidPath'],
    ['/img/shop/a/v1000000000', 'InvalidPath'],
    ['/img/shop/a/v01', 'InvalidPath'],
    ['/img/shop/a/V1', 'InvalidPath'],
    ['/img/shop/a/v1x', 'InvalidPath'],
    ['/img/shop/a/xv1', 'InvalidPath'],
  ];
  for (const [uri, expected] of paths) {
    it(`${uri.length > 60 ? uri.slice(0, 60) + '…' : uri}: ${typeof expected === 'string' ? expected : 'parsed'}`, () => {
      const result = parseImagePath(uri);
      if (typeof expected === 'string') {
        assert.equal(result.ok, false);
        if (!result.ok) assert.equal(result.code, expected);
      } else {
        assert.ok(result.ok);
        assert.deepEqual(result.path, expected);
        assert.equal(formatImagePath(result.path), uri);
      }
    });
  }

  it('says which part of a bad path is wrong', () => {
    const message = (uri: string) => {
      const result = parseImagePath(uri);
      return result.ok ? '' : result.message;
    };
    assert.equal(message('/nope'), 'No such resource.');
    assert.equal(message('/img/shop'), 'Expected /img/{tenant}/{imageId} or /img/{tenant}/{imageId}/v{n}.');
    assert.equal(message('/img/SHOP/a'), 'Invalid tenant in path.');
    assert.equal(message('/img/shop/_a'), 'Invalid image id: use 1 to 128 of A-Z a-z 0-9 _ -, starting with a letter or digit.');
    assert.equal(message('/img/shop/a/v0'), 'Invalid version in path: expected v1, v2, ...');
  });

  it('formats what it parses, and parses what it formats', () => {
    const path = fc.record(
      {
        tenant: fc.stringMatching(/^[a-z0-9][a-z0-9-]{1,30}[a-z0-9]$/),
        imageId: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/),
        version: fc.integer({ min: 1, max: 999_999_999 }),
      },
      { requiredKeys: ['tenant', 'imageId'] },
    );
    fc.assert(
      fc.property(path, (p) => {
        const parsed = parseImagePath(formatImagePath(p));
        assert.ok(parsed.ok);
        assert.deepEqual(parsed.path, { ...p });
        assert.ok(isTenantId(p.tenant) && isImageId(p.imageId));
      }),
      { numRuns: 50 },
    );
  });

  it('reads version segments and nothing else', () => {
    assert.equal(parseVersion('v1'), 1);
    assert.equal(parseVersion('v120'), 120);
    for (const bad of ['v0', 'v', '1', 'v-1', 'v1.5', ' v1', 'v1 ', 'latest']) assert.equal(parseVersion(bad), null, bad);
  });

  it('keeps the not-found path outside the grammar, so no image can live there', () => {
    assert.equal(NOT_FOUND_PATH, '/img/_not-found');
    assert.equal(parseImagePath(NOT_FOUND_PATH + '/img/shop/a').ok, false);
  });
});
