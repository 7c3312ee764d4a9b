import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { parseConfig } from '../core/tenant-config.ts';
import type { BusEvent } from '../local/event-bus/event-bus.ts';
import type { Fault, FaultProxy } from '../local/fault-proxy.ts';
import { LOCAL_TABLES } from '../local/pipeline/local-pipeline.ts';
import { sampleImage } from '../local/sample-image.ts';
import { BUCKETS } from '../local/topology.ts';
import type { Twin } from '../local/twin.ts';
import { DynamoDbVersionMap } from '../tasks/shared/dynamodb-version-map.ts';
import type { TaskName } from '../infra/pipeline.ts';
import { edge, keys, published, settle, throughFaultProxies, upload } from './support/pipeline-twin.ts';
import { useTwin } from './support/twin-fixture.ts';

/**
 * No upload is lost: a transient failure in each task of RenderOnUpload, before
 * and after its side effects, ends in the state a run without faults ends in.
 * Whole-task faults go through the twin's task hook (a Lambda that failed to
 * start, or whose answer was lost); faults inside a task go through proxies in
 * front of S3 and DynamoDB, which fail chosen requests before or after the server
 * acted on them, more often than the SDK retries by itself.
 */
const CONFIG = parseConfig({ tenants: { shop: { breakpoints: [160, 320, 640], formats: ['webp', 'jpeg'], variants: { widths: [160, 320] } } } });
/** The SDK's standard retry mode makes 3 attempts: a fault this many times reaches the task. */
const BEYOND_SDK_RETRIES = 3;

/** Whole-task faults, by image id: which task, and whether it fails before it runs or after (its answer lost). */
const TASK_FAULTS: Record<string, { task: TaskName; when: 'before' | 'after'; error: string }> = {
  'probe-before': { task: 'probe-original', when: 'before', error: 'Lambda.ServiceException' },
  'probe-after': { task: 'probe-original', when: 'after', error: 'Lambda.SdkClientException' },
  'render-before': { task: 'render-variants', when: 'before', error: 'Lambda.TooManyRequestsException' },
  'render-after': { task: 'render-variants', when: 'after', error: 'Lambda.ServiceException' },
  'publish-before': { task: 'publish-version', when: 'before', error: 'Lambda.AWSLambdaException' },
  'publish-after': { task: 'publish-version', when: 'after', error: 'OriginUnavailable' },
  'quarantine-before': { task: 'quarantine-original', when: 'before', error: 'Lambda.TooManyRequestsException' },
  'quarantine-after': { task: 'quarantine-original', when: 'after', error: 'Lambda.ServiceException' },
  'discard-before': { task: 'discard-upload', when: 'before', error: 'Lambda.ClientExecutionTimeoutException' },
  'discard-after': { task: 'discard-upload', when: 'after', error: 'OriginUnavailable' },
};

/** Faults inside a task, between its side effects, by image id. */
const STORE_FAULTS: Record<string, { store: 's3' | 'dynamodb'; fault: (id: string) => Fault }> = {
  // render-variants reserved its version, and the answer was lost.
  'reserve-lost': { store: 'dynamodb', fault: (id) => ({ match: { target: 'DynamoDB_20120810.UpdateItem', body: [`shop/${id}`, 'reservedBy'] }, status: 500, when: 'after', times: BEYOND_SDK_RETRIES }) },
  // render-variants staged the variants, then could not stage the original.
  'stage-fails': { store: 's3', fault: (id) => ({ match: { method: 'PUT', path: new RegExp(`^/${BUCKETS.variants.bucket}/_staging/shop/${id}/v1/original`) }, status: 503, when: 'before', times: BEYOND_SDK_RETRIES }) },
  // publish-version recorded the version, and the answer was lost.
  'commit-lost': { store: 'dynamodb', fault: (id) => ({ match: { target: 'DynamoDB_20120810.UpdateItem', body: [`shop/${id}`, 'publishedVersions'] }, status: 500, when: 'after', times: BEYOND_SDK_RETRIES }) },
  // publish-version copied the variants into place, then could not copy the snapshot.
  'promote-fails': { store: 's3', fault: (id) => ({ match: { method: 'PUT', path: new RegExp(`^/${BUCKETS.originals.bucket}/_versions/shop/${id}/v1`) }, status: 503, when: 'before', times: BEYOND_SDK_RETRIES }) },
  // publish-version copied the variants into the primary's bucket, then could not copy one into the failover origin's.
  'failover-copy-fails': { store: 's3', fault: (id) => ({ match: { method: 'PUT', path: new RegExp(`^/${BUCKETS.failoverVariants.bucket}/shop/${id}/v1/w320_q75\\.webp$`) }, status: 503, when: 'before', times: BEYOND_SDK_RETRIES }) },
  // publish-version copied everything into place and dropped the staging, and the answer was lost: the retry finds no staging.
  'unstage-lost': { store: 's3', fault: (id) => ({ match: { method: 'POST', path: new RegExp(`^/${BUCKETS.variants.bucket}/?$`), body: `_staging/shop/${id}/v1/` }, status: 500, when: 'after', times: BEYOND_SDK_RETRIES }) },
  // publish-version set the pointer, and the answer was lost.
  'pointer-lost': { store: 's3', fault: (id) => ({ match: { method: 'PUT', path: new RegExp(`^/${BUCKETS.originals.bucket}/_published/shop/${id}$`) }, status: 500, when: 'after', times: BEYOND_SDK_RETRIES }) },
};

