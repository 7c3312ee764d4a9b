import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { before, describe, it } from 'node:test';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { PUBLISHED_VERSION_METADATA, publishedKey, snapshotKey } from '../core/object-keys.ts';
import { parseConfig } from '../core/tenant-config.ts';
import { sampleImage } from '../local/sample-image.ts';
import type { FaultMode } from '../local/regions.ts';
import { BUCKETS } from '../local/topology.ts';
import type { Twin } from '../local/twin.ts';
import { dHash, hammingDistance } from './support/images.ts';
import { edge, keys, upload } from './support/pipeline-twin.ts';
import { useTwin } from './support/twin-fixture.ts';

/**
 * Publishing while Cross-Region Replication lags. The failover origin's edge
 * reads the replica of the originals, which S3 fills seconds (up to 15 minutes)
 * after the primary: a publish must neither leave there what the edge rendered
 * from the replica's older pointer, nor point a replica at a snapshot it does not
 * have yet. The twin replicates each original 1.5 s late here, and the primary
 * region fails only between two task attempts, so that only the edge sees it.
 */
const QUALITIES = [30, 35, 40, 45, 50, 55, 60, 65, 70, 75, 80, 85, 90];
const CONFIG = parseConfig({ tenants: { shop: { breakpoints: [160, 320, 640], formats: ['webp', 'jpeg'], qualities: QUALITIES, variants: { widths: [320], formats: ['webp'] } } } });
const REPLICATION_DELAY_MS = 1500;
const PRIMARY = BUCKETS.variants.region;
const FAILOVER = BUCKETS.failoverVariants.region;

let twin: Twin;

/** Task attempts running now, and a gate that holds new ones while a test works between attempts. */
let running = 0;
let gate: Promise<void> | undefined;
/** Every task attempt: which, for which image, when, and the error it ended with. */
const attempts: { task: string; imageId: string; started: number; ended: number; error?: string }[] = [];
/** Called as an attempt fails, before Step Functions sees the error. */
let onFailure: ((task: string, imageId: string, error: Error) => Promise<void>) | undefined;
/** Every write of a published pointer, and whether any snapshot of its image was still on its way to the replica then. */
const pointerWrites: { key: string; at: number; snapshotsPending: string[] }[] = [];

const fixture = useTwin({
  config: CONFIG,
  replicationDelayMs: REPLICATION_DELAY_MS,
  // ReplicationPending's backoff, 5 s doubling to a 60 s cap, becomes 40 ms to 480 ms (full jitter):
  // its attempts outlast every wait below several times over, as 200 ms apart did.
  timeScale: 0.008,
  instrument: (task, fn) => async (payload) => {
    while (gate) await gate;
    running++;
    const input = (payload as { input?: { imageId?: string; detail?: { object?: { key?: string } } } }).input;
    const imageId = input?.imageId ?? input?.detail?.object?.key?.split('/')[1] ?? '';
    const attempt: (typeof attempts)[number] = { task, imageId, started: Date.now(), ended: 0 };
    attempts.push(attempt);
    try {
      return await fn(payload);
    } catch (error) {
      attempt.error = (error as Error).name;
      await onFailure?.(task, imageId, error as Error);
      throw error;
    } finally {
      attempt.ended = Date.now();
      running--;
    }
  },
});

before(async () => {
  twin = await fixture.started;
  twin.s3.server.on('event', (event) => {
    for (const record of event.Records) {
      const key = decodeURIComponent(record.s3.object.key);
      if (record.s3.bucket.name !== BUCKETS.originals.bucket || !key.startsWith('_published/') || !record.eventName.startsWith('ObjectCreated')) continue;
      const [, tenant, imageId] = key.split('/');
      const snapshots = [1, 2, 3].map((v) => snapshotKey({ tenant: tenant!, imageId: imageId! }, v));
      pointerWrites.push({ key, at: Date.now(), snapshotsPending: snapshots.filter((s) => twin.s3.replicationStatus?.(BUCKETS.originals.bucket, s) === 'PENDING') });
    }
  });
});

/** Runs `work` while no task attempt runs and none starts, as an outage that begins and ends between two attempts. */
async function betweenAttempts<T>(work: () => Promise<T>): Promise<T> {
  while (gate || running > 0) await sleep(5);
  let open!: () => void;
  gate = new Promise((resolve) => (open = resolve));
  try {
    return await work();
  } finally {
    gate = undefined;
    open();
  }
}

