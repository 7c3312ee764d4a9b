import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { IMMUTABLE_CACHE_CONTROL } from '../../core/cache-control.ts';
import { stagedKey, stagedOriginalKey } from '../../core/object-keys.ts';
import { parseConfig, standardVariants } from '../../core/tenant-config.ts';
import { DEFAULT_RENDER_LIMITS } from '../../imaging/render-limits.ts';
import { MemoryS3, MemoryVersionMap } from '../shared/fakes.ts';
import { tenantLookup } from '../shared/tenants.ts';
import type { Upload } from '../shared/upload.ts';
import { variantSchema } from '../shared/variant-schema.ts';
import { renderVariants, type RenderDeps } from './render-variants.ts';

/** Small breakpoints and no AVIF: a few fast encodes. */
const CONFIG = parseConfig({ tenants: { shop: { breakpoints: [32, 64], formats: ['webp'] } } });
const PNG = await sharp({ create: { width: 120, height: 80, channels: 3, background: { r: 10, g: 120, b: 200 } } }).png().toBuffer();

function arrange(body: Buffer | string = PNG) {
  const s3 = new MemoryS3();
  const originals = s3.bucket('originals');
  const variants = s3.bucket('variants', { versioned: false });
  const versions = new MemoryVersionMap();
  const { etag } = originals.seed('shop/a', body);
  const deps: RenderDeps = { originals, variants, versions, tenant: tenantLookup(CONFIG.tenants), limits: DEFAULT_RENDER_LIMITS };
  const upload: Upload = { tenant: 'shop', imageId: 'a', sequencer: '0001', etag: etag.replace(/"/g, ''), idempotencyKey: 'shop/a/0001' };
  return { deps, upload, originals, variants, versions };
}

describe('renderVariants', () => {
  it("reserves the next version and stages the tenant's standard set, and the bytes it came from, where nothing is served", async () => {
    // Arrange
    const a = arrange();
    const specs = standardVariants(CONFIG.tenants.shop!);
    // Act
    const result = await renderVariants(a.upload, a.deps);
    // Assert
    assert.equal(result.outcome, 'rendered');
    if (result.outcome !== 'rendered') return;
    assert.equal(result.version, 1);
    assert.equal(result.schema, variantSchema(specs));
    assert.equal(result.variants.length, specs.length);
    const original = stagedOriginalKey({ tenant: 'shop', imageId: 'a' }, 1);
    assert.deepEqual(a.variants.keys(), [...result.variants.map((v) => stagedKey(v.key)), original].sort());
    for (const v of result.variants) {
      const staged = a.variants.object(stagedKey(v.key))!;
      assert.equal(staged.headers.cacheControl, IMMUTABLE_CACHE_CONTROL, v.key);
      const meta = await sharp(staged.body).metadata();
      assert.equal(meta.width, v.width, v.key);
      assert.equal(staged.body.length, v.bytes, v.key);
    }
    assert.deepEqual(a.variants.object(original)!.body, PNG);
  });

  it('renders the same version over the same keys when run again', async () => {
    const a = arrange();
    const first = await renderVariants(a.upload, a.deps);
    const keys = a.variants.keys();
    assert.deepEqual(await renderVariants(a.upload, a.deps), first);
    assert.deepEqual(a.variants.keys(), keys);
  });

  it('renders nothing for an upload superseded by a newer one, replaced since, or taken down', async () => {
    const cases: { name: string; arrange: (a: ReturnType<typeof arrange>) => Promise<unknown> | void }[] = [
      { name: 'a newer upload reserved first', arrange: (a) => a.versions.reserve('shop', 'a', '0002', 'shop/a/0002') },
      { name: 'taken down', arrange: (a) => a.versions.tombstone('shop', 'a', 'dmca') },
      { name: 'replaced since the event', arrange: (a) => void a.originals.seed('shop/a', 'other bytes') },
    ];
    for (const c of cases) {
      const a = arrange();
      await c.arrange(a);
      const result = await renderVariants(a.upload, a.deps);
      assert.equal(result.outcome, 'superseded', c.name);
      assert.deepEqual(a.variants.keys(), [], c.name);
    }
  });

  it('fails with the typed error of a bad original or a failing store, staging nothing', async () => {
    const cases: { name: string; body?: string; arrange?: (a: ReturnType<typeof arrange>) => void; error: string }[] = [
      { name: 'not an image', body: 'plain text', error: 'UnprocessableImage' },
      { name: 'too large', arrange: (a) => void (a.deps = { ...a.deps, limits: { ...a.deps.limits, maxInputBytes: 100 } }), error: 'ImageTooLarge' },
      { name: 'the originals do not answer', arrange: (a) => a.originals.failing.add('get'), error: 'OriginUnavailable' },
      { name: 'the version map does not answer', arrange: (a) => a.versions.failing.add('reserve'), error: 'OriginUnavailable' },
    ];
    for (const c of cases) {
      const a = arrange(c.body);
      c.arrange?.(a);
      await assert.rejects(renderVariants(a.upload, a.deps), { name: c.error }, c.name);
      assert.deepEqual(a.variants.keys(), [], c.name);
    }
  });
});
