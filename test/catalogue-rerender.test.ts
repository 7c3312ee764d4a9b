import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DescribeMapRunCommand, ListMapRunsCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { parseConfig, standardVariants } from '../core/tenant-config.ts';
import { sampleImage } from '../local/sample-image.ts';
import { BUCKETS } from '../local/topology.ts';
import type { Twin } from '../local/twin.ts';
import type { FaultProxy } from '../local/fault-proxy.ts';
import { LOCAL_TABLES } from '../local/pipeline/local-pipeline.ts';
import { DynamoDbVersionMap } from '../tasks/shared/dynamodb-version-map.ts';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { ExecutionRecord } from '../local/pipeline/step-functions.ts';
import { edge, keys, published, settle, throughFaultProxies, upload, requester } from './support/pipeline-twin.ts';
import { useTwin } from './support/twin-fixture.ts';

const SMALL = { breakpoints: [32, 64], formats: ['webp' as const], variants: { widths: [32, 64] } };
// A tenant per test, which that test seeds itself: none reads what another rendered, and each passes alone.
const CONFIG = parseConfig({
  tenants: {
    cat: SMALL,
    stale: SMALL,
    strict: SMALL,
    schema: SMALL,
    event: SMALL,
    lost: SMALL,
    // 1,000 originals with 128-character ids, for a page at the limits: their uploads and re-renders fail fast.
    bulk: { breakpoints: [32], formats: ['webp'], variants: { widths: [32] } },
  },
});
const BULK_IDS = Array.from({ length: 1000 }, (_, i) => `${String(i).padStart(4, '0')}-${'b'.repeat(123)}`);
/** Step Functions' 256 KiB for a state, an execution's input and output. */
const STATE_LIMIT = 256 * 1024;
// More originals than one map run renders at once (40), so the map's concurrency and progress show.
const IDS = Array.from({ length: 60 }, (_, i) => `img-${String(i).padStart(3, '0')}`);
/** The originals whose re-renders fail, by tenant: uploads of them render, re-renders no longer decode. */
const UNDECODABLE: Readonly<Record<string, ReadonlySet<string>>> = { cat: new Set(['img-013', 'img-050']), strict: new Set(['img-001', 'img-003']) };
const FAILING = UNDECODABLE.cat!;

let twin: Twin;
let sfn: SFNClient;
const proxies: Partial<Record<'s3' | 'dynamodb', FaultProxy>> = {};
/** Answers lost once, by task and `tenant/imageId`: the work was done, Step Functions saw a throttle. */
const lostAnswers = new Map<string, string>();

const fixture = useTwin({
  config: CONFIG,
  timeScale: 0.002,
  // Re-rendering, not replication, is under test here: copies land on the next turn (test/region-failover-replication.test.ts lags them).
  replicationDelayMs: 0,
  taskEndpoints: throughFaultProxies(proxies),
  afterClose: async () => void (await Promise.all(Object.values(proxies).map((p) => p.close()))),
  instrument: (task, fn) => async (payload) => {
    const input = (payload as { input: { rerender?: boolean; tenant?: string; imageId?: string; image?: { tenant: string; imageId: string }; detail?: { object?: { key?: string } } } }).input;
    // The bulk tenant's uploads stop at the probe, and its re-renders fail in prepare: no rendering, only the limits.
    if (task === 'probe-original' && input.detail?.object?.key?.startsWith('bulk/')) throw Object.assign(new Error('not rendered in this test'), { name: 'InternalError' });
    if (task === 'prepare-rerender' && input.image?.tenant === 'bulk') {
      throw Object.assign(new Error(`${input.image.imageId} is unreadable (injected): ${'c'.repeat(1500)}`), { name: 'UnprocessableImage' });
    }
    if (task === 'render-variants' && input.rerender && UNDECODABLE[input.tenant!]?.has(input.imageId!)) {
      throw Object.assign(new Error(`${input.imageId} no longer decodes (injected)`), { name: 'UnprocessableImage' });
    }
    const result = await fn(payload);
    if (input.rerender && lostAnswers.get(task) === `${input.tenant}/${input.imageId}`) {
      lostAnswers.delete(task);
      throw Object.assign(new Error(`${task} was throttled after it ran (injected)`), { name: 'Lambda.TooManyRequestsException' });
    }
    return result;
  },
});

before(async () => {
  twin = await fixture.started;
  sfn = new SFNClient({ region: 'us-east-1', endpoint: twin.controlUrl });
});