/** Asks the edge with CloudFront's cache empty and the primary region's S3 answering 503: every answer comes through the failover origin. */
function throughFailover(paths: readonly string[]) {
  return betweenAttempts(async () => {
    twin.edge.cache.invalidate('/img/*');
    const failovers = twin.edge.stats.failovers;
    await twin.regions.fault(PRIMARY, '503');
    try {
      const answers = await Promise.all(paths.map((path) => edge(twin, path)));
      assert.equal(twin.edge.stats.failovers - failovers, paths.length, 'each request failed over');
      return answers;
    } finally {
      await twin.regions.fault(PRIMARY, 'off');
    }
  });
}

/** The version the image's published pointer names in a bucket of originals, if any. */
async function pointerIn(bucket: string, imageId: string): Promise<string | undefined> {
  const head = await twin.s3Client.send(new HeadObjectCommand({ Bucket: bucket, Key: publishedKey({ tenant: 'shop', imageId }) })).catch(() => undefined);
  return head?.Metadata?.[PUBLISHED_VERSION_METADATA];
}

/** The image's RenderOnUpload runs, oldest first. */
function runsOf(imageId: string) {
  return twin.pipeline!.stepFunctions
    .list(twin.pipeline!.stateMachines.RenderOnUpload)
    .filter((e) => JSON.stringify(e.input).includes(`"shop/${imageId}"`))
    .sort((a, b) => a.startDate.getTime() - b.startDate.getTime());
}

