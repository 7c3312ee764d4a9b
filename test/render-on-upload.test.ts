import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import sharp from 'sharp';
import { parseConfig, standardVariants } from '../core/tenant-config.ts';
import { variantName } from '../core/variant.ts';
import type { BusEvent } from '../local/event-bus/event-bus.ts';
import { LOCAL_TABLES } from '../local/pipeline/local-pipeline.ts';
import { sampleImage } from '../local/sample-image.ts';
import { BUCKETS } from '../local/topology.ts';
import type { Twin } from '../local/twin.ts';
import { dHash, fixture, fixturesMissing, hammingDistance } from './support/images.ts';
import { edge as edgeGet, keys as keysIn, published as publishedEvents, settle as settleTwin, upload as uploadTo } from './support/pipeline-twin.ts';
import { useTwin } from './support/twin-fixture.ts';

const CONFIG = parseConfig({ tenants: { shop: { breakpoints: [160, 320, 640, 1280] } } });
/** Publishes to hold until a test releases them, by image id: the render is staged by then. */
const held = new Map<string, Promise<void>>();

let twin: Twin;
let versions: DynamoDBDocumentClient;
const renderCalls: unknown[] = [];
/** Images whose first publish does all its work, then fails as if its answer were lost. */
const PUBLISH_FAILS_ONCE = new Set(['retried']);

const twinFixture = useTwin({
  config: CONFIG,
  timeScale: 0.002,
  // This file counts executions per event; test/at-least-once.test.ts delivers every event twice.
  eventBus: { duplicateRate: 0 },
  instrument: (task, fn) => async (payload) => {
    if (task === 'render-variants') renderCalls.push(payload);
    const id = (payload as { input?: { imageId?: string } }).input?.imageId ?? '';
    const gate = task === 'publish-version' ? held.get(id) : undefined;
    if (gate) {
      held.delete(id);
      await gate;
    }
    const result = await fn(payload);
    const imageId = (payload as { input?: { imageId?: string } }).input?.imageId ?? '';
    if (task === 'publish-version' && PUBLISH_FAILS_ONCE.delete(imageId)) {
      throw Object.assign(new Error('publish-version lost its answer (injected)'), { name: 'OriginUnavailable' });
    }
    return result;
  },
});

before(async () => {
  twin = await twinFixture.started;
  versions = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1', endpoint: twin.dynamodb!.endpoint }));
});

after(async () => {
  versions.destroy();
});

function published(detailType: string, imageId: string): BusEvent[] {
  return publishedEvents(twin, detailType).filter((e) => (e.detail as { imageId?: string }).imageId === imageId);
}

async function versionOf(id: string): Promise<Record<string, unknown> | undefined> {
  return (await versions.send(new GetCommand({ TableName: LOCAL_TABLES.versions, Key: { id } }))).Item;
}

const settle = () => settleTwin(twin);
const upload = (key: string, body: Buffer) => uploadTo(twin, key, body);
const keys = (bucket: string, prefix: string) => keysIn(twin, bucket, prefix);
const edge = (path: string) => edgeGet(twin, path);

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  for (const deadline = Date.now() + 10_000; !condition(); ) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting until ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function uploadEvents(key: string): BusEvent[] {
  return twin.pipeline!.bus.events.filter((e) => e['detail-type'] === 'Object Created' && (e.detail as { object: { key: string } }).object.key === key);
}