after(() => sfn.destroy());

/** Uploads one body under many keys, 25 at a time: what is under test starts once they have all settled. */
async function uploadAll(on: Twin, keys: readonly string[], body: Buffer): Promise<void> {
  for (let i = 0; i < keys.length; i += 25) await Promise.all(keys.slice(i, i + 25).map((key) => upload(on, key, body)));
}

/** Uploads originals of a tenant and waits until their upload renders have settled. */
async function seed(tenant: string, ids: readonly string[], body?: Buffer): Promise<void> {
  await uploadAll(twin, ids.map((id) => `${tenant}/${id}`), body ?? (await sampleImage(96, 64)));
  await settle(twin);
}

/** The "Rerender Completed" event a job published. */
function completedEvent(on: Twin, jobId: string) {
  const event = published(on, 'Rerender Completed').find((e) => (e.detail as { jobId: string }).jobId === jobId);
  assert.ok(event, `${jobId} announced its end`);
  return event;
}

/** Runs a re-render to its end, watching its progress as `pictor rerender` does; returns its last part and what was seen. */
async function rerender(name: string, detail: Record<string, unknown>, on: Twin = twin) {
  const client = on === twin ? sfn : new SFNClient({ region: 'us-east-1', endpoint: on.controlUrl });
  const { executionArn } = await client.send(
    new StartExecutionCommand({ stateMachineArn: on.pipeline!.stateMachines.CatalogueRerender, name, input: JSON.stringify({ jobId: name, detail: { schemaVersion: 1, requester: 'ops@example.com', ...detail } }) }),
  );
  const seen: { done: number; total: number }[] = [];
  const first = on.pipeline!.stepFunctions.describe(executionArn!)!;
  while (first.status === 'RUNNING') {
    const { mapRuns } = await client.send(new ListMapRunsCommand({ executionArn }));
    let done = 0;
    let total = 0;
    for (const run of mapRuns ?? []) {
      const { itemCounts } = await client.send(new DescribeMapRunCommand({ mapRunArn: run.mapRunArn }));
      done += itemCounts!.succeeded! + itemCounts!.failed!;
      total += itemCounts!.total!;
    }
    seen.push({ done, total });
    await new Promise((resolve) => setTimeout(resolve, 15));
  }
  await settle(on);
  if (client !== sfn) client.destroy();
  const parts = partsOf(on, first);
  return { execution: parts.at(-1)!, parts, seen };
}

/** A job's executions in order: each part that continued names the next in its output. */
function partsOf(on: Twin, first: ExecutionRecord): ExecutionRecord[] {
  const parts = [first];
  for (let next = (first.output as { continuedAs?: { name: string } } | undefined)?.continuedAs; next; ) {
    const part = on.pipeline!.stepFunctions.list(first.stateMachineArn).find((e) => e.name === next!.name);
    assert.ok(part, `the part ${next.name} was started`);
    parts.push(part);
    next = (part.output as { continuedAs?: { name: string } } | undefined)?.continuedAs;
  }
  return parts;
}

async function readReport(on: Twin, key: string): Promise<any> {
  const object = await on.s3Client.send(new GetObjectCommand({ Bucket: BUCKETS.reports.bucket, Key: key }));
  return JSON.parse(await object.Body!.transformToString());
}

