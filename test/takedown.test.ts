import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { Duration } from 'aws-cdk-lib';
import sharp from 'sharp';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { CloudFrontClient, CreateInvalidationCommand } from '@aws-sdk/client-cloudfront';
import { formatImagePath } from '../core/image-path.ts';
import { parseConfig, standardVariants } from '../core/tenant-config.ts';
import { variantQuery } from '../core/variant.ts';
import { signWithNewestKey } from '../signer/sign-url.ts';
import { sampleImage } from '../local/sample-image.ts';
import { BUCKETS } from '../local/topology.ts';
import { LOCAL_DISTRIBUTION_ID, type Twin } from '../local/twin.ts';
import { edge, keys, published, settle, upload, versionsUnder, requester } from './support/pipeline-twin.ts';
import { useTwin } from './support/twin-fixture.ts';

const SECRET = 'a-signing-secret-of-at-least-32-bytes!!';
const CONFIG = parseConfig({
  tenants: {
    shop: { breakpoints: [160, 320], formats: ['webp'], variants: { widths: [160, 320] } },
    vault: { breakpoints: [160, 320], formats: ['webp'], variants: { widths: [160] }, signing: { required: true, keys: { k1: SECRET } } },
  },
});
const IMAGES = [
  ...Array.from({ length: 46 }, (_, i) => ({ tenant: 'shop', imageId: `p${String(i).padStart(2, '0')}` })),
  ...Array.from({ length: 4 }, (_, i) => ({ tenant: 'vault', imageId: `secret-${i}` })),
];
/** Images a viewer asked for during a failover, which the edge rendered into the failover origin's bucket. */
const RENDERED_IN_FAILOVER = [IMAGES[5]!, IMAGES[47]!];
/** A variant outside the standard set: only the edge renders it. */
const LONG_TAIL = 'w=320&h=160&fmt=webp';
/** Made to fail once, after doing their work, as a Lambda that times out would. */
const FAIL_ONCE = { 'invalidate-image': 'shop/p07', 'erase-objects': 'shop/p31' } as const;

let twin: Twin;
const injected: string[] = [];
let othersHeld = false;
let stuckPolls = 0;
/** The twin's clock: the 15 s invalidation poll takes 45 ms. */
const TIME_SCALE = 0.003;
const WAIT_MS = 15_000 * TIME_SCALE;

/** An image that shares its id's start with one taken down (`p00`), and must keep its cache. */
const NEIGHBOUR = { tenant: 'shop', imageId: 'p001' };

/**
 * Someone else's invalidation takes all 15 wildcard paths and all but 12 of the
 * 3,000 file paths the moment the first image asks for one, so the batches meet
 * both quotas whatever the machine's speed.
 */
async function holdTheQuotas(): Promise<void> {
  const cloudfront = new CloudFrontClient({ region: 'us-east-1', endpoint: twin.controlUrl });
  const others = [...Array.from({ length: 15 }, (_, i) => `/img/other/o${i}*`), ...Array.from({ length: 2988 }, (_, i) => `/img/other/f${i}`)];
  await cloudfront.send(new CreateInvalidationCommand({ DistributionId: LOCAL_DISTRIBUTION_ID, InvalidationBatch: { CallerReference: 'someone-else', Paths: { Quantity: others.length, Items: others } } }));
  cloudfront.destroy();
}


/** Runs `during` with the primary region's S3 answering 503, as in a regional outage, and ends the outage after. */
async function inPrimaryOutage<T>(during: () => Promise<T>): Promise<T> {
  await twin.regions.fault(BUCKETS.variants.region, '503');
  try {
    return await during();
  } finally {
    await twin.regions.fault(BUCKETS.variants.region, 'off');
  }
}

function url(image: { tenant: string; imageId: string; signed?: boolean }, path: string): string {
  const tenant = CONFIG.tenants[image.tenant]!;
  return tenant.signing.required && image.signed !== false ? signWithNewestKey(path, image.tenant, tenant, new Date(Date.now() + 3600_000)) : path;
}

