// test-runner: alone. A thousand takedowns at once load the machine by themselves: with another file beside them, the twin's edge answers their checks with timeouts that AWS would not.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { parseConfig } from '../core/tenant-config.ts';
import { sampleImage } from '../local/sample-image.ts';
import { BUCKETS } from '../local/topology.ts';
import type { Twin } from '../local/twin.ts';
import { edge, published, settle, upload, versionsUnder, requester } from './support/pipeline-twin.ts';
import { useTwin } from './support/twin-fixture.ts';

const CONFIG = parseConfig({ tenants: { shop: { breakpoints: [160, 320], formats: ['webp'], variants: { widths: [160] } } } });
/** Image ids at their longest: 128 characters. */
const longId = (i: number) => `${String(i).padStart(6, '0')}-${'x'.repeat(121)}`;
/** The most images one request may name. */
const MAX_ITEMS = 1000;
/** Step Functions' payload quota. https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html#service-limits-task-executions */
const STATE_LIMIT = 256 * 1024;
/** An image with more object versions than one ListObjectVersions page holds. */
const MANY = { tenant: 'shop', imageId: 'many-versions' };
const LATE_KEY = `_quarantine/${MANY.tenant}/${MANY.imageId}/late`;

let twin: Twin;
let lateWritten = false;

const fixture = useTwin({
  config: CONFIG,
  timeScale: 0.003,
  // Replication lags well behind the sweep's (scaled) late-write window.
  replicationDelayMs: 1500,
  instrument: (task, fn) => async (payload) => {
    const result = await fn(payload);
    // A late write: after the first erase pass, something that read the image before its tombstone
    // stores one more version in the originals, whose replica copy lands 1.5 s later.
    const input = (payload as { input?: { item?: { imageId: string }; erase?: unknown } }).input;
    if (task === 'erase-objects' && input?.item?.imageId === MANY.imageId && !input.erase && !lateWritten) {
      lateWritten = true;
      await twin.s3Client.send(new PutObjectCommand({ Bucket: BUCKETS.originals.bucket, Key: LATE_KEY, Body: 'late' }));
    }
    return result;
  },
});

before(async () => {
  twin = await fixture.started;
});