describe('CatalogueRerender on the twin', () => {
  it('re-renders 60 originals at a new schema, with an exact summary naming the 2 that failed', async () => {
    await seed('cat', IDS);
    const { execution, seen } = await rerender('new-schema', { tenant: 'cat', variants: { widths: [32], formats: ['webp'] } });
    assert.equal(execution.status, 'SUCCEEDED', `${execution.error}: ${execution.cause}`);
    const summary = execution.output as { rendered: number; skipped: number; failed: number; failures: { imageId: string; error: string; cause: string }[] };
    assert.equal(summary.rendered, 58);
    assert.equal(summary.skipped, 0);
    assert.equal(summary.failed, 2);
    assert.deepEqual(summary.failures.map((f) => f.imageId).sort(), [...FAILING].sort());
    for (const f of summary.failures) {
      assert.equal(f.error, 'UnprocessableImage');
      assert.match(f.cause, /no longer decodes/);
    }
    assert.ok(seen.some((s) => s.total === 60 && s.done > 0 && s.done < 60), `progress was visible while it ran: ${JSON.stringify(seen.slice(0, 5))}…`);

    // The rendered ones are version 2 at the new schema; the failed ones still serve version 1.
    for (const bucket of [BUCKETS.variants.bucket, BUCKETS.failoverVariants.bucket]) {
      assert.deepEqual(await keys(twin, bucket, 'cat/img-000/v2/'), ['cat/img-000/v2/w32_q75.webp'], bucket);
      assert.deepEqual(await keys(twin, bucket, 'cat/img-013/v2/'), [], bucket);
    }
    assert.equal((await edge(twin, '/img/cat/img-000/v2?w=32&fmt=webp')).status, 200);
    assert.equal((await edge(twin, '/img/cat/img-013/v1?w=64&fmt=webp')).status, 200);

    const completed = completedEvent(twin, 'new-schema').detail as { rendered: number; failed: number; aborted: boolean; report: { bucket: string; key: string } };
    assert.deepEqual([completed.rendered, completed.failed, completed.aborted], [58, 2, false]);
    assert.deepEqual(completed.report, { bucket: BUCKETS.reports.bucket, key: 'rerenders/new-schema/report.json' });
    const report = await readReport(twin, completed.report.key);
    assert.deepEqual([report.rendered, report.skipped, report.failed, report.pages, report.parts], [58, 0, 2, 1, 1]);
    assert.deepEqual(report.failures.map((f: { imageId: string }) => f.imageId).sort(), [...FAILING].sort());
  });

  it('renders only what is stale when asked, and says why it skipped the rest', async () => {
    // Arrange: 3 originals at the schema, then 2 uploaded at the tenant's own.
    await seed('stale', ['img-000', 'img-001', 'img-002']);
    const setUp = (await rerender('stale-set-up', { tenant: 'stale', variants: { widths: [32], formats: ['webp'] } })).execution;
    assert.deepEqual([setUp.status, (setUp.output as { rendered: number }).rendered], ['SUCCEEDED', 3]);
    await seed('stale', ['img-003', 'img-004']);

    const { execution } = await rerender('catch-up', { tenant: 'stale', variants: { widths: [32], formats: ['webp'] }, onlyStale: true });

    assert.equal(execution.status, 'SUCCEEDED', `${execution.error}: ${execution.cause}`);
    const summary = execution.output as { rendered: number; skipped: number; failed: number; skippedBecause: Record<string, number> };
    assert.deepEqual([summary.rendered, summary.skipped, summary.failed], [2, 3, 0]);
    assert.deepEqual(summary.skippedBecause, { 'already rendered at this schema': 3 });
  });

  it('stops at its failure threshold and fails with the summary', async () => {
    await seed('strict', ['img-000', 'img-001', 'img-002', 'img-003', 'img-004']);
    const { execution } = await rerender('strict', { tenant: 'strict', toleratedFailurePercentage: 0 });
    assert.equal(execution.status, 'FAILED');
    assert.equal(execution.error, 'TooManyFailures');
    assert.match(execution.cause ?? '', /2 of 5 originals failed, more than the 0% tolerated/);
    assert.equal((completedEvent(twin, 'strict').detail as { aborted: boolean }).aborted, true);
  });

  it('refuses a schema the tenant cannot serve before rendering anything', async () => {
    await seed('schema', ['img-000']);
    const { execution } = await rerender('bad-schema', { tenant: 'schema', variants: { widths: [100] } });
    assert.equal(execution.status, 'FAILED');
    assert.equal(execution.error, 'InvalidEvent');
    assert.match(execution.cause ?? '', /no breakpoint 100/);
    assert.deepEqual(await keys(twin, BUCKETS.variants.bucket, 'schema/img-000/v2/'), [], 'nothing rendered');
  });

  it('starts from a "Rerender Requested" event, named by the event id', async () => {
    // Arrange: 1 original at the schema the event asks for, 2 at the tenant's own.
    await seed('event', ['img-000']);
    const setUp = (await rerender('event-set-up', { tenant: 'event', variants: { widths: [32], formats: ['webp'] } })).execution;
    assert.deepEqual([setUp.status, (setUp.output as { rendered: number }).rendered], ['SUCCEEDED', 1]);
    await seed('event', ['img-001', 'img-002']);

    const { events, bus } = await requester(twin, 'rerender');
    const detail = { schemaVersion: 1, requester: 'ops@example.com', tenant: 'event', variants: { widths: [32], formats: ['webp'] }, onlyStale: true };
    const { Entries } = await events.send(new PutEventsCommand({ Entries: [{ EventBusName: bus, Source: 'pictor', DetailType: 'Rerender Requested', Detail: JSON.stringify(detail) }] }));
    events.destroy();
    await settle(twin);
    const execution = twin.pipeline!.stepFunctions.list(twin.pipeline!.stateMachines.CatalogueRerender).find((e) => (e.input as { jobId: string }).jobId === Entries![0]!.EventId);
    assert.ok(execution, 'the rule started the job with the event id');
    assert.equal(execution.status, 'SUCCEEDED', `${execution.error}: ${execution.cause}`);
    // The 2 at the tenant's own schema are stale; the one at the asked schema is skipped.
    assert.deepEqual([(execution.output as { rendered: number }).rendered, (execution.output as { skipped: number }).skipped], [2, 1]);
  });

  it('counts each original as what happened, renders it once, and orphans nothing when answers are lost', async () => {
    const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1', endpoint: twin.dynamodb!.endpoint }));
    const versions = new DynamoDbVersionMap(documents, LOCAL_TABLES.versions, LOCAL_TABLES.tombstones);
    const touched = ['img-020', 'img-021', 'img-022', 'img-023'];
    await seed('lost', [...touched, 'img-024', 'img-025']);
    const before = new Map(await Promise.all(touched.map(async (id) => [id, (await versions.get('lost', id))!] as const)));
    // Each fails once between its side effects, beyond the SDK's own three attempts.
    proxies.s3!.inject({ match: { method: 'PUT', path: /^\/pictor-variants\/_staging\/lost\/img-020\/v\d+\/original/ }, status: 503, when: 'after', times: 3 });
    proxies.dynamodb!.inject({ match: { target: 'DynamoDB_20120810.UpdateItem', body: ['lost/img-023', 'publishedVersions'] }, status: 500, when: 'after', times: 3 });
    lostAnswers.set('render-variants', 'lost/img-021');
    lostAnswers.set('publish-version', 'lost/img-022');
    const { execution } = await rerender('lost-answers', { tenant: 'lost' });
    assert.equal(execution.status, 'SUCCEEDED', `${execution.error}: ${execution.cause}`);
    const summary = execution.output as { rendered: number; skipped: number; failed: number };
    assert.deepEqual([summary.rendered, summary.skipped, summary.failed], [6, 0, 0]);
    assert.equal(lostAnswers.size, 0, 'the answers were lost');
    for (const id of touched) {
      const record = (await versions.get('lost', id))!;
      const previous = before.get(id)!.version;
      assert.equal(record.version, previous + 1, `${id}: one new version, not two`);
      assert.deepEqual(record.publishedVersions.slice(-2), [previous, previous + 1], id);
      assert.equal(record.reservedVersion, record.version, `${id}: no version reserved and left unpublished`);
      for (const bucket of [BUCKETS.variants.bucket, BUCKETS.failoverVariants.bucket]) {
        assert.equal((await keys(twin, bucket, `lost/${id}/v${previous + 1}/`)).length, standardVariants(CONFIG.tenants.lost!).length, `${id} in ${bucket}`);
      }
    }
    for (const bucket of [BUCKETS.variants.bucket, BUCKETS.failoverVariants.bucket]) assert.deepEqual(await keys(twin, bucket, '_staging/'), [], `nothing orphaned in ${bucket}`);
    documents.destroy();
  });
});