/** Every URL a viewer could have cached for the image: each standard variant, versioned and not, and the bare URLs (signed where the tenant requires it, unless `signed` is false). */
function derivativeUrls(image: { tenant: string; imageId: string; signed?: boolean }): string[] {
  const specs = standardVariants(CONFIG.tenants[image.tenant]!);
  const paths = [formatImagePath(image), formatImagePath({ tenant: image.tenant, imageId: image.imageId, version: 1 })];
  return paths.flatMap((p) => [p, ...specs.map((s) => `${p}?${variantQuery(s)}`)]).map((p) => url(image, p));
}

const fixture = useTwin({
  config: CONFIG,
  // TooManyInvalidationsInProgress's backoff, 5 s doubling to a 60 s cap, becomes 15 ms to 180 ms (full jitter):
  // its 20 retries outlast the busiest moment below.
  timeScale: TIME_SCALE,
  // This file counts executions per event; test/at-least-once.test.ts delivers every event twice.
  eventBus: { duplicateRate: 0 },
  // One invalidation never completes; someone else's holds the quotas for 3 s.
  invalidationDelayMs: (paths) => (paths.some((p) => p.includes('/stuck')) ? Infinity : paths.some((p) => p.startsWith('/img/other/')) ? 3000 : 400),
  invalidationDeadline: Duration.seconds(3),
  instrument: (task, fn) => async (payload) => {
    if (task === 'check-invalidation' && JSON.stringify(payload).includes('/stuck')) stuckPolls++;
    if (task === 'invalidate-image' && !othersHeld) {
      othersHeld = true;
      await holdTheQuotas();
    }
    const result = await fn(payload);
    const item = (payload as { input?: { item?: { tenant: string; imageId: string } } }).input?.item;
    const target = FAIL_ONCE[task as keyof typeof FAIL_ONCE];
    if (item && target === `${item.tenant}/${item.imageId}` && !injected.includes(task)) {
      injected.push(task);
      throw Object.assign(new Error(`${task} lost its answer (injected)`), { name: 'OriginUnavailable' });
    }
    return result;
  },
});

before(async () => {
  twin = await fixture.started;
  for (const image of [...IMAGES, NEIGHBOUR]) await upload(twin, `${image.tenant}/${image.imageId}`, await sampleImage(400, 300));
  await settle(twin);
});

