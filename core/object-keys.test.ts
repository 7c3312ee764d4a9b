import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  parseUploadKey,
  PUBLISHED_VERSION_METADATA,
  publishedKey,
  quarantineKey,
  quarantinePrefix,
  snapshotPrefix,
  snapshotKey,
  stagedKey,
  stagedOriginalKey,
  stagingPrefix,
  uploadKey,
  variantKey,
  variantPrefix,
} from './object-keys.ts';

const image = { tenant: 'shop', imageId: 'sku-42' };
const webp = { fmt: 'webp', q: 75, w: 320 } as const;

describe('object keys', () => {
  // The layout is a contract with every object already stored: a changed key orphans them.
  it('lays out the originals bucket as documented', () => {
    assert.equal(uploadKey(image), 'shop/sku-42');
    assert.equal(snapshotKey(image, 3), '_versions/shop/sku-42/v3');
    assert.equal(publishedKey(image), '_published/shop/sku-42');
    assert.equal(quarantineKey(image, '0055AED6DCD90281E5'), '_quarantine/shop/sku-42/0055AED6DCD90281E5');
    assert.equal(snapshotPrefix(image), '_versions/shop/sku-42/');
    assert.equal(quarantinePrefix(image), '_quarantine/shop/sku-42/');
    assert.equal(PUBLISHED_VERSION_METADATA, 'pictor-version', 'read back from objects S3 already holds');
  });

  it('lays out the variants bucket as documented', () => {
    assert.equal(variantPrefix(image), 'shop/sku-42/latest/');
    assert.equal(variantPrefix({ ...image, version: 3 }), 'shop/sku-42/v3/');
    assert.equal(variantKey(image, webp), 'shop/sku-42/latest/w320_q75.webp');
    assert.equal(variantKey({ ...image, version: 3 }, webp), 'shop/sku-42/v3/w320_q75.webp');
    assert.equal(stagedKey('shop/sku-42/v3/w320_q75.webp'), '_staging/shop/sku-42/v3/w320_q75.webp');
    assert.equal(stagingPrefix(image, 3), '_staging/shop/sku-42/v3/');
    assert.equal(stagedOriginalKey(image, 3), '_staging/shop/sku-42/v3/original');
  });

  const tenant = fc.stringMatching(/^[a-z0-9][a-z0-9-]{1,30}[a-z0-9]$/);
  const imageId = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/);
  const version = fc.integer({ min: 1, max: 999_999_999 });

  it('reads back the image of every upload key, and no image from a system key', () => {
    fc.assert(
      fc.property(tenant, imageId, version, (t, id, v) => {
        const img = { tenant: t, imageId: id };
        assert.deepEqual(parseUploadKey(uploadKey(img)), img);
        for (const key of [snapshotKey(img, v), publishedKey(img), quarantineKey(img, '00AB'), stagedOriginalKey(img, v), variantKey({ ...img, version: v }, webp)]) {
          assert.equal(parseUploadKey(key), null, key);
        }
      }),
      { numRuns: 50 },
    );
  });

  it("keeps one image's keys out of every other image's prefixes, tenant scoped as a whole segment", () => {
    fc.assert(
      fc.property(tenant, imageId, tenant, imageId, version, (t1, id1, t2, id2, v) => {
        fc.pre(t1 !== t2 || id1 !== id2);
        const a = { tenant: t1, imageId: id1 };
        const b = { tenant: t2, imageId: id2 };
        assert.ok(!variantKey({ ...a, version: v }, webp).startsWith(variantPrefix({ ...b, version: v })));
        assert.ok(!stagedOriginalKey(a, v).startsWith(stagingPrefix(b, v)));
        assert.ok(!snapshotKey(a, v).startsWith(snapshotPrefix(b)));
        assert.ok(!quarantineKey(a, '00AB').startsWith(quarantinePrefix(b)));
        assert.ok(snapshotKey(a, v).startsWith(snapshotPrefix(a)) && quarantineKey(a, '00AB').startsWith(quarantinePrefix(a)));
        assert.ok(variantKey(a, webp).startsWith(t1 + '/'));
        assert.ok(quarantineKey(a, '00AB').startsWith('_quarantine/' + t1 + '/'));
      }),
      { numRuns: 50 },
    );
  });
});
