import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CloudFrontClient, CreateInvalidationCommand, GetInvalidationCommand, ListInvalidationsCommand } from '@aws-sdk/client-cloudfront';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { snapshotKey } from '../core/object-keys.ts';
import { parseConfig } from '../core/tenant-config.ts';
import { publishDirectly } from '../local/seed.ts';
import { PRIVATE_CACHE_CONTROL } from '../core/cache-control.ts';
import { SECURITY_HEADERS } from '../core/security-headers.ts';
import { signWithNewestKey } from '../signer/sign-url.ts';
import { BUCKETS } from '../local/topology.ts';
import { LOCAL_DISTRIBUTION_ID, type Twin } from '../local/twin.ts';
import { sampleImage } from '../local/sample-image.ts';
import { manualTimer } from './support/manual-timer.ts';
import { TEST_CONFIG } from './support/tenants.ts';
import { VIEWER_CASES } from './support/viewer-cases.ts';
import { useTwin } from './support/twin-fixture.ts';

const CONFIG = parseConfig({
  tenants: {
    ...structuredClone(TEST_CONFIG.tenants),
    // Short-lived URLs, to watch staleness without waiting.
    brief: { breakpoints: [100, 320, 640], ttl: { unversioned: 5 } },
  },
});

let twin: Twin;
const completions = manualTimer();
let now = Date.now();
const PRIMARY = BUCKETS.variants.region;
const FAILOVER = BUCKETS.failoverVariants.region;
let cloudfront: CloudFrontClient;

const fixture = useTwin({
  config: CONFIG,
  // The edge alone: uploads here must not start renders.
  pipeline: false,
  clock: () => now,
  // Invalidations complete when a test says so (completeInvalidations): "still in progress" holds however busy the machine.
  invalidationTimer: completions.timer,
});