async function waitForRun(imageId: string, count: number) {
  for (const deadline = Date.now() + 10_000; runsOf(imageId).length < count; await sleep(10)) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for run ${count} of ${imageId}.`);
  }
  return runsOf(imageId)[count - 1]!;
}

function publishAttempts(imageId: string) {
  return attempts.filter((a) => a.task === 'publish-version' && a.imageId === imageId);
}

describe('publishing while replication lags', () => {
  it('serves the new version through the failover origin once published, never what the edge rendered from a replica that lagged', async () => {
    const v1 = await sampleImage(800, 600);
    const v2 = await sharp(v1).negate().jpeg().toBuffer();
    // Long-tail unversioned variants: the edge renders them into `latest/`. The first is there before v2 is uploaded.
    const rendered = '/img/shop/lag?w=640&h=320&fmt=jpeg';
    const renderedLater = '/img/shop/lag?w=320&h=160&fmt=jpeg';
    await upload(twin, 'shop/lag', v1);
    await twin.settled();
    const [first] = await throughFailover([rendered]);
    assert.equal(first!.status, 200);
    assert.equal((await keys(twin, BUCKETS.failoverVariants.bucket, 'shop/lag/latest/')).length, 1, 'the failover origin stored its render of version 1');

    await upload(twin, 'shop/lag', v2);
    const run = await waitForRun('lag', 2);
    let inTheWindow = 0;
    let versionedAfterSuccess = 0;
    for (let i = 0, deadline = Date.now() + 30_000; ; i++) {
      assert.ok(Date.now() < deadline, `still waiting for the run (${run.status}) and for the replica to have version 2`);
      const succeeded = run.status === 'SUCCEEDED';
      const primaryBefore = await pointerIn(BUCKETS.originals.bucket, 'lag');
      // A versioned long-tail variant never asked before, so that it renders from the replica's snapshot.
      const versioned = `/img/shop/lag/v2?w=640&h=320&fmt=webp&q=${QUALITIES[i % QUALITIES.length]}`;
      const answers = await throughFailover(succeeded ? [rendered, renderedLater, versioned] : [rendered, renderedLater]);
      const replicaAfter = await pointerIn(BUCKETS.replica.bucket, 'lag');
      // The dangerous moment: the primary points at version 2, the failover origin's copy still at version 1.
      if (primaryBefore === '2' && replicaAfter === '1') inTheWindow++;
      assert.deepEqual(answers.slice(0, 2).map((a) => a.status), [200, 200], 'an unversioned URL through the failover origin');
      if (succeeded) {
        versionedAfterSuccess++;
        assert.equal(answers[2]!.status, 200, `${versioned} through the failover origin once the upload's run has succeeded`);
      }
      if (run.status !== 'RUNNING' && replicaAfter === '2' && versionedAfterSuccess > 0) break;
      await sleep(50);
    }
    assert.equal(run.status, 'SUCCEEDED', `${run.error}: ${run.cause}`);
    await twin.settled();

    const [after, afterLater, reference, referenceLater] = [
      ...(await throughFailover([rendered, renderedLater])),
      ...(await Promise.all(['/img/shop/lag/v2?w=640&h=320&fmt=jpeg', '/img/shop/lag/v2?w=320&h=160&fmt=jpeg'].map((path) => edge(twin, path)))),
    ];
    assert.deepEqual([after, afterLater, reference, referenceLater].map((a) => a!.status), [200, 200, 200, 200]);
    assert.ok(hammingDistance(await dHash(after!.body), await dHash(first!.body)) >= 30, 'the failover origin no longer serves version 1');
    assert.ok(hammingDistance(await dHash(after!.body), await dHash(reference!.body)) <= 2, 'it serves version 2');
    assert.ok(hammingDistance(await dHash(afterLater!.body), await dHash(referenceLater!.body)) <= 2, 'and so does the variant first rendered while the replica lagged');

    assert.ok(inTheWindow > 0, 'the failover origin was asked while the replica still had the older pointer');
    assert.deepEqual(pointerWrites.filter((w) => w.key === publishedKey({ tenant: 'shop', imageId: 'lag' })).flatMap((w) => w.snapshotsPending), [], 'no pointer was written before its snapshot reached the replica');
    assert.ok(publishAttempts('lag').some((a) => a.error === 'ReplicationPending'), 'publishing waited for replication');
  });

  const OUTAGE: FaultMode = 'hang';
  it(`waits for replication while the replica region's S3 is ${OUTAGE === 'hang' ? 'hanging' : 'down'}, and publishes once it is back`, async () => {
    const v1 = await sampleImage(640, 480);
    await upload(twin, 'shop/outage', v1);
    await twin.settled();

    const outage = { from: 0, to: 0 };
    let recovered: Promise<void> | undefined;
    // Once the first attempt has promoted the version (its copies into the failover region's bucket included)
    // and waits for the snapshot's replication, the replica's region fails for a while. An outage that begins
    // earlier fails those copies instead: they are retried as OriginUnavailable, about a minute on AWS, and the
    // run ends FAILED past that, for `pictor retry`.
    onFailure = async (task, imageId, error) => {
      if (task !== 'publish-version' || imageId !== 'outage' || error.name !== 'ReplicationPending' || outage.from) return;
      await twin.regions.fault(FAILOVER, OUTAGE);
      outage.from = Date.now();
      recovered = sleep(REPLICATION_DELAY_MS + 1000).then(async () => {
        outage.to = Date.now();
        await twin.regions.fault(FAILOVER, 'off');
      });
    };
    try {
      await upload(twin, 'shop/outage', await sharp(v1).negate().jpeg().toBuffer());
      const run = await waitForRun('outage', 2);
      for (const deadline = Date.now() + 30_000; run.status === 'RUNNING'; await sleep(20)) assert.ok(Date.now() < deadline, 'the run ends');
      await recovered;
      assert.equal(run.status, 'SUCCEEDED', `${run.error}: ${run.cause}`);
    } finally {
      onFailure = undefined;
      await twin.regions.fault(FAILOVER, 'off');
    }
    assert.ok(outage.from > 0, 'the replica region failed while publishing waited');

    const during = publishAttempts('outage').filter((a) => a.started >= outage.from && a.started < outage.to);
    assert.ok(during.length >= 3, `${during.length} attempts while the region was down`);
    assert.deepEqual([...new Set(during.map((a) => a.error))], ['ReplicationPending'], 'each attempt during the outage waited for replication, and none reached into the region that was down');
    const writes = pointerWrites.filter((w) => w.key === publishedKey({ tenant: 'shop', imageId: 'outage' }));
    assert.equal(writes.length, 2, 'one pointer write per version');
    assert.ok(writes[1]!.at >= outage.to, 'version 2 was pointed at only once the region was back and the snapshot had reached it');
    assert.deepEqual(writes.flatMap((w) => w.snapshotsPending), []);

    await twin.settled();
    const [failover] = await throughFailover(['/img/shop/outage?w=640&h=320&fmt=jpeg']);
    const reference = await edge(twin, '/img/shop/outage/v2?w=640&h=320&fmt=jpeg');
    assert.ok(hammingDistance(await dHash(failover!.body), await dHash(reference.body)) <= 2, 'the failover origin serves version 2');
  });
});