describe('TakedownBatch on the twin', () => {
  it('takes down 50 images in two concurrent batches: erased everywhere, 404 at the edge, audited, within the quota', async () => {
    // Before: every derivative is cached at the edge.
    for (const image of [...IMAGES, NEIGHBOUR]) {
      for (const u of derivativeUrls(image)) {
        await edge(twin, u);
        const again = await edge(twin, u);
        assert.equal(again.status, 200, u);
        assert.match(again.xcache ?? '', /^Hit/, u);
      }
    }
    assert.ok((await keys(twin, BUCKETS.replica.bucket, 'shop/')).length >= 46, 'the replica holds the originals');
    assert.ok((await keys(twin, BUCKETS.failoverVariants.bucket, 'shop/')).length >= 46, 'the failover origin holds the published variants');
    // During an outage of the primary region, the edge fails over and renders a long-tail variant into the failover bucket.
    const failoversBefore = twin.edge.stats.failovers;
    await inPrimaryOutage(async () => {
      for (const image of RENDERED_IN_FAILOVER) assert.equal((await edge(twin, url(image, `${formatImagePath(image)}?${LONG_TAIL}`))).status, 200, `${image.imageId} through the failover origin`);
    });
    assert.ok(twin.edge.stats.failovers > failoversBefore, 'the edge failed over');
    const renderedInFailover = new Map<string, string[]>();
    for (const image of RENDERED_IN_FAILOVER) {
      const rendered = await keys(twin, BUCKETS.failoverVariants.bucket, `${image.tenant}/${image.imageId}/latest/`);
      assert.equal(rendered.length, 1, `the edge stored ${image.imageId}'s render in the failover bucket`);
      renderedInFailover.set(`${image.tenant}/${image.imageId}`, rendered);
    }

    const items = IMAGES.map((image, i) => ({ ...image, reason: i % 2 ? ('gdpr' as const) : ('dmca' as const), requester: `legal-${i % 3}@example.com` }));
    const clientConfig = { region: 'us-east-1', endpoint: twin.controlUrl };
    // One batch arrives as an event through the rule, the other straight from an operator.
    const { events, bus } = await requester(twin, 'takedown');
    const put = await events.send(new PutEventsCommand({ Entries: [{ EventBusName: bus, Source: 'pictor', DetailType: 'Takedown Requested', Detail: JSON.stringify({ schemaVersion: 1, items: items.slice(0, 25) }) }] }));
    assert.equal(put.FailedEntryCount, 0, JSON.stringify(put.Entries));
    const sfn = new SFNClient(clientConfig);
    await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: twin.pipeline!.stateMachines.TakedownBatch,
        name: 'operator-batch',
        input: JSON.stringify({ batchId: 'operator-batch', detail: { schemaVersion: 1, items: items.slice(25) } }),
      }),
    );
    events.destroy();
    sfn.destroy();
    await settle(twin);

    const runs = twin.pipeline!.stepFunctions.list(twin.pipeline!.stateMachines.TakedownBatch);
    assert.equal(runs.length, 2);
    for (const run of runs) assert.equal(run.status, 'SUCCEEDED', `${run.error}: ${run.cause}`);
    assert.deepEqual(injected.sort(), ['erase-objects', 'invalidate-image'], 'both injected failures happened');

    // Gone from the originals, the replica, the snapshots and the variants: every version and delete marker.
    await twin.replication.settled();
    const mine = (key: string) => !key.includes(`/${NEIGHBOUR.imageId}`);
    for (const bucket of [BUCKETS.originals.bucket, BUCKETS.replica.bucket]) {
      for (const prefix of ['shop/', 'vault/', '_versions/', '_quarantine/']) assert.deepEqual((await versionsUnder(twin, bucket, prefix)).filter(mine), [], `${bucket}/${prefix}`);
    }
    for (const bucket of [BUCKETS.variants.bucket, BUCKETS.failoverVariants.bucket]) assert.deepEqual((await keys(twin, bucket, '')).filter(mine), [], bucket);
    // The neighbour whose id starts the same keeps its objects and its cache: no wildcard reached it.
    assert.ok((await keys(twin, BUCKETS.originals.bucket, `shop/${NEIGHBOUR.imageId}`)).length > 0);
    // (A RefreshHit is cached too: an unversioned entry whose 60 s passed on a slow run is revalidated, not purged.)
    for (const u of derivativeUrls(NEIGHBOUR)) assert.match((await edge(twin, u)).xcache ?? '', /^(Hit|RefreshHit)/, `${u} is still cached`);

    // Every URL that was a Hit is now a 404.
    for (const image of IMAGES) for (const u of derivativeUrls(image)) assert.equal((await edge(twin, u)).status, 404, u);
    // And no bytes come through the failover origin either, once nothing is cached.
    twin.edge.cache.invalidate('/img/*');
    const failoversAfter = twin.edge.stats.failovers;
    await inPrimaryOutage(async () => {
      for (const image of IMAGES) {
        for (const u of [...derivativeUrls(image), url(image, `${formatImagePath(image)}?${LONG_TAIL}`)]) {
          const status = (await edge(twin, u)).status;
          assert.ok(status === 404 || status === 403, `${u} answers ${status} through the failover origin`);
        }
      }
    });
    assert.ok(twin.edge.stats.failovers > failoversAfter, 'the requests reached the failover origin');

    // One audit record per image, naming who, why, what and the invalidation.
    const records = await keys(twin, BUCKETS.audit.bucket, 'takedowns/');
    assert.equal(records.length, 50);
    const invalidationIds = new Set<string>();
    for (const [i, image] of IMAGES.entries()) {
      const key = records.find((k) => k.startsWith(`takedowns/${image.tenant}/${image.imageId}/`));
      assert.ok(key, `audit record for ${image.imageId}`);
      const object = await twin.s3Client.send(new GetObjectCommand({ Bucket: BUCKETS.audit.bucket, Key: key }));
      const record = JSON.parse(await object.Body!.transformToString());
      assert.equal(record.requester, items[i]!.requester);
      assert.equal(record.legalBasis, items[i]!.reason);
      const deleted = record.deleted.map((d: { bucket: string; key: string }) => `${d.bucket}/${d.key}`);
      const upload = `${image.tenant}/${image.imageId}`;
      for (const expected of [`${BUCKETS.originals.bucket}/${upload}`, `${BUCKETS.replica.bucket}/${upload}`, `${BUCKETS.originals.bucket}/_versions/${upload}/v1`]) {
        assert.ok(deleted.includes(expected), `${key} names ${expected}`);
      }
      for (const bucket of [BUCKETS.variants.bucket, BUCKETS.failoverVariants.bucket]) {
        const variants = deleted.filter((d: string) => d.startsWith(`${bucket}/${upload}/v1/`));
        assert.ok(variants.length >= standardVariants(CONFIG.tenants[image.tenant]!).length, `${key} names the variants in ${bucket}`);
      }
      for (const rendered of renderedInFailover.get(upload) ?? []) {
        assert.ok(deleted.includes(`${BUCKETS.failoverVariants.bucket}/${rendered}`), `${key} names the failover render ${rendered}`);
      }
      // Exact paths, each of the image's cached URLs, and no wildcard that would reach a neighbour.
      assert.equal(record.invalidation.wildcard, false);
      for (const u of derivativeUrls({ ...image, signed: false })) assert.ok(record.invalidation.paths.includes(u), `${key} invalidates ${u}`);
      assert.ok(record.invalidation.paths.every((p: string) => !p.includes('*')));
      assert.equal(record.verification.verified, true);
      assert.ok(Date.parse(record.requestedAt) <= Date.parse(record.erasedAt) && Date.parse(record.erasedAt) <= Date.parse(record.recordedAt));
      assert.doesNotMatch(JSON.stringify(record), /"(body|bytes|data)"/, 'no image bytes');
      invalidationIds.add(record.invalidation.id);
    }

    // The quotas held, throttling happened and was waited out, and no invalidation was made twice.
    const stats = twin.invalidations.stats;
    assert.ok(stats.peakWildcardPaths <= 15, `peak ${stats.peakWildcardPaths} wildcard paths in progress`);
    assert.ok(stats.peakFilePaths <= 3000, `peak ${stats.peakFilePaths} file paths in progress`);
    assert.ok(stats.throttled > 0, 'the batches met the 3,000-path quota');
    assert.equal(stats.created, 51, "one invalidation per image, even after a retry, plus someone else's");
    assert.equal(invalidationIds.size, 50);

    // Each batch announced its end once, pointing at a report that lists every image, taken down.
    const completed = [...new Map(published(twin, 'Takedown Completed').map((e) => [(e.detail as { batchId: string }).batchId, e])).values()];
    assert.equal(completed.length, 2);
    let reported = 0;
    for (const event of completed) {
      const detail = event.detail as { takenDown: number; incomplete: number; report: { bucket: string; key: string } };
      assert.equal(detail.incomplete, 0);
      const report = JSON.parse(await (await twin.s3Client.send(new GetObjectCommand({ Bucket: detail.report.bucket, Key: detail.report.key }))).Body!.transformToString());
      assert.equal(report.images.length, detail.takenDown);
      for (const image of report.images) assert.equal(image.status, 'taken-down', JSON.stringify(image));
      reported += report.images.length;
    }
    assert.equal(reported, 50);
  });

  it('keeps a taken-down image down at every URL when it is uploaded again, with the same bytes or others', async () => {
    const image = IMAGES[0]!;
    const key = `${image.tenant}/${image.imageId}`;
    const rendersBefore = twin.pipeline!.stepFunctions.list(twin.pipeline!.stateMachines.RenderOnUpload).length;
    await upload(twin, key, await sampleImage(400, 300));
    await settle(twin);
    await upload(twin, key, await sharp(await sampleImage(400, 300)).negate().jpeg().toBuffer());
    await settle(twin);
    const renders = twin.pipeline!.stepFunctions.list(twin.pipeline!.stateMachines.RenderOnUpload).slice(0, -rendersBefore || undefined);
    assert.equal(renders.length, 2);
    for (const render of renders) {
      assert.equal(render.status, 'SUCCEEDED', `${render.error}: ${render.cause}`);
      assert.equal((render.output as { outcome: string }).outcome, 'discarded');
    }
    // No bytes of it anywhere, no URL of it served: versioned or not, any variant, at once and once caches expire.
    for (const bucket of [BUCKETS.originals.bucket, BUCKETS.replica.bucket, BUCKETS.variants.bucket, BUCKETS.failoverVariants.bucket]) {
      const left = (await keys(twin, bucket, '')).filter((k) => k.split('/').includes(image.imageId));
      assert.deepEqual(left, [], bucket);
    }
    twin.edge.cache.invalidate('/img/*');
    for (const u of [...derivativeUrls(image), url(image, `${formatImagePath({ ...image, version: 2 })}?fmt=webp&q=75&w=160`), url(image, `${formatImagePath(image)}?fmt=webp&w=99999`)]) {
      assert.equal((await edge(twin, u)).status, 404, u);
    }
    const discarded = published(twin, 'Upload Discarded').filter((e) => (e.detail as { imageId: string }).imageId === image.imageId);
    assert.equal(discarded.length, 2);
    assert.match((discarded[0]!.detail as { reason: string }).reason, /was taken down at/);
  });

  it('fails an image whose invalidation never completes by its deadline, and says so in its audit record and the batch', async () => {
    await upload(twin, 'shop/stuck', await sampleImage(400, 300));
    await settle(twin);
    const run = twin.pipeline!.stepFunctions.start(twin.pipeline!.stateMachines.TakedownBatch, {
      batchId: 'stuck-batch',
      detail: { schemaVersion: 1, items: [{ tenant: 'shop', imageId: 'stuck', reason: 'dmca', requester: 'legal@example.com' }] },
    });
    await run.done;
    assert.equal(run.status, 'FAILED');
    assert.equal(run.error, 'TakedownIncomplete');
    assert.match(run.cause ?? '', /shop\/stuck: InvalidationTimedOut/);
    const record = JSON.parse(await (await twin.s3Client.send(new GetObjectCommand({ Bucket: BUCKETS.audit.bucket, Key: 'takedowns/shop/stuck/stuck-batch.json' }))).Body!.transformToString());
    assert.equal(record.failure.error, 'InvalidationTimedOut');
    assert.match(record.failure.cause, /still InProgress after \d+ s .* the deadline is 3 s/);
    assert.equal(record.verification.verified, false);
    assert.ok(record.deleted.length > 0, 'its objects were erased all the same');
    // Polls stop at the deadline: a handful, not an unbounded loop.
    assert.ok(stuckPolls > 0 && stuckPolls < 3000 / WAIT_MS + 20, `${stuckPolls} polls`);
  });

  it('rejects a request with an empty image id, which would name a whole tenant', async () => {
    const run = twin.pipeline!.stepFunctions.start(twin.pipeline!.stateMachines.TakedownBatch, { batchId: 'empty', detail: { schemaVersion: 1, items: [{ tenant: 'shop', imageId: '', reason: 'dmca', requester: 'x' }] } });
    await run.done;
    assert.equal(run.status, 'FAILED');
    assert.equal(run.error, 'InvalidEvent');
  });

  it('rejects a malformed request before deleting anything', async () => {
    const run = twin.pipeline!.stepFunctions.start(twin.pipeline!.stateMachines.TakedownBatch, { batchId: 'bad', detail: { schemaVersion: 1, items: [{ tenant: 'shop', imageId: 'p01', reason: 'because', requester: 'x' }] } });
    await run.done;
    assert.equal(run.status, 'FAILED');
    assert.equal(run.error, 'InvalidEvent');
    assert.match(run.cause ?? '', /reason/);
  });
});