describe('RenderOnUpload on the twin', () => {
  it('renders every standard variant on upload, and the edge serves them without transforming', async () => {
    await upload('shop/photo', await sampleImage(1600, 1067));
    await settle();
    const record = await versionOf('shop/photo');
    assert.equal(record?.version, 1);
    const expected = standardVariants(CONFIG.tenants.shop!).map((spec) => `shop/photo/v1/${variantName(spec)}`).sort();
    assert.equal(expected.length, 9);
    assert.deepEqual(await keys(BUCKETS.variants.bucket, 'shop/photo/v1/'), expected);
    await twin.s3Client.send(new HeadObjectCommand({ Bucket: BUCKETS.originals.bucket, Key: '_versions/shop/photo/v1' }));
    // Unversioned URLs read the same version, through the published pointer.
    const pointer = await twin.s3Client.send(new HeadObjectCommand({ Bucket: BUCKETS.originals.bucket, Key: '_published/shop/photo' }));
    assert.equal(pointer.Metadata?.['pictor-version'], '1');
    assert.deepEqual(await keys(BUCKETS.variants.bucket, '_staging/'), [], 'nothing is left staged');
    // The failover origin's bucket holds the same published set, so a failover serves it without rendering.
    assert.deepEqual(await keys(BUCKETS.failoverVariants.bucket, 'shop/photo/'), expected, 'the failover bucket holds exactly the standard set');
    assert.deepEqual(await keys(BUCKETS.failoverVariants.bucket, '_staging/'), [], 'nothing is staged in the failover bucket');
    assert.equal(published('Version Bumped', 'photo').length, 1);
    assert.equal((published('Variants Rendered', 'photo')[0]?.detail as { variants: unknown[] }).variants.length, 9);

    const rendersBefore = twin.edge.stats.originRenders;
    // The standard set's classes: avif, webp and legacy (what fmt=auto gives a browser without either).
    for (const query of ['w=320&fmt=avif', 'w=320&fmt=webp', 'w=320', 'w=640&fmt=webp', 'w=1280&fmt=legacy']) {
      const first = await edge(`/img/shop/photo/v1?${query}`);
      assert.equal(first.status, 200, query);
      const second = await edge(`/img/shop/photo/v1?${query}`);
      assert.equal(second.xcache, 'Hit from cloudfront', query);
      assert.deepEqual(second.body, first.body);
    }
    assert.equal(twin.edge.stats.originRenders, rendersBefore, 'no variant of the standard set was transformed at the edge');
    const unversioned = await edge('/img/shop/photo?w=320&h=160&fmt=webp');
    assert.equal(unversioned.status, 200);
    assert.ok(hammingDistance(await dHash(unversioned.body), await dHash((await edge('/img/shop/photo/v1?w=320&h=160&fmt=webp')).body)) <= 2, 'the unversioned URL shows version 1');
  });

  it('publishes a browser upload (a presigned POST) as it does a PUT', async () => {
    const image = await sampleImage(800, 600);
    const post = await createPresignedPost(twin.s3Client, {
      Bucket: BUCKETS.originals.bucket,
      Key: 'shop/browser',
      Conditions: [['content-length-range', 1, image.length], ['eq', '$Content-Type', 'image/jpeg']],
      Fields: { 'Content-Type': 'image/jpeg' },
      Expires: 60,
    });
    const form = new FormData();
    for (const [name, value] of Object.entries(post.fields)) form.append(name, value);
    form.append('file', new Blob([new Uint8Array(image)]), 'browser.jpg');
    const answer = await fetch(post.url, { method: 'POST', body: form });
    assert.equal(answer.status, 204, await answer.text());
    await settle();
    assert.equal((uploadEvents('shop/browser')[0]?.detail as { reason?: string }).reason, 'PostObject');
    assert.equal((await versionOf('shop/browser'))?.version, 1);
    assert.equal((await edge('/img/shop/browser/v1?w=320&fmt=webp')).status, 200);
  });

  it('serves an upload at no URL until RenderOnUpload has published it', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    held.set('held', gate);
    await upload('shop/held', await sampleImage(800, 600));
    await waitFor(() => held.get('held') === undefined, 'the publish started');
    assert.equal((await keys(BUCKETS.variants.bucket, '_staging/shop/held/v1/')).length, 10, 'the render is staged: nine variants and the original');
    const urls = ['/img/shop/held', '/img/shop/held?w=320&fmt=webp', '/img/shop/held/v1?w=320&fmt=webp', '/img/shop/held/v1', '/img/shop/held?fmt=png'];
    for (const url of urls) assert.equal((await edge(url)).status, 404, `${url} while staged, before publishing`);
    release();
    await settle();
    twin.edge.cache.invalidate('/img/shop/held*');
    for (const url of urls) assert.equal((await edge(url)).status, 200, `${url} once published`);
  });

  it('keeps what is published when a re-upload is rejected', async () => {
    const good = await sampleImage(800, 600);
    await upload('shop/kept', good);
    await settle();
    const urls = ['/img/shop/kept?w=320&fmt=webp', '/img/shop/kept?w=160&fmt=jpeg', '/img/shop/kept/v1?w=320&fmt=webp'];
    const before = await Promise.all(urls.map((url) => edge(url)));
    assert.ok(before.every((b) => b.status === 200));
    await upload('shop/kept', good.subarray(0, good.length / 2));
    await settle();
    assert.equal((published('Original Rejected', 'kept')[0]?.detail as { code: string }).code, 'UnprocessableImage');
    twin.edge.cache.invalidate('/img/shop/kept*');
    for (const [i, url] of urls.entries()) {
      const after = await edge(url);
      assert.equal(after.status, 200, url);
      assert.ok(hammingDistance(await dHash(after.body), await dHash(before[i]!.body)) <= 2, `${url} still shows the published image`);
    }
    assert.equal((await versionOf('shop/kept'))?.version, 1);
  });

  it('bumps the version on re-upload; the old versioned URL keeps its bytes, the unversioned one shows the new', async () => {
    const v1 = await edge('/img/shop/photo/v1?w=640&fmt=jpeg');
    // A long-tail unversioned render, which the edge stores in the latest generation.
    const before = await edge('/img/shop/photo?w=640&h=320&fmt=jpeg');
    assert.equal(before.status, 200);
    assert.ok((await keys(BUCKETS.variants.bucket, 'shop/photo/latest/')).length > 0, 'the edge stored it in the latest generation');
    // What the edge rendered into the failover origin's bucket during an earlier failover.
    await twin.s3Client.send(new PutObjectCommand({ Bucket: BUCKETS.failoverVariants.bucket, Key: 'shop/photo/latest/w320_q75.webp', Body: before.body, ContentType: 'image/webp' }));
    await upload('shop/photo', await sharp(await sampleImage(1600, 1067)).negate().jpeg().toBuffer());
    await settle();
    for (const bucket of [BUCKETS.variants.bucket, BUCKETS.failoverVariants.bucket]) {
      assert.deepEqual(await keys(bucket, 'shop/photo/latest/'), [], `publishing version 2 emptied the latest generation in ${bucket}`);
    }
    const standardSet = (version: number) => standardVariants(CONFIG.tenants.shop!).map((spec) => `shop/photo/v${version}/${variantName(spec)}`).sort();
    assert.deepEqual(await keys(BUCKETS.variants.bucket, 'shop/photo/v2/'), standardSet(2));
    assert.deepEqual(await keys(BUCKETS.failoverVariants.bucket, 'shop/photo/v2/'), standardSet(2), 'the failover bucket holds version 2 too');
    assert.deepEqual(await keys(BUCKETS.failoverVariants.bucket, 'shop/photo/v1/'), standardSet(1), 'and keeps version 1');
    twin.edge.cache.invalidate('/img/shop/photo*');
    const after = await edge('/img/shop/photo?w=640&h=320&fmt=jpeg');
    assert.ok(hammingDistance(await dHash(after.body), await dHash(before.body)) >= 30, 'the latest generation was renewed, not served stale');
    const v2Crop = await edge('/img/shop/photo/v2?w=640&h=320&fmt=jpeg');
    assert.ok(hammingDistance(await dHash(after.body), await dHash(v2Crop.body)) <= 2, 'it shows version 2');
    assert.equal((await versionOf('shop/photo'))?.version, 2);
    const v2 = await edge('/img/shop/photo/v2?w=640&fmt=jpeg');
    assert.equal(v2.status, 200);
    assert.equal(v2.xcache, 'Miss from cloudfront');
    assert.notDeepEqual(v2.body, v1.body);
    const v1Again = await edge('/img/shop/photo/v1?w=640&fmt=jpeg');
    assert.deepEqual(v1Again.body, v1.body);
  });

  it('renders and bumps once for the same S3 event delivered three times at once', async () => {
    await upload('shop/duplicate', await sampleImage(800, 600));
    const [event] = uploadEvents('shop/duplicate');
    assert.ok(event);
    for (let i = 0; i < 2; i++) twin.pipeline!.bus.put({ source: event.source, detailType: event['detail-type'], detail: event.detail, resources: [...event.resources] });
    await settle();
    assert.equal((await versionOf('shop/duplicate'))?.version, 1);
    assert.equal(published('Version Bumped', 'duplicate').length, 1);
    const executions = twin.pipeline!.stepFunctions.list().filter((e) => JSON.stringify(e.input).includes('shop/duplicate'));
    assert.equal(executions.length, 3);
    assert.ok(executions.every((e) => e.status === 'SUCCEEDED'), JSON.stringify(executions.map((e) => [e.status, e.error, e.cause])));
  });

  it('never rolls a version back when an older event arrives after a newer one', async () => {
    await upload('shop/ordered', await sampleImage(800, 600));
    await settle();
    await upload('shop/ordered', await sharp(await sampleImage(800, 600)).negate().jpeg().toBuffer());
    await settle();
    assert.equal((await versionOf('shop/ordered'))?.version, 2);
    const [older] = uploadEvents('shop/ordered');
    twin.pipeline!.bus.put({ source: older!.source, detailType: older!['detail-type'], detail: older!.detail });
    await settle();
    assert.equal((await versionOf('shop/ordered'))?.version, 2);
    assert.equal(published('Version Bumped', 'ordered').length, 2);
  });

  it('keeps a published version when publishing is retried after its work was done', async () => {
    await upload('shop/retried', await sampleImage(800, 600));
    await settle();
    assert.equal(PUBLISH_FAILS_ONCE.size, 0, 'the failure was injected');
    const record = await versionOf('shop/retried');
    assert.deepEqual([record?.version, record?.previousVersion], [1, 0]);
    assert.equal((await keys(BUCKETS.variants.bucket, 'shop/retried/v1/')).length, 9);
    await twin.s3Client.send(new HeadObjectCommand({ Bucket: BUCKETS.originals.bucket, Key: '_versions/shop/retried/v1' }));
    assert.ok(published('Version Bumped', 'retried').every((e) => (e.detail as { previousVersion: number }).previousVersion === 0));
  });

  it('quarantines a truncated upload with "Original Rejected", and renders nothing of it', async () => {
    const whole = await sampleImage(1600, 1067);
    await upload('shop/truncated', whole.subarray(0, Math.floor(whole.length / 2)));
    await settle();
    const [rejected] = published('Original Rejected', 'truncated');
    assert.equal((rejected?.detail as { code: string }).code, 'UnprocessableImage');
    assert.match((rejected?.detail as { quarantineKey: string }).quarantineKey, /^_quarantine\/shop\/truncated\/[0-9A-F]+$/);
    assert.deepEqual(await keys(BUCKETS.originals.bucket, 'shop/truncated'), [], 'the upload left the tenant space');
    assert.equal((await keys(BUCKETS.originals.bucket, '_quarantine/shop/truncated/')).length, 1);
    assert.deepEqual(await keys(BUCKETS.variants.bucket, 'shop/truncated/'), [], 'never half-rendered');
    assert.equal(await versionOf('shop/truncated').then((r) => r?.version ?? 0), 0);
  });

  it('quarantines a decompression bomb from its header', { skip: fixturesMissing }, async () => {
    await upload('shop/bomb', await readFile(fixture('65536-uint32-limit.png')));
    await settle();
    const [rejected] = published('Original Rejected', 'bomb');
    assert.equal((rejected?.detail as { code: string }).code, 'ImageTooLarge');
    assert.deepEqual(await keys(BUCKETS.variants.bucket, 'shop/bomb/'), []);
  });

  it('ignores system keys: a snapshot write starts nothing', async () => {
    const before = twin.pipeline!.stepFunctions.list().length;
    await upload('_versions/shop/photo/v99', await sampleImage(100, 100));
    await settle();
    assert.equal(twin.pipeline!.stepFunctions.list().length, before);
  });
});