let twin: Twin;
const proxies: Partial<Record<'s3' | 'dynamodb', FaultProxy>> = {};
let versions: DynamoDbVersionMap;
let documents: DynamoDBDocumentClient;
const injected: string[] = [];
/** What a run without faults leaves, before any viewer asked for anything. */
let faultless: Record<string, string[]>;
/** Images whose renders fail until released, as a region that stays down would. */
const down = new Set<string>();

const fixture = useTwin({
  config: CONFIG,
  timeScale: 0.002,
  // This file counts executions per event; test/at-least-once.test.ts delivers every event twice.
  eventBus: { duplicateRate: 0 },
  taskEndpoints: throughFaultProxies(proxies),
  afterClose: async () => void (await Promise.all(Object.values(proxies).map((p) => p.close()))),
  instrument: (task, fn) => async (payload) => {
    const id = (payload as { input?: { imageId?: string; detail?: { object?: { key?: string } } } }).input;
    const imageId = id?.imageId ?? id?.detail?.object?.key?.split('/')[1] ?? '';
    if (task === 'render-variants' && down.has(imageId)) throw Object.assign(new Error(`${imageId}: the store is down (injected)`), { name: 'OriginUnavailable' });
    const fault = TASK_FAULTS[imageId];
    const strike = fault?.task === task && !injected.includes(imageId);
    if (strike && fault.when === 'before') {
      injected.push(imageId);
      throw Object.assign(new Error(`${task} failed before it ran (injected)`), { name: fault.error });
    }
    const result = await fn(payload);
    if (strike && fault.when === 'after') {
      injected.push(imageId);
      throw Object.assign(new Error(`${task} lost its answer (injected)`), { name: fault.error });
    }
    return result;
  },
});

before(async () => {
  twin = await fixture.started;
  documents = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1', endpoint: twin.dynamodb!.endpoint }));
  versions = new DynamoDbVersionMap(documents, LOCAL_TABLES.versions, LOCAL_TABLES.tombstones);
  for (const [id, { store, fault }] of Object.entries(STORE_FAULTS)) proxies[store]!.inject(fault(id));
});

after(() => documents.destroy());

/** Every object the image has, with its id written as `{id}`, so that two images' states compare. */
async function stateOf(imageId: string): Promise<Record<string, string[]>> {
  const pattern = new RegExp(`\\b${imageId}\\b`, 'g');
  const state: Record<string, string[]> = {};
  for (const bucket of [BUCKETS.originals.bucket, BUCKETS.replica.bucket, BUCKETS.variants.bucket, BUCKETS.failoverVariants.bucket]) {
    const found = (await keys(twin, bucket, '')).filter((k) => k.split('/').includes(imageId));
    state[bucket] = found.map((k) => k.replace(pattern, '{id}'));
  }
  return state;
}

function executionsOf(imageId: string) {
  return twin.pipeline!.stepFunctions.list(twin.pipeline!.stateMachines.RenderOnUpload).filter((e) => JSON.stringify(e.input).includes(`"shop/${imageId}"`));
}

