import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { auditKey, derivativeUrls, MAX_EXACT_PATHS_PER_IMAGE, originalPrefixes, planInvalidation, servedUrls, TAKEDOWN_REASONS, variantPrefixes, wildcardPaths } from './takedown.ts';
import { parseVariantName, variantName, type VariantSpec } from './variant.ts';

describe('takedown paths and keys', () => {
  it("covers an image's unversioned and versioned URLs with wildcards that reach no other image", () => {
    const paths = wildcardPaths({ tenant: 'shop', imageId: 'sku-42' });
    assert.deepEqual(paths, ['/img/shop/sku-42', '/img/shop/sku-42?*', '/img/shop/sku-42/*']);
    const matches = (url: string) => paths.some((p) => (p.endsWith('*') ? url.startsWith(p.slice(0, -1)) : url === p));
    for (const url of ['/img/shop/sku-42', '/img/shop/sku-42?fmt=webp&w=640', '/img/shop/sku-42/v3', '/img/shop/sku-42/v3?fmt=jpeg&q=75&w=320']) assert.ok(matches(url), url);
    for (const url of ['/img/shop/sku-420', '/img/shop/sku-42b?fmt=webp&w=640', '/img/shop/sku-421/v1']) assert.ok(!matches(url), url);
  });

  it('invalidates exact URLs unless a recent re-publish may have left unlisted copies, or there are too many', () => {
    const image = { tenant: 'shop', imageId: 'sku-42' };
    const urls = servedUrls(image, 1, ['shop/sku-42/v1/w320_q75.webp']);
    assert.deepEqual(urls, ['/img/shop/sku-42', '/img/shop/sku-42/v1', '/img/shop/sku-42/v1?fmt=webp&q=75&w=320', '/img/shop/sku-42?fmt=webp&q=75&w=320']);
    const now = new Date('2026-12-01T12:00:00Z');
    const day = 86_400;
    // Published once: nothing was ever replaced under `latest`.
    assert.deepEqual(planInvalidation(image, urls, { publishedVersions: [1], lastPublishedAt: '2026-12-01T11:59:00Z' }, day + 120, now), { paths: urls, wildcard: false, reason: 'exact' });
    // Re-published a minute ago: the old `latest` renders may still be cached, unlisted.
    assert.equal(planInvalidation(image, urls, { publishedVersions: [1, 2], lastPublishedAt: '2026-12-01T11:59:00Z' }, day + 120, now).reason, 'recently-republished');
    // Re-published long enough ago that every such copy has expired.
    assert.equal(planInvalidation(image, urls, { publishedVersions: [1, 2], lastPublishedAt: '2026-11-29T11:59:00Z' }, day + 120, now).reason, 'exact');
    const many = Array.from({ length: MAX_EXACT_PATHS_PER_IMAGE + 1 }, (_, i) => `/img/shop/sku-42?w=${i}`);
    assert.deepEqual(planInvalidation(image, many, { publishedVersions: [1] }, day, now), { paths: wildcardPaths(image), wildcard: true, reason: 'too-many-urls' });
  });

  it('maps stored variant keys back to every URL the edge may have cached them under', () => {
    // A version's variants were also the unversioned URL's while that version was the latest.
    assert.deepEqual(derivativeUrls('shop/sku-42/v3/w320_q75.webp'), ['/img/shop/sku-42/v3?fmt=webp&q=75&w=320', '/img/shop/sku-42?fmt=webp&q=75&w=320']);
    assert.deepEqual(derivativeUrls('shop/sku-42/latest/w640_h480_cover_q80.legacy'), ['/img/shop/sku-42?fit=cover&fmt=legacy&h=480&q=80&w=640']);
    assert.deepEqual(derivativeUrls('shop/sku-42/latest/full.png'), ['/img/shop/sku-42?fmt=png']);
    const never = ['shop/sku-42/v0/w320.webp', 'shop/sku-42/v3/w320.gif', 'shop/sku-42/w320.webp', 'shop/sku-42/v3/x1.webp', 'shop/sku-42/v0123456789/w320.webp', '_staging/shop/sku-42/v3/w320.webp'];
    for (const bad of never) assert.deepEqual(derivativeUrls(bad), [], bad);
  });

  it('parses exactly the names variantName writes', () => {
    const spec = fc.record(
      {
        w: fc.integer({ min: 1, max: 8192 }),
        h: fc.integer({ min: 1, max: 8192 }),
        fit: fc.constantFrom('cover' as const, 'contain' as const, 'inside' as const),
        fmt: fc.constantFrom('avif' as const, 'webp' as const, 'jpeg' as const, 'png' as const, 'legacy' as const),
        q: fc.integer({ min: 1, max: 100 }),
      },
      { requiredKeys: ['fmt'] },
    );
    fc.assert(fc.property(spec, (s) => assert.deepEqual(parseVariantName(variantName(s as VariantSpec)), { ...s })));
    assert.equal(parseVariantName('w0320.webp'), null);
    assert.equal(parseVariantName('q75_w320.webp'), null, 'a non-canonical order is not a name Pictor writes');
  });

  it('keeps the upload, its pointer, its snapshots, its quarantined copies and what was staged, and no neighbour', () => {
    assert.deepEqual(originalPrefixes({ tenant: 'shop', imageId: 'a' }), ['shop/a', '_published/shop/a', '_versions/shop/a/', '_quarantine/shop/a/']);
    assert.deepEqual(variantPrefixes({ tenant: 'shop', imageId: 'a' }), ['shop/a/', '_staging/shop/a/']);
    assert.equal(auditKey('b-1', { tenant: 'shop', imageId: 'a' }), 'takedowns/shop/a/b-1.json');
    // An empty or partial id would be a prefix of the whole tenant's keys.
    for (const imageId of ['', 'a/b', '../x']) {
      assert.throws(() => originalPrefixes({ tenant: 'shop', imageId }), /not a whole image id/);
      assert.throws(() => variantPrefixes({ tenant: 'shop', imageId }), /not a whole image id/);
    }
  });
});