describe('CatalogueRerender at the limits', () => {
  it('fails a page of 1,000 originals with 128-character ids that all fail only by its threshold, every state below 256 KiB, with a report listing them', async () => {
    await seed('bulk', BULK_IDS, await sampleImage(8, 8));

    // Act: every item fails in prepare with a 1.5 KB cause; inline results would be about 2 MB.
    const { execution, parts } = await rerender('all-fail', { tenant: 'bulk' });

    // Assert: the twin fails any state over 256 KiB with States.DataLimitExceeded; this job reached its own end.
    assert.equal(parts.length, 1);
    assert.equal(execution.status, 'FAILED');
    assert.equal(execution.error, 'TooManyFailures', `${execution.error}: ${execution.cause}`);
    assert.match(execution.cause ?? '', /1000 of 1000 originals failed, more than the 5% tolerated\. Report: s3:\/\/pictor-reports\/rerenders\/all-fail\/report\.json/);
    const completed = completedEvent(twin, 'all-fail');
    const detail = completed.detail as { failed: number; aborted: boolean; failures: { cause: string }[]; failuresOmitted: number; report: { key: string } };
    assert.deepEqual([detail.failed, detail.aborted, detail.failures.length, detail.failuresOmitted], [1000, true, 10, 990]);
    assert.ok(detail.failures.every((f) => f.cause.length <= 300));
    assert.ok(Buffer.byteLength(JSON.stringify(completed)) < 16 * 1024, 'the event is a few KB');
    assert.ok(Buffer.byteLength(JSON.stringify(execution.input)) < STATE_LIMIT);

    const report = await readReport(twin, detail.report.key);
    assert.deepEqual([report.failed, report.rendered, report.skipped, report.failures.length, report.failuresOmitted, report.failureFiles.count], [1000, 0, 0, 100, 900, 1]);
    assert.equal(report.failures[0].imageId, BULK_IDS[0]);
    assert.match(report.failures[0].cause, /is unreadable \(injected\)/);
    const failures = await readReport(twin, 'rerenders/all-fail/failures/00000000.json');
    assert.deepEqual(failures.map((f: { imageId: string }) => f.imageId).sort(), BULK_IDS);
    assert.equal(twin.pipeline!.stepFunctions.describe(execution.executionArn)!.mapRuns.length, 1, 'one map run: the whole page at once');
  });
});