before(async () => {
  twin = await fixture.started;
  const photo = await sampleImage(1600, 1067);
  for (const tenant of ['acme', 'acme-private', 'no-avif', 'brief']) {
    for (const id of ['sample', 'cold', 'failover', 'stale', 'purge']) await publishDirectly(twin.s3Client, { tenant, imageId: id }, photo);
    // The published snapshot the versioned case reads.
    await twin.s3Client.send(new PutObjectCommand({ Bucket: BUCKETS.originals.bucket, Key: snapshotKey({ tenant, imageId: 'sample' }, 3), Body: photo }));
  }
  await twin.replication.settled();
  cloudfront = new CloudFrontClient({ region: 'us-east-1', endpoint: twin.controlUrl, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
});

after(async () => {
  cloudfront.destroy();
});

async function get(path: string, headers: Record<string, string> = {}) {
  const response = await fetch(twin.edgeUrl + path, { headers });
  return { status: response.status, xcache: response.headers.get('x-cache'), headers: response.headers, body: Buffer.from(await response.arrayBuffer()) };
}

/**
 * Completes every invalidation in progress, as the passing of CloudFront's delay would, and resolves once
 * each reads Completed through CloudFront's API, as a client polling GetInvalidation sees it.
 */
async function completeInvalidations(): Promise<void> {
  completions.fire();
  const ids = twin.invalidations.list().map((i) => i.id);
  const deadline = Date.now() + 10_000;
  for (const id of ids) {
    for (;;) {
      const { Invalidation } = await cloudfront.send(new GetInvalidationCommand({ DistributionId: LOCAL_DISTRIBUTION_ID, Id: id }));
      if (Invalidation?.Status === 'Completed') break;
      assert.ok(Date.now() < deadline, `invalidation ${id} still ${Invalidation?.Status}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

describe('the local edge', () => {
  it('misses, then hits, for every spelling of one variant', async () => {
    const first = await get('/img/acme/sample?w=287&utm_source=x');
    assert.equal(first.status, 200);
    assert.equal(first.xcache, 'Miss from cloudfront');
    assert.equal((await sharp(first.body).metadata()).width, 320);
    for (const variant of ['w=287&utm_source=x', 'utm_source=y&w=287', 'W=287', 'w=300&fbclid=1', 'q=75&w=320&fmt=legacy']) {
      const again = await get(`/img/acme/sample?${variant}`);
      assert.equal(again.xcache, 'Hit from cloudfront', variant);
      assert.deepEqual(again.body, first.body, variant);
    }
  });

  describe('runs the shared case table', () => {
    for (const c of VIEWER_CASES) {
      it(c.name, async () => {
        const response = await fetch(`${twin.edgeUrl}${c.uri}${c.query ? '?' + c.query : ''}`, {
          method: c.method ?? 'GET',
          headers: { ...(c.accept ? { accept: c.accept } : {}), ...(c.referer ? { referer: c.referer } : {}) },
        });
        const body = Buffer.from(await response.arrayBuffer());
        if ('query' in c.expect) {
          assert.equal(response.status, 200);
          // The canonical URL names the same cache object.
          const canonical = await get(`${c.uri}?${c.expect.query}`);
          assert.equal(canonical.xcache, 'Hit from cloudfront');
          assert.deepEqual(canonical.body, body);
        } else if ('notFound' in c.expect) {
          assert.equal(response.status, 404);
          assert.deepEqual(JSON.parse(body.toString()), { code: 'NotFound', message: 'No such image.' });
        } else {
          assert.equal(response.status, c.expect.status);
          assert.equal(JSON.parse(body.toString()).code, c.expect.code);
        }
      });
    }
  });

  it('collapses 1,000 concurrent requests for one cold key into one origin request', async () => {
    const before = twin.edge.stats.originRequests;
    const responses = await Promise.all(Array.from({ length: 1000 }, () => get('/img/acme/cold?w=640&fmt=webp')));
    assert.equal(twin.edge.stats.originRequests - before, 1);
    assert.ok(responses.every((r) => r.status === 200 && r.body.equals(responses[0]!.body)));
    assert.equal(responses.filter((r) => r.xcache === 'Miss from cloudfront').length, 1);
  });

  it('fails over to the replica when the primary answers 503', async () => {
    await twin.regions.fault(PRIMARY, '503');
    try {
      const failoversBefore = twin.edge.stats.failovers;
      const response = await get('/img/acme/failover?w=320&fmt=webp');
      assert.equal(response.status, 200);
      assert.equal((await sharp(response.body).metadata()).format, 'webp');
      assert.equal(twin.edge.stats.failovers - failoversBefore, 1);
    } finally {
      await twin.regions.fault(PRIMARY, 'off');
    }
  });

  it("answers the secondary origin's own 503 when both regions are down and nothing is cached", async () => {
    await twin.regions.fault(PRIMARY, '503');
    await twin.regions.fault(FAILOVER, '503');
    try {
      const response = await get('/img/acme/failover?w=640&fmt=jpeg');
      assert.equal(response.status, 503);
      assert.match(response.body.toString(), /<Code>ServiceUnavailable<\/Code>/);
    } finally {
      await twin.regions.fault(PRIMARY, 'off');
      await twin.regions.fault(FAILOVER, 'off');
    }
  });

  it('serves stale while revalidating, then within stale-if-error when the origin fails', async () => {
    const url = '/img/brief/stale?w=320&fmt=webp';
    const first = await get(url);
    assert.equal(first.headers.get('cache-control'), 'public, max-age=5, stale-while-revalidate=5, stale-if-error=86400');
    now += 7_000; // past max-age, within stale-while-revalidate
    assert.equal((await get(url)).xcache, 'RefreshHit from cloudfront');

    await twin.regions.fault(PRIMARY, '503');
    await twin.regions.fault(FAILOVER, '503');
    try {
      now += 60_000; // past stale-while-revalidate, within stale-if-error
      const stale = await get(url);
      assert.equal(stale.status, 200);
      assert.equal(stale.xcache, 'RefreshHit from cloudfront');
      assert.deepEqual(stale.body, first.body);
      now += 86_400_000; // past stale-if-error
      assert.equal((await get(url)).status, 503);
    } finally {
      await twin.regions.fault(PRIMARY, 'off');
      await twin.regions.fault(FAILOVER, 'off');
      now = Date.now();
    }
  });

  it('revalidates an expired object with its ETag: 304 makes a RefreshHit', async () => {
    const url = '/img/brief/stale?w=100&fmt=jpeg';
    await get(url); // rendered and stored
    now += 1000;
    await get(url); // served from the cache
    now += 60_000; // past stale-while-revalidate: revalidate synchronously against the stored variant
    const revalidated = await get(url);
    assert.equal(revalidated.xcache, 'RefreshHit from cloudfront');
    assert.equal(revalidated.status, 200);
    now = Date.now();
  });
});

describe('what viewers are told', () => {
  /** The headers a response carries, less those that differ from one response to the next. */
  function stable(headers: Headers): Record<string, string> {
    const out: Record<string, string> = {};
    headers.forEach((value, name) => {
      if (!['date', 'connection', 'keep-alive', 'age'].includes(name)) out[name] = value;
    });
    return out;
  }

  it('puts the security headers on every response: hits, misses, errors and what the functions generate', async () => {
    const signed = signWithNewestKey('/img/acme-private/sample?w=320&fmt=webp', 'acme-private', CONFIG.tenants['acme-private']!, new Date(now + 3600_000));
    const cases: [string, string, number, RegExp, (() => void)?][] = [
      ['rendered by the origin function', '/img/acme/sample?w=100&fmt=webp', 200, /^Miss/],
      ['from the cache', '/img/acme/sample?w=100&fmt=webp', 200, /^Hit/],
      // Stored by the first miss; once CloudFront's copy is gone, fetched from S3.
      ['fetched from S3', '/img/acme/sample?w=100&fmt=webp', 200, /^Miss/, () => twin.edge.cache.invalidate('/img/acme/sample*')],
      ['signed, fetched from S3', signed, 200, /^Miss/],
      ['signed, from the cache', signed, 200, /^Hit/],
      ['a 404 of the origin', '/img/acme/nothing?w=100', 404, /^Error/],
      ['a 400 of the viewer function', '/img/acme/sample?w=-1', 400, /^FunctionGeneratedResponse/],
      ['a 403 of the viewer function', '/img/acme-private/sample?w=100', 403, /^FunctionGeneratedResponse/],
    ];
    for (const [what, url, status, xcache, before] of cases) {
      before?.();
      const rendersBefore = twin.edge.stats.originRenders;
      const response = await get(url);
      if (what === 'fetched from S3') assert.equal(twin.edge.stats.originRenders, rendersBefore, 'not rendered again');
      assert.equal(response.status, status, what);
      assert.match(response.xcache ?? '', xcache, what);
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) assert.equal(response.headers.get(name), value, `${name}: ${what}`);
    }
  });

  it("tells a private tenant's viewers that no shared cache may keep a response, while CloudFront caches it", async () => {
    const url = signWithNewestKey('/img/acme-private/cold?w=640&fmt=jpeg', 'acme-private', CONFIG.tenants['acme-private']!, new Date(now + 3600_000));
    const first = await get(url);
    const second = await get(url);
    assert.deepEqual([first.status, first.xcache, second.xcache], [200, 'Miss from cloudfront', 'Hit from cloudfront']);
    for (const response of [first, second]) assert.equal(response.headers.get('cache-control'), PRIVATE_CACHE_CONTROL);
    // An open tenant's viewers may share theirs.
    assert.match((await get('/img/acme/cold?w=640&fmt=jpeg')).headers.get('cache-control') ?? '', /^public/);
  });

  it('answers an unknown tenant, a missing image and another tenant\'s image alike', async () => {
    await publishDirectly(twin.s3Client, { tenant: 'no-avif', imageId: 'theirs' }, await sampleImage(300, 200));
    const answers = [];
    for (const url of ['/img/acme/not-there?w=320', '/img/nobody/sample?w=320', '/img/acme/theirs?w=320', '/img/someone-else/x', '/img/nobody/sample?w=320']) {
      const response = await get(url);
      answers.push({ status: response.status, headers: stable(response.headers), body: response.body.toString() });
    }
    assert.equal(answers[0]!.status, 404);
    assert.deepEqual(JSON.parse(answers[0]!.body), { code: 'NotFound', message: 'No such image.' });
    for (const answer of answers.slice(1)) assert.deepEqual(answer, answers[0]);
  });
});

describe('the local CloudFront invalidation API', () => {
  it('purges through @aws-sdk/client-cloudfront when the invalidation completes, not before', async () => {
    const url = '/img/acme/purge?w=320';
    await get(url);
    assert.equal((await get(url)).xcache, 'Hit from cloudfront');
    const created = await cloudfront.send(
      new CreateInvalidationCommand({
        DistributionId: LOCAL_DISTRIBUTION_ID,
        InvalidationBatch: { CallerReference: 'purge-1', Paths: { Quantity: 1, Items: ['/img/acme/purge*'] } },
      }),
    );
    assert.equal(created.Invalidation?.Status, 'InProgress');
    // CloudFront promises the purge only once the invalidation completes: until then the copy may still be served.
    assert.equal((await get(url)).xcache, 'Hit from cloudfront');

    const again = await cloudfront.send(
      new CreateInvalidationCommand({
        DistributionId: LOCAL_DISTRIBUTION_ID,
        InvalidationBatch: { CallerReference: 'purge-1', Paths: { Quantity: 1, Items: ['/img/acme/purge*'] } },
      }),
    );
    assert.equal(again.Invalidation?.Id, created.Invalidation?.Id, 'a repeated CallerReference is the same invalidation');
    await assert.rejects(
      cloudfront.send(new CreateInvalidationCommand({ DistributionId: LOCAL_DISTRIBUTION_ID, InvalidationBatch: { CallerReference: 'purge-1', Paths: { Quantity: 1, Items: ['/other*'] } } })),
      { name: 'InvalidationBatchAlreadyExists' },
    );

    await completeInvalidations();
    const done = await cloudfront.send(new GetInvalidationCommand({ DistributionId: LOCAL_DISTRIBUTION_ID, Id: created.Invalidation!.Id! }));
    assert.equal(done.Invalidation?.Status, 'Completed');
    assert.equal((await get(url)).xcache, 'Miss from cloudfront');
    const listed = await cloudfront.send(new ListInvalidationsCommand({ DistributionId: LOCAL_DISTRIBUTION_ID }));
    assert.ok(listed.InvalidationList?.Items?.some((i) => i.Id === created.Invalidation!.Id && i.Status === 'Completed'));
  });

  it('holds the in-progress quotas: 15 wildcard paths and 3,000 file paths', async () => {
    // Whatever an earlier test left in progress would hold some of the quotas.
    await completeInvalidations();
    const create = (reference: string, paths: string[]) =>
      cloudfront.send(new CreateInvalidationCommand({ DistributionId: LOCAL_DISTRIBUTION_ID, InvalidationBatch: { CallerReference: reference, Paths: { Quantity: paths.length, Items: paths } } }));
    for (let i = 0; i < 15; i++) await create(`wild-${i}`, [`/img/acme/w${i}*`]);
    await assert.rejects(create('wild-15', ['/img/acme/w15*']), { name: 'TooManyInvalidationsInProgress' });
    const files = Array.from({ length: 3000 }, (_, i) => `/img/acme/f${i}`);
    await create('files-a', files);
    await assert.rejects(create('files-b', ['/img/acme/one-more']), { name: 'TooManyInvalidationsInProgress' });
    assert.equal(twin.invalidations.stats.peakWildcardPaths, 15);
    assert.equal(twin.invalidations.stats.peakFilePaths, 3000);

    await completeInvalidations();
    await create('wild-15', ['/img/acme/w15*']); // accepted once the others complete
  });
});