async function json(bucket: string, key: string): Promise<any> {
  return JSON.parse(await (await twin.s3Client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString());
}

describe('TakedownBatch at the limits, on a twin that enforces them', () => {
  it('takes down 1,000 images with 128-character ids from one event: no state passes 256 KiB, the report lists every image', async () => {
    // Two of them exist, published, so that something is really erased.
    const real = [longId(0), longId(1)];
    for (const id of real) await upload(twin, `shop/${id}`, await sampleImage(320, 240));
    await settle(twin);
    for (const id of real) assert.equal((await edge(twin, `/img/shop/${id}?w=160&fmt=webp`)).status, 200);

    const items = Array.from({ length: MAX_ITEMS }, (_, i) => ({ tenant: 'shop', imageId: longId(i), reason: 'gdpr', requester: 'dpo@example.com' }));
    const detail = JSON.stringify({ schemaVersion: 1, items });
    assert.ok(detail.length > 200_000, `the request is ${detail.length} bytes: most of what EventBridge takes`);
    const { events, bus } = await requester(twin, 'takedown');
    const put = await events.send(new PutEventsCommand({ Entries: [{ EventBusName: bus, Source: 'pictor', DetailType: 'Takedown Requested', Detail: detail }] }));
    events.destroy();
    assert.equal(put.FailedEntryCount, 0);
    await settle(twin);

    const runs = twin.pipeline!.stepFunctions.list(twin.pipeline!.stateMachines.TakedownBatch);
    assert.ok(runs.length >= 1);
    for (const run of runs) {
      assert.equal(run.status, 'SUCCEEDED', `${run.error}: ${run.cause}`);
      assert.ok(JSON.stringify(run.output).length < 2048, 'the batch ends with a summary, not a list');
    }
    const completed = published(twin, 'Takedown Completed');
    assert.ok(completed.length >= 1);
    const event = completed[0]!.detail as { requested: number; takenDown: number; incomplete: number; report: { bucket: string; key: string } };
    assert.deepEqual([event.requested, event.takenDown, event.incomplete], [MAX_ITEMS, MAX_ITEMS, 0]);
    assert.ok(JSON.stringify(event).length < 1024, 'the event points at the report');
    const report = await json(event.report.bucket, event.report.key);
    assert.equal(report.images.length, MAX_ITEMS);
    assert.ok(report.images.every((i: { status: string; auditKey: string }) => i.status === 'taken-down' && i.auditKey));
    for (const id of real) {
      assert.equal((await edge(twin, `/img/shop/${id}?w=160&fmt=webp`)).status, 404);
      assert.deepEqual(await versionsUnder(twin, BUCKETS.originals.bucket, `shop/${id}`), []);
    }
  });

  it('refuses a request too large for EventBridge, so that nothing starts', async () => {
    const before = twin.pipeline!.stepFunctions.list(twin.pipeline!.stateMachines.TakedownBatch).length;
    const items = Array.from({ length: MAX_ITEMS }, (_, i) => ({ tenant: 'shop', imageId: longId(i), reason: 'gdpr', requester: `requester-${'r'.repeat(100)}@example.com` }));
    const { events, bus } = await requester(twin, 'takedown', { maxAttempts: 1 });
    await assert.rejects(events.send(new PutEventsCommand({ Entries: [{ EventBusName: bus, Source: 'pictor', DetailType: 'Takedown Requested', Detail: JSON.stringify({ schemaVersion: 1, items }) }] })), {
      name: 'ValidationException',
    });
    events.destroy();
    await settle(twin);
    assert.equal(twin.pipeline!.stepFunctions.list(twin.pipeline!.stateMachines.TakedownBatch).length, before);
  });

  it('refuses more than 1,000 images in the first state, before anything is deleted', async () => {
    await upload(twin, 'shop/keep-me', await sampleImage(320, 240));
    await settle(twin);
    const items = Array.from({ length: MAX_ITEMS + 1 }, (_, i) => ({ tenant: 'shop', imageId: i === 0 ? 'keep-me' : `k${i}`, reason: 'dmca', requester: 'x' }));
    const run = twin.pipeline!.stepFunctions.start(twin.pipeline!.stateMachines.TakedownBatch, { batchId: 'too-many', detail: { schemaVersion: 1, items } });
    await run.done;
    assert.equal(run.status, 'FAILED');
    assert.equal(run.error, 'InvalidEvent');
    assert.equal((await edge(twin, '/img/shop/keep-me?w=160&fmt=webp')).status, 200);
    assert.ok((await versionsUnder(twin, BUCKETS.originals.bucket, 'shop/keep-me')).length > 0);
  });

  it('erases every version and delete marker in the originals and the replica, past one page, and a copy replicated after the erase', async () => {
    await upload(twin, `${MANY.tenant}/${MANY.imageId}`, await sampleImage(320, 240));
    await settle(twin);
    // 1,050 versions of one quarantined key, then a delete marker: more than a page of versions.
    const key = `_quarantine/${MANY.tenant}/${MANY.imageId}/old`;
    for (let i = 0; i < 1050; i += 25) {
      await Promise.all(Array.from({ length: 25 }, (_, j) => twin.s3Client.send(new PutObjectCommand({ Bucket: BUCKETS.originals.bucket, Key: key, Body: `v${i + j}` }))));
    }
    await twin.s3Client.send(new DeleteObjectCommand({ Bucket: BUCKETS.originals.bucket, Key: key }));
    await twin.replication.settled();
    const before = await versionsUnder(twin, BUCKETS.replica.bucket, `_quarantine/${MANY.tenant}/${MANY.imageId}/`);
    assert.equal(before.length, 1051, 'the replica holds every version and the delete marker');

    const run = twin.pipeline!.stepFunctions.start(twin.pipeline!.stateMachines.TakedownBatch, {
      batchId: 'many-versions',
      detail: { schemaVersion: 1, items: [{ ...MANY, reason: 'gdpr', requester: 'dpo@example.com' }] },
    });
    await run.done;
    assert.equal(run.status, 'SUCCEEDED', `${run.error}: ${run.cause}`);
    assert.ok(lateWritten, 'a late write happened after the erase');
    await twin.replication.settled();
    for (const bucket of [BUCKETS.originals.bucket, BUCKETS.replica.bucket]) {
      for (const prefix of [`${MANY.tenant}/${MANY.imageId}`, `_quarantine/${MANY.tenant}/${MANY.imageId}/`, `_versions/${MANY.tenant}/${MANY.imageId}/`]) {
        assert.deepEqual(await versionsUnder(twin, bucket, prefix), [], `${bucket}/${prefix}`);
      }
    }
    // The audit record names every version and marker it deleted, the late copy in the replica among them.
    const record = await json(BUCKETS.audit.bucket, `takedowns/${MANY.tenant}/${MANY.imageId}/many-versions.json`);
    const deleted = record.deleted as { bucket: string; key: string; versionId: string; deleteMarker?: boolean }[];
    for (const bucket of [BUCKETS.originals.bucket, BUCKETS.replica.bucket]) {
      const old = deleted.filter((d) => d.bucket === bucket && d.key === key);
      assert.equal(old.length, 1051, `${bucket}: every version of ${key} and its delete marker`);
      assert.equal(old.filter((d) => d.deleteMarker).length, 1);
      assert.ok(deleted.some((d) => d.bucket === bucket && d.key === LATE_KEY), `${bucket}: the late write`);
    }
    assert.ok(JSON.stringify(record).length > STATE_LIMIT, 'the record holds more than a state could');
  });
});
