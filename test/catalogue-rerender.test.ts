import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DescribeMapRunCommand, ListMapRunsCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { parseConfig, standardVariants } from '../core/tenant-config.ts';
import { sampleImage } from '../local/sample-image.ts';
import { BUCKETS } from '../local/topology.ts';
import { startTwin, type Twin } from '../local/twin.ts';
import type { FaultProxy } from '../local/fault-proxy.ts';
import { LOCAL_TABLES } from '../local/pipeline/local-pipeline.ts';
import { VersionMap } from '../tasks/shared/version-map.ts';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { edge, keys, published, settle, throughFaultProxies, upload } from './support/pipeline-twin.ts';

const CONFIG = parseConfig({ tenants: { cat: { breakpoints: [32, 64], formats: ['webp'], variants: { widths: [32, 64] } } } });
const IDS = Array.from({ length: 200 }, (_, i) => `img-${String(i).padStart(3, '0')}`);
const FAILING = new Set(['img-013', 'img-150']);

let twin: Twin;
let dataDir: string;
let sfn: SFNClient;
let failing = true;
const proxies: Partial<Record<'s3' | 'dynamodb', FaultProxy>> = {};
/** Answers lost once, by task and image id: the work was done, Step Functions saw a throttle. */
const lostAnswers = new Map<string, string>();

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'pictor-rerender-'));
  twin = await startTwin({
    config: CONFIG,
    dataDir,
    logLevel: 'SILENT',
    timeScale: 0.002,
    taskEndpoints: throughFaultProxies(proxies),
    instrument: (task, fn) => async (payload) => {
      const input = (payload as { input: { rerender?: boolean; imageId?: string } }).input;
      if (task === 'render-variants' && input.rerender && failing && FAILING.has(input.imageId!)) {
        throw Object.assign(new Error(`${input.imageId} no longer decodes (injected)`), { name: 'UnprocessableImage' });
      }
      const result = await fn(payload);
      if (input.rerender && lostAnswers.get(task) === input.imageId) {
        lostAnswers.delete(task);
        throw Object.assign(new Error(`${task} was throttled after it ran (injected)`), { name: 'Lambda.TooManyRequestsException' });
      }
      return result;
    },
  });
  sfn = new SFNClient({ region: 'us-east-1', endpoint: twin.controlUrl });
  const image = await sampleImage(96, 64);
  for (const id of IDS) await upload(twin, `cat/${id}`, image);
  await settle(twin);
});

after(async () => {
  sfn.destroy();
  await twin.close();
  await Promise.all(Object.values(proxies).map((p) => p.close()));
  await rm(dataDir, { recursive: true, force: true });
});

/** Runs a re-render to its end, watching its progress as `pictor rerender` does; returns the execution and what was seen. */
async function rerender(name: string, detail: Record<string, unknown>) {
  const { executionArn } = await sfn.send(
    new StartExecutionCommand({ stateMachineArn: twin.pipeline!.stateMachines.CatalogueRerender, name, input: JSON.stringify({ jobId: name, detail: { schemaVersion: 1, requester: 'ops@example.com', ...detail } }) }),
  );
  const seen: { done: number; total: number }[] = [];
  const execution = twin.pipeline!.stepFunctions.describe(executionArn!)!;
  while (execution.status === 'RUNNING') {
    const { mapRuns } = await sfn.send(new ListMapRunsCommand({ executionArn }));
    let done = 0;
    let total = 0;
    for (const run of mapRuns ?? []) {
      const { itemCounts } = await sfn.send(new DescribeMapRunCommand({ mapRunArn: run.mapRunArn }));
      done += itemCounts!.succeeded! + itemCounts!.failed!;
      total += itemCounts!.total!;
    }
    seen.push({ done, total });
    await new Promise((resolve) => setTimeout(resolve, 15));
  }
  await settle(twin);
  return { execution, seen };
}