describe('invalidation plans at their bounds', () => {
  const image = { tenant: 'shop', imageId: 'sku-42' };
  const now = new Date('2026-12-01T12:00:00Z');
  const lifetime = 3600;

  it('needs the wildcard for a re-publish until exactly one unversioned lifetime has passed', () => {
    const at = (secondsAgo: number) => new Date(now.getTime() - secondsAgo * 1000).toISOString();
    const plan = (lastPublishedAt?: string) => planInvalidation(image, ['/img/shop/sku-42'], { publishedVersions: [1, 2], lastPublishedAt }, lifetime, now);
    assert.equal(plan(at(lifetime - 1)).reason, 'recently-republished');
    assert.equal(plan(at(lifetime)).reason, 'exact');
    // Without a date, a re-published image may have copies anywhere.
    assert.equal(plan(undefined).reason, 'recently-republished');
    assert.deepEqual(plan(undefined), { paths: wildcardPaths(image), wildcard: true, reason: 'recently-republished' });
  });

  it('names up to its share of exact paths, sorted, and no more', () => {
    const urls = Array.from({ length: MAX_EXACT_PATHS_PER_IMAGE }, (_, i) => `/img/shop/sku-42?w=${MAX_EXACT_PATHS_PER_IMAGE - i}`);
    assert.deepEqual(planInvalidation(image, urls, { publishedVersions: [1] }, lifetime, now), { paths: [...urls].sort(), wildcard: false, reason: 'exact' });
    assert.equal(planInvalidation(image, [...urls, '/img/shop/sku-42'], { publishedVersions: [1] }, lifetime, now).reason, 'too-many-urls');
    assert.equal(MAX_EXACT_PATHS_PER_IMAGE, 200, "a fifteenth of CloudFront's 3,000 exact paths in progress");
  });

  it('lists the bare URL and every published version even with no variant stored', () => {
    assert.deepEqual(servedUrls(image, 0, []), ['/img/shop/sku-42']);
    assert.deepEqual(servedUrls(image, 2, ['not/a/variant']), ['/img/shop/sku-42', '/img/shop/sku-42/v1', '/img/shop/sku-42/v2']);
    assert.deepEqual(servedUrls(image, 2, ['shop/sku-42/v1/w320.png']), ['/img/shop/sku-42', '/img/shop/sku-42/v1', '/img/shop/sku-42/v1?fmt=png&w=320', '/img/shop/sku-42/v2', '/img/shop/sku-42?fmt=png&w=320'], 'sorted');
  });

  it('maps only keys of four whole segments with valid ids', () => {
    for (const bad of ['Shop/sku-42/v3/w320.webp', 'shop/_x/v3/w320.webp', 'shop/sku-42/v3/w320.webp/x', 'shop/sku-42/newest/w320.webp']) assert.deepEqual(derivativeUrls(bad), [], bad);
  });

  it('refuses to erase under a partial id, naming it, and records takedowns by reason', () => {
    assert.throws(() => originalPrefixes({ tenant: 'SHOP', imageId: 'a' }), { name: 'InvalidEvent', message: "Refusing to erase under 'SHOP/a': not a whole image id." });
    assert.throws(() => variantPrefixes({ tenant: 'shop', imageId: '' }), { name: 'InvalidEvent' });
    assert.deepEqual([...TAKEDOWN_REASONS], ['dmca', 'gdpr', 'other']);
  });
});