function eventsOf(detailType: string, imageId: string): BusEvent[] {
  return published(twin, detailType).filter((e) => (e.detail as { imageId?: string }).imageId === imageId);
}

describe('RenderOnUpload under faults', () => {
  it('publishes exactly one version of each upload, whatever failed once on the way', async () => {
    const photo = await sampleImage(640, 480);
    const ids = ['baseline', ...Object.keys(TASK_FAULTS).filter((id) => /^(probe|render|publish)-/.test(id)), ...Object.keys(STORE_FAULTS)];
    for (const id of ids) await upload(twin, `shop/${id}`, photo);
    await settle(twin);

    const expected = (faultless = await stateOf('baseline'));
    assert.deepEqual(expected[BUCKETS.originals.bucket], ['_published/shop/{id}', '_versions/shop/{id}/v1', 'shop/{id}']);
    assert.deepEqual(expected[BUCKETS.variants.bucket], ['shop/{id}/v1/w160_q75.legacy', 'shop/{id}/v1/w160_q75.webp', 'shop/{id}/v1/w320_q75.legacy', 'shop/{id}/v1/w320_q75.webp']);
    assert.deepEqual(expected[BUCKETS.failoverVariants.bucket], expected[BUCKETS.variants.bucket], 'the failover origin holds the same published set');
    for (const id of ids) {
      const runs = executionsOf(id);
      assert.equal(runs.length, 1, id);
      assert.equal(runs[0]!.status, 'SUCCEEDED', `${id}: ${runs[0]!.error} ${runs[0]!.cause}`);
      assert.deepEqual(runs[0]!.output, { outcome: 'published', tenant: 'shop', imageId: id, version: 1, previousVersion: 0 }, id);
      const record = await versions.get('shop', id);
      assert.deepEqual([record?.version, record?.publishedVersions], [1, [1]], id);
      assert.deepEqual(await stateOf(id), expected, `${id} ends as a run without faults ends`);
      for (const url of [`/img/shop/${id}?w=320&fmt=webp`, `/img/shop/${id}/v1?w=160&fmt=jpeg`]) assert.equal((await edge(twin, url)).status, 200, url);
      assert.ok(eventsOf('Version Bumped', id).length >= 1, `${id}: announced`);
    }
    for (const id of Object.keys(TASK_FAULTS).filter((i) => ids.includes(i))) assert.ok(injected.includes(id), `${id}: the fault happened`);
    for (const [id, { store }] of Object.entries(STORE_FAULTS)) {
      assert.ok(proxies[store]!.injected.some((i) => decodeURIComponent(i.path).includes(id) || i.fault.match.body?.includes(`shop/${id}`)), `${id}: the fault happened`);
    }
    for (const bucket of [BUCKETS.variants.bucket, BUCKETS.failoverVariants.bucket]) assert.deepEqual(await keys(twin, bucket, '_staging/'), [], `nothing orphaned in staging in ${bucket}`);
  });

  it('quarantines a bad upload once, whatever failed once on the way', async () => {
    const truncated = (await sampleImage(640, 480)).subarray(0, 2000);
    for (const id of ['quarantine-before', 'quarantine-after']) await upload(twin, `shop/${id}`, truncated);
    await settle(twin);
    for (const id of ['quarantine-before', 'quarantine-after']) {
      const [run] = executionsOf(id);
      assert.equal(run?.status, 'SUCCEEDED', `${id}: ${run?.error} ${run?.cause}`);
      assert.equal((run!.output as { outcome: string }).outcome, 'rejected');
      assert.equal((await stateOf(id))[BUCKETS.originals.bucket]!.filter((k) => k.startsWith('_quarantine/shop/{id}/')).length, 1, id);
      assert.ok(!(await stateOf(id))[BUCKETS.originals.bucket]!.includes('shop/{id}'), `${id}: the upload left the tenant's space`);
      assert.equal((await versions.get('shop', id))?.version ?? 0, 0);
      assert.ok(injected.includes(id));
    }
  });

  it('erases an upload to a taken-down id everywhere, whatever failed once on the way', async () => {
    for (const id of ['discard-before', 'discard-after']) {
      await versions.tombstone('shop', id, 'dmca');
      await upload(twin, `shop/${id}`, await sampleImage(640, 480));
    }
    await settle(twin);
    for (const id of ['discard-before', 'discard-after']) {
      const [run] = executionsOf(id);
      assert.equal(run?.status, 'SUCCEEDED', `${id}: ${run?.error} ${run?.cause}`);
      assert.equal((run!.output as { outcome: string }).outcome, 'discarded');
      assert.deepEqual(await stateOf(id), { [BUCKETS.originals.bucket]: [], [BUCKETS.replica.bucket]: [], [BUCKETS.variants.bucket]: [], [BUCKETS.failoverVariants.bucket]: [] }, id);
      assert.equal((eventsOf('Upload Discarded', id)[0]?.detail as { code?: string })?.code, 'ImageTakenDown');
      assert.ok(injected.includes(id));
    }
  });

  it('fails, saying why, when a store stays down, and the same event completes it afterwards', async () => {
    down.add('outage');
    await upload(twin, 'shop/outage', await sampleImage(640, 480));
    await settle(twin);
    const [failed] = executionsOf('outage');
    assert.equal(failed?.status, 'FAILED');
    assert.equal(failed!.error, 'OriginUnavailable');
    assert.match(failed!.cause ?? '', /the store is down/);
    assert.equal((await edge(twin, '/img/shop/outage?w=320&fmt=webp')).status, 404, 'nothing is served of it yet');

    // The recovery the README gives: send the upload's event again.
    down.delete('outage');
    const event = twin.pipeline!.bus.events.find((e) => e['detail-type'] === 'Object Created' && (e.detail as { object: { key: string } }).object.key === 'shop/outage')!;
    twin.pipeline!.bus.put({ source: event.source, detailType: event['detail-type'], detail: event.detail, resources: [...event.resources] });
    await settle(twin);
    const retried = executionsOf('outage').find((e) => e !== failed)!;
    assert.equal(retried.status, 'SUCCEEDED', `${retried.error} ${retried.cause}`);
    assert.equal((retried.output as { version: number }).version, 1, 'the version reserved by the failed run');
    assert.deepEqual(await stateOf('outage'), faultless);
    twin.edge.cache.invalidate('/img/shop/outage*');
    assert.equal((await edge(twin, '/img/shop/outage?w=320&fmt=webp')).status, 200);
  });

  it('completes a version that failed for good after it was recorded, when the same event comes again', async () => {
    // The originals bucket refuses the pointer until further notice: publish records the version, copies it into place, and fails.
    const lift = proxies.s3!.inject({ match: { method: 'PUT', path: /^\/pictor-originals\/_published\/shop\/half-published$/ }, status: 503, when: 'before', times: Infinity });
    await upload(twin, 'shop/half-published', await sampleImage(640, 480));
    await settle(twin);
    const [failed] = executionsOf('half-published');
    assert.equal(failed?.status, 'FAILED');
    assert.equal(failed!.error, 'OriginUnavailable');
    assert.equal((await versions.get('shop', 'half-published'))?.version, 1, 'the version was recorded');
    assert.equal((await edge(twin, '/img/shop/half-published?w=320&fmt=webp')).status, 404, 'unversioned URLs wait for the pointer');

    lift();
    const event = twin.pipeline!.bus.events.find((e) => e['detail-type'] === 'Object Created' && (e.detail as { object: { key: string } }).object.key === 'shop/half-published')!;
    twin.pipeline!.bus.put({ source: event.source, detailType: event['detail-type'], detail: event.detail, resources: [...event.resources] });
    await settle(twin);
    const completed = executionsOf('half-published').find((e) => e !== failed)!;
    assert.equal(completed.status, 'SUCCEEDED', `${completed.error} ${completed.cause}`);
    assert.deepEqual(completed.output, { outcome: 'published', tenant: 'shop', imageId: 'half-published', version: 1, previousVersion: 0 });
    assert.deepEqual(await stateOf('half-published'), faultless);
    twin.edge.cache.invalidate('/img/shop/half-published*');
    assert.equal((await edge(twin, '/img/shop/half-published?w=320&fmt=webp')).status, 200);
  });
});