describe('CatalogueRerender on the twin', () => {
  it('re-renders 200 originals at a new schema, with an exact summary naming the 2 that failed', async () => {
    const { execution, seen } = await rerender('new-schema', { tenant: 'cat', variants: { widths: [32], formats: ['webp'] } });
    assert.equal(execution.status, 'SUCCEEDED', `${execution.error}: ${execution.cause}`);
    const summary = execution.output as { rendered: number; skipped: number; failed: number; failures: { imageId: string; error: string; cause: string }[] };
    assert.equal(summary.rendered, 198);
    assert.equal(summary.skipped, 0);
    assert.equal(summary.failed, 2);
    assert.deepEqual(summary.failures.map((f) => f.imageId).sort(), [...FAILING].sort());
    for (const f of summary.failures) {
      assert.equal(f.error, 'UnprocessableImage');
      assert.match(f.cause, /no longer decodes/);
    }
    assert.ok(seen.some((s) => s.total === 200 && s.done > 0 && s.done < 200), `progress was visible while it ran: ${JSON.stringify(seen.slice(0, 5))}…`);

    // The rendered ones are version 2 at the new schema; the failed ones still serve version 1.
    for (const bucket of [BUCKETS.variants.bucket, BUCKETS.failoverVariants.bucket]) {
      assert.deepEqual(await keys(twin, bucket, 'cat/img-000/v2/'), ['cat/img-000/v2/w32_q75.webp'], bucket);
      assert.deepEqual(await keys(twin, bucket, 'cat/img-013/v2/'), [], bucket);
    }
    assert.equal((await edge(twin, '/img/cat/img-000/v2?w=32&fmt=webp')).status, 200);
    assert.equal((await edge(twin, '/img/cat/img-013/v1?w=64&fmt=webp')).status, 200);

    const completed = published(twin, 'Rerender Completed').at(-1)!.detail as { rendered: number; failed: number; aborted: boolean };
    assert.deepEqual([completed.rendered, completed.failed, completed.aborted], [198, 2, false]);
  });

  it('renders only what is stale when asked, and says why it skipped the rest', async () => {
    failing = false;
    const { execution } = await rerender('catch-up', { tenant: 'cat', variants: { widths: [32], formats: ['webp'] }, onlyStale: true });
    failing = true;
    assert.equal(execution.status, 'SUCCEEDED', `${execution.error}: ${execution.cause}`);
    const summary = execution.output as { rendered: number; skipped: number; failed: number; skippedBecause: Record<string, number> };
    assert.deepEqual([summary.rendered, summary.skipped, summary.failed], [2, 198, 0]);
    assert.deepEqual(summary.skippedBecause, { 'already rendered at this schema': 198 });
  });

  it('stops at its failure threshold and fails with the summary', async () => {
    const { execution } = await rerender('strict', { tenant: 'cat', toleratedFailurePercentage: 0 });
    assert.equal(execution.status, 'FAILED');
    assert.equal(execution.error, 'TooManyFailures');
    assert.match(execution.cause ?? '', /2 of 200 originals failed, more than the 0% tolerated/);
    assert.equal((published(twin, 'Rerender Completed').at(-1)!.detail as { aborted: boolean }).aborted, true);
  });

  it('refuses a schema the tenant cannot serve before rendering anything', async () => {
    const { execution } = await rerender('bad-schema', { tenant: 'cat', variants: { widths: [100] } });
    assert.equal(execution.status, 'FAILED');
    assert.equal(execution.error, 'InvalidEvent');
    assert.match(execution.cause ?? '', /no breakpoint 100/);
  });

  it('starts from a "Rerender Requested" event, named by the event id', async () => {
    failing = false;
    const events = new EventBridgeClient({ region: 'us-east-1', endpoint: twin.controlUrl });
    const detail = { schemaVersion: 1, requester: 'ops@example.com', tenant: 'cat', variants: { widths: [32], formats: ['webp'] }, onlyStale: true };
    const { Entries } = await events.send(new PutEventsCommand({ Entries: [{ Source: 'pictor', DetailType: 'Rerender Requested', Detail: JSON.stringify(detail) }] }));
    events.destroy();
    await settle(twin);
    failing = true;
    const execution = twin.pipeline!.stepFunctions.list(twin.pipeline!.stateMachines.CatalogueRerender).find((e) => (e.input as { jobId: string }).jobId === Entries![0]!.EventId);
    assert.ok(execution, 'the rule started the job with the event id');
    assert.equal(execution.status, 'SUCCEEDED', `${execution.error}: ${execution.cause}`);
    // The strict run above left 198 at the tenant's own schema: those are stale now.
    assert.deepEqual([(execution.output as { rendered: number }).rendered, (execution.output as { skipped: number }).skipped], [198, 2]);
  });

  it('counts each original as what happened, renders it once, and orphans nothing when answers are lost', async () => {
    const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1', endpoint: twin.dynamodb!.endpoint }));
    const versions = new VersionMap(documents, LOCAL_TABLES.versions);
    const touched = ['img-020', 'img-021', 'img-022', 'img-023'];
    const before = new Map(await Promise.all(touched.map(async (id) => [id, (await versions.get('cat', id))!] as const)));
    // Each fails once between its side effects, beyond the SDK's own three attempts.
    proxies.s3!.inject({ match: { method: 'PUT', path: /^\/pictor-variants\/_staging\/cat\/img-020\/v\d+\/original/ }, status: 503, when: 'after', times: 3 });
    proxies.dynamodb!.inject({ match: { target: 'DynamoDB_20120810.UpdateItem', body: ['cat/img-023', 'publishedVersions'] }, status: 500, when: 'after', times: 3 });
    lostAnswers.set('render-variants', 'img-021');
    lostAnswers.set('publish-version', 'img-022');
    failing = false;
    const { execution } = await rerender('lost-answers', { tenant: 'cat' });
    failing = true;
    assert.equal(execution.status, 'SUCCEEDED', `${execution.error}: ${execution.cause}`);
    const summary = execution.output as { rendered: number; skipped: number; failed: number };
    assert.deepEqual([summary.rendered, summary.skipped, summary.failed], [200, 0, 0]);
    assert.equal(lostAnswers.size, 0, 'the answers were lost');
    for (const id of touched) {
      const record = (await versions.get('cat', id))!;
      const previous = before.get(id)!.version;
      assert.equal(record.version, previous + 1, `${id}: one new version, not two`);
      assert.deepEqual(record.publishedVersions.slice(-2), [previous, previous + 1], id);
      assert.equal(record.reservedVersion, record.version, `${id}: no version reserved and left unpublished`);
      for (const bucket of [BUCKETS.variants.bucket, BUCKETS.failoverVariants.bucket]) {
        assert.equal((await keys(twin, bucket, `cat/${id}/v${previous + 1}/`)).length, standardVariants(CONFIG.tenants.cat!).length, `${id} in ${bucket}`);
      }
    }
    for (const bucket of [BUCKETS.variants.bucket, BUCKETS.failoverVariants.bucket]) assert.deepEqual(await keys(twin, bucket, '_staging/'), [], `nothing orphaned in ${bucket}`);
    documents.destroy();
  });
});
