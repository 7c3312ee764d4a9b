import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { normalizeQuery, queryPairs } from '../core/normalize.ts';
import { publicPolicyOf } from '../core/public-policy.ts';
import { policyOf } from '../core/tenant-config.ts';
import { TEST_CONFIG } from '../test/support/tenants.ts';
import { buildUrl, canonicalQuery, isPictorUrlError, readPublicPolicy, snapToBreakpoint, snapToQuality, type ImageOptions, type PublicPolicy } from './index.ts';

const policy: PublicPolicy = {
  tenant: 'shop',
  baseUrl: 'https://images.example.com',
  breakpoints: [160, 320, 640, 768, 1024],
  qualities: [50, 75, 90],
  defaultQuality: 75,
  formats: ['webp', 'jpeg', 'png'],
  signed: false,
  maxSignedTtl: 86400,
};

/** Asserts that `fn` throws the client's error with `code`, and a message matching `message`. */
function assertRefused(fn: () => unknown, code: string, message: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(isPictorUrlError(error), String(error));
    assert.equal(error.code, code);
    assert.match(error.message, message);
    return true;
  });
}

describe('buildUrl', () => {
  it('writes the canonical query: every parameter, alphabetical, defaults spelled out', () => {
    assert.equal(buildUrl(policy, 'sku-42'), 'https://images.example.com/img/shop/sku-42?fmt=auto&q=75');
    assert.equal(buildUrl(policy, 'sku-42', { width: 640, format: 'webp' }), 'https://images.example.com/img/shop/sku-42?fmt=webp&q=75&w=640');
    assert.equal(buildUrl(policy, 'sku-42', { width: 320, height: 160 }), 'https://images.example.com/img/shop/sku-42?fit=cover&fmt=auto&h=160&q=75&w=320');
    assert.equal(buildUrl(policy, 'sku-42', { width: 320, height: 160, fit: 'inside', quality: 90 }), 'https://images.example.com/img/shop/sku-42?fit=inside&fmt=auto&h=160&q=90&w=320');
    assert.equal(buildUrl(policy, 'sku-42', { format: 'png', width: 160 }), 'https://images.example.com/img/shop/sku-42?fmt=png&w=160');
    assert.equal(buildUrl(policy, 'sku-42', { format: 'legacy' }), 'https://images.example.com/img/shop/sku-42?fmt=legacy&q=75');
  });

  it('takes an id, a path or a URL, and a version', () => {
    assert.equal(buildUrl(policy, '/img/shop/sku-42', { width: 160 }), 'https://images.example.com/img/shop/sku-42?fmt=auto&q=75&w=160');
    assert.equal(buildUrl(policy, '/img/shop/sku-42/v3', { width: 160 }), 'https://images.example.com/img/shop/sku-42/v3?fmt=auto&q=75&w=160');
    assert.equal(buildUrl(policy, 'sku-42', { version: 3 }), 'https://images.example.com/img/shop/sku-42/v3?fmt=auto&q=75');
    assert.equal(buildUrl(policy, 'http://127.0.0.1:8080/img/shop/sku-42', { width: 160 }), 'http://127.0.0.1:8080/img/shop/sku-42?fmt=auto&q=75&w=160');
    assert.equal(buildUrl({ ...policy, baseUrl: undefined }, 'sku-42'), '/img/shop/sku-42?fmt=auto&q=75');
    assert.equal(buildUrl(policy, '//cdn.example.com/img/shop/sku-42'), '//cdn.example.com/img/shop/sku-42?fmt=auto&q=75');
  });

  it('refuses what the edge would change or refuse, saying what to do', () => {
    assertRefused(() => buildUrl(policy, 'sku-42', { width: 750 }), 'InvalidParameter', /width 750 is not one of the tenant's breakpoints .* the edge would serve 768\. Ask for 768, or pass snap: true/);
    assertRefused(() => buildUrl(policy, 'sku-42', { width: 5000 }), 'InvalidParameter', /the edge would serve 1024/);
    assertRefused(() => buildUrl(policy, 'sku-42', { height: 100 }), 'InvalidParameter', /height 100 .* would serve 160/);
    assertRefused(() => buildUrl(policy, 'sku-42', { quality: 80 }), 'InvalidParameter', /quality 80 is not one of the tenant's qualities \(50, 75, 90\): the edge would serve 90/);
    assertRefused(() => buildUrl(policy, 'sku-42', { width: 320, fit: 'contain' }), 'InvalidParameter', /fit applies only when both width and height are given/);
    assertRefused(() => buildUrl(policy, 'sku-42', { format: 'png', quality: 90 }), 'InvalidParameter', /PNG is lossless/);
    assertRefused(() => buildUrl(policy, 'sku-42', { format: 'avif' }), 'FormatNotAllowed', /avif is not enabled.* Tenant shop enables webp, jpeg, png/);
    assertRefused(() => buildUrl(policy, 'sku-42', { format: 'jpg' as never }), 'InvalidParameter', /Expected one of auto, legacy, avif, webp, jpeg, png for format but received 'jpg'/);
    assertRefused(() => buildUrl(policy, 'sku-42', { fit: 'fill' as never, width: 160, height: 160 }), 'InvalidParameter', /for fit but received 'fill'/);
    for (const width of [0, -1, 320.5, NaN, Infinity, '320' as never]) {
      assertRefused(() => buildUrl(policy, 'sku-42', { width, snap: true }), 'InvalidParameter', /Expected a positive integer for width/);
    }
    assertRefused(() => buildUrl(policy, 'sku-42', { quality: 101, snap: true }), 'InvalidParameter', /from 1 to 100 for quality/);
  });

  it('refuses a src that names no image of the tenant', () => {
    assertRefused(() => buildUrl(policy, '/img/other/sku-42'), 'InvalidPath', /tenant other, but this policy is tenant shop's/);
    assertRefused(() => buildUrl(policy, '/img/shop/sku-42?w=320'), 'InvalidPath', /carries a query: pass width, format and the rest as options/);
    assertRefused(() => buildUrl(policy, '/photos/sku-42.jpg'), 'InvalidPath', /names no Pictor image: Expected \/img\/\{tenant\}\/\{id\}/);
    assertRefused(() => buildUrl(policy, '/img/shop/../secret'), 'InvalidPath', /names no Pictor image/);
    assertRefused(() => buildUrl(policy, ''), 'InvalidPath', /Expected an image id/);
    assertRefused(() => buildUrl(policy, '/img/shop/sku-42/v2', { version: 3 }), 'InvalidPath', /names version 2 and the options version 3: give one/);
    assertRefused(() => buildUrl(policy, 'sku-42', { version: 0 }), 'InvalidParameter', /positive integer for version/);
  });

  it('snap: true applies the edge\'s rule and writes the result', () => {
    assert.equal(buildUrl(policy, 'sku-42', { width: 750, height: 100, quality: 80, snap: true }), 'https://images.example.com/img/shop/sku-42?fit=cover&fmt=auto&h=160&q=90&w=768');
    assert.equal(snapToBreakpoint(policy, 750), 768);
    assert.equal(snapToBreakpoint(policy, 99999), 1024);
    assert.equal(snapToQuality(policy, 1), 50);
  });

  const anyPolicy = fc
    .record({
      breakpoints: fc.uniqueArray(fc.integer({ min: 1, max: 8192 }), { minLength: 1, maxLength: 10 }).map((b) => b.sort((x, y) => x - y)),
      qualities: fc.uniqueArray(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 5 }).map((q) => q.sort((x, y) => x - y)),
      pick: fc.nat(),
      formats: fc.subarray(['avif', 'webp', 'jpeg', 'png'] as const, { minLength: 1 }),
    })
    .map(({ pick, ...p }): PublicPolicy => ({ ...p, tenant: 'shop', defaultQuality: p.qualities[pick % p.qualities.length]!, signed: false, maxSignedTtl: 60 }));
  const anyOptions: fc.Arbitrary<ImageOptions> = fc.record(
    {
      width: fc.integer({ min: 1, max: 10000 }),
      height: fc.integer({ min: 1, max: 10000 }),
      quality: fc.integer({ min: 1, max: 100 }),
      format: fc.constantFrom('auto', 'legacy', 'avif', 'webp', 'jpeg', 'png') as fc.Arbitrary<ImageOptions['format']>,
    },
    { requiredKeys: [] },
  );

  it('without snap, throws exactly when the edge would change a value; with it, writes a query the edge keeps', () => {
    fc.assert(
      fc.property(anyPolicy, anyOptions, (p, options) => {
        const usable = options.format === undefined || options.format === 'auto' || options.format === 'legacy' || p.formats.includes(options.format);
        const clean = options.format === 'png' ? { ...options, quality: undefined } : options;
        if (!usable) return;
        const query = canonicalQuery(p, { ...clean, snap: true });
        const again = normalizeQuery(queryPairs(query), p, undefined);
        assert.ok(again.ok);
        assert.equal(again.normalized.signedQuery, query);
        const listed =
          (clean.width === undefined || p.breakpoints.includes(clean.width)) &&
          (clean.height === undefined || p.breakpoints.includes(clean.height)) &&
          (clean.quality === undefined || p.qualities.includes(clean.quality));
        if (listed) assert.equal(canonicalQuery(p, clean), query);
        else assert.throws(() => canonicalQuery(p, clean), /the edge would serve/);
      }),
      { numRuns: 300 },
    );
  });
});

describe('readPublicPolicy', () => {
  it('takes every deployed tenant\'s public policy', () => {
    for (const [id, tenant] of Object.entries(TEST_CONFIG.tenants)) {
      const pub = publicPolicyOf(id, policyOf(tenant), 'https://d111.cloudfront.net/');
      assert.deepEqual(readPublicPolicy(JSON.parse(JSON.stringify(pub))), pub);
      assert.equal(pub.baseUrl, 'https://d111.cloudfront.net');
      assert.ok(!JSON.stringify(pub).includes('secret'), 'no secret, no referers');
      assert.deepEqual(Object.keys(pub).sort(), ['baseUrl', 'breakpoints', 'defaultQuality', 'formats', 'maxSignedTtl', 'qualities', 'signed', 'tenant']);
    }
  });

  it('lists every problem of what is not one', () => {
    assertRefused(() => readPublicPolicy({ tenant: 'X', baseUrl: 'https://a.example/img', breakpoints: [320, 160], qualities: [75], defaultQuality: 80, formats: ['gif'], signed: 'no', maxSignedTtl: 0 }), 'InvalidPolicy', /tenant[\s\S]*baseUrl[\s\S]*breakpoints[\s\S]*defaultQuality[\s\S]*formats[\s\S]*signed[\s\S]*maxSignedTtl/);
    assertRefused(() => readPublicPolicy(null), 'InvalidPolicy', /Expected an object for the policy but received null/);
  });
});
