import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import sharp from 'sharp';
import { formatImagePath } from '../core/image-path.ts';
import { variantQuery } from '../core/variant.ts';
import { standardVariants, parseConfig } from '../core/tenant-config.ts';
import { sampleImage } from '../local/sample-image.ts';
import type { FaultMode } from '../local/regions.ts';
import { BUCKETS } from '../local/topology.ts';
import type { Twin } from '../local/twin.ts';
import { keys, upload } from './support/pipeline-twin.ts';
import { noise } from './support/images.ts';
import { useTwin } from './support/twin-fixture.ts';

/**
 * Game days: one region's S3 fails (answers 503, hangs, refuses connections)
 * while viewers keep asking. CloudFront fails over on what the origin does, so
 * no viewer may see a 5xx: not for a variant the pipeline stored, not for one
 * rendered on the miss, not for one over Lambda@Edge's 1 MB response limit.
 */
const CONFIG = parseConfig({
  tenants: { shop: { breakpoints: [160, 320, 640, 1280, 2048], formats: ['webp', 'jpeg', 'png'], variants: { widths: [320, 640], formats: ['webp'] } } },
});
const SHOP = CONFIG.tenants.shop!;
const PRIMARY = BUCKETS.variants.region;
const FAILOVER = BUCKETS.failoverVariants.region;

let twin: Twin;

const fixture = useTwin({ config: CONFIG, timeScale: 0.002 });

before(async () => {
  twin = await fixture.started;
  await upload(twin, 'shop/photo', await sampleImage(1600, 1067));
  // PNG noise does not compress: at 2048 px wide it is far over 1 MB.
  await upload(twin, 'shop/noise', await noise(2048, 2048));
  await twin.settled();
});

async function get(path: string): Promise<{ status: number; body: Buffer; xcache: string | null }> {
  const response = await fetch(twin.edgeUrl + path);
  return { status: response.status, body: Buffer.from(await response.arrayBuffer()), xcache: response.headers.get('x-cache') };
}

describe('a region fails and viewers do not notice', () => {
  it('publishes the standard variants to the variants bucket of both origins', async () => {
    const primary = await keys(twin, BUCKETS.variants.bucket, 'shop/photo/v1/');
    assert.equal(primary.length, standardVariants(SHOP).length);
    assert.deepEqual(await keys(twin, BUCKETS.failoverVariants.bucket, 'shop/photo/v1/'), primary);
  });

  for (const mode of ['503', 'hang', 'refuse'] as const satisfies readonly FaultMode[]) {
    it(`serves stored variants, long-tail renders and variants over 1 MB while the primary region's S3 is ${mode === '503' ? 'answering 503' : mode === 'hang' ? 'hanging' : 'refusing connections'}`, async () => {
      // Nothing in CloudFront's cache: every request is a miss that reaches the origins.
      twin.edge.cache.invalidate('/img/*');
      const stored = standardVariants(SHOP).map((spec) => `${formatImagePath({ tenant: 'shop', imageId: 'photo', version: 1 })}?${variantQuery(spec)}`);
      // A quality per mode, so each mode's long tail is rendered anew.
      const q = { '503': 60, hang: 70, refuse: 80 }[mode];
      const longTail = [`/img/shop/photo?fmt=jpeg&q=${q}&w=160`, `/img/shop/photo/v1?fmt=webp&q=${q}&w=1280`];
      // A size per mode, each over 1 MB as PNG (640 px square noise is about 0.95 MB).
      const large = `/img/shop/noise?fmt=png&${mode === '503' ? 'w=2048' : mode === 'hang' ? 'w=1280' : 'w=1280&h=640'}`;
      await twin.regions.fault(PRIMARY, mode);
      try {
        const failoversBefore = twin.edge.stats.failovers;
        const rendersBefore = twin.edge.stats.originRenders;
        const storedAnswers = await Promise.all(stored.map(get));
        assert.deepEqual(storedAnswers.map((a) => a.status), stored.map(() => 200), 'stored variants');
        assert.equal(twin.edge.stats.originRenders, rendersBefore, 'the failover region had every stored variant: nothing was rendered for them');

        const [tail, big] = await Promise.all([Promise.all(longTail.map(get)), get(large)]);
        assert.deepEqual(tail.map((a) => a.status), [200, 200], 'long-tail renders');
        assert.deepEqual(await Promise.all(tail.map(async (a) => (await sharp(a.body).metadata()).width)), [160, 1280]);
        assert.equal(big.status, 200, 'a variant over 1 MB');
        assert.ok(big.body.length > 1024 * 1024, `${big.body.length} bytes`);
        assert.equal((await sharp(big.body).metadata()).format, 'png');
        assert.equal(twin.edge.stats.failovers - failoversBefore, stored.length + longTail.length + 1, 'every miss failed over, once');
      } finally {
        await twin.regions.fault(PRIMARY, 'off');
      }
      // What the failover region rendered is its own; the primary renders its own when asked.
      assert.ok((await keys(twin, BUCKETS.failoverVariants.bucket, 'shop/photo/latest/')).length > 0);
    });
  }

  it("serves from the primary, without failing over, while the failover region's S3 is down", async () => {
    twin.edge.cache.invalidate('/img/*');
    await twin.regions.fault(FAILOVER, 'refuse');
    try {
      const failoversBefore = twin.edge.stats.failovers;
      const answers = await Promise.all(['/img/shop/photo?fmt=webp&q=75&w=640', '/img/shop/photo?fmt=jpeg&q=50&w=320'].map(get));
      assert.deepEqual(answers.map((a) => a.status), [200, 200]);
      assert.equal(twin.edge.stats.failovers, failoversBefore);
    } finally {
      await twin.regions.fault(FAILOVER, 'off');
    }
  });

  it('answers an unknown image 404 during an outage, not 5xx', async () => {
    await twin.regions.fault(PRIMARY, '503');
    try {
      assert.equal((await get('/img/shop/never-uploaded?fmt=webp&q=75&w=320')).status, 404);
    } finally {
      await twin.regions.fault(PRIMARY, 'off');
    }
  });
});