describe('CatalogueRerender continues as new executions', () => {
  const ids = Array.from({ length: 14 }, (_, i) => `part-${String(i).padStart(2, '0')}`);
  const partsTwin = useTwin({
    config: CONFIG,
    timeScale: 0.002,
    // Replication's lag is not what this test is about.
    replicationDelayMs: 0,
    // 14 originals, 3 a page: 5 pages; 2 pages an execution: 3 executions, 2 continuations.
    rerender: { pageSize: 3, pagesPerExecution: 2 },
    instrument: (task, fn) => async (payload) => {
      const input = (payload as { input: { rerender?: boolean; imageId?: string } }).input;
      if (task === 'render-variants' && input.rerender && input.imageId === 'part-07') throw Object.assign(new Error('part-07 no longer decodes (injected)'), { name: 'UnprocessableImage' });
      return fn(payload);
    },
    seed: async (small) => {
      await uploadAll(small, ids.map((id) => `cat/${id}`), await sampleImage(16, 16));
      await settle(small);
    },
  });

  it('re-renders a catalogue in three executions with an exact summary and report', async () => {
    const small = partsTwin.twin;
    const { execution, parts } = await rerender('parts', { tenant: 'cat', toleratedFailurePercentage: 50 }, small);

    assert.deepEqual(parts.map((p) => [p.name, p.status]), [['parts', 'SUCCEEDED'], ['parts-part-2', 'SUCCEEDED'], ['parts-part-3', 'SUCCEEDED']]);
    // Each part carries the job on: its input is the previous part's counts and cursor.
    const second = parts[1]!.input as { jobId: string; continuation: { part: number; totals: { rendered: number; failed: number; pages: number } } };
    assert.equal(second.jobId, 'parts');
    assert.deepEqual([second.continuation.part, second.continuation.totals.pages, second.continuation.totals.rendered + second.continuation.totals.failed], [2, 2, 6]);
    assert.deepEqual((parts[0]!.output as { continuedAs: unknown }).continuedAs, { part: 2, name: 'parts-part-2' });

    const summary = execution.output as { rendered: number; skipped: number; failed: number; failures: { imageId: string; error: string }[]; report: { key: string } };
    assert.deepEqual([summary.rendered, summary.skipped, summary.failed], [13, 0, 1]);
    assert.deepEqual(summary.failures.map((f) => [f.imageId, f.error]), [['part-07', 'UnprocessableImage']]);
    const report = await readReport(small, summary.report.key);
    assert.deepEqual([report.rendered, report.failed, report.pages, report.parts, report.failureFiles.count], [13, 1, 5, 3, 1]);
    // Every original rendered once, as version 2.
    for (const id of ids) assert.equal((await keys(small, BUCKETS.variants.bucket, `cat/${id}/v2/`)).length, id === 'part-07' ? 0 : standardVariants(CONFIG.tenants.cat!).length, id);
    assert.equal(published(small, 'Rerender Completed').length, 1, 'announced once, by the last part');
  });
});
