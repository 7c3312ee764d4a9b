import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { parseConfig } from '../core/tenant-config.ts';
import { sampleImage } from '../local/sample-image.ts';
import { BUCKETS } from '../local/topology.ts';
import type { Twin } from '../local/twin.ts';
import { edge, keys, published, settle, upload, requester } from './support/pipeline-twin.ts';
import { useTwin } from './support/twin-fixture.ts';

const CONFIG = parseConfig({ tenants: { shop: { breakpoints: [160, 320], formats: ['webp'], variants: { widths: [160] } } } });

let twin: Twin;

// Every delivery made twice: EventBridge delivers at least once, so the pipeline must not care.
// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-retry-policy.html
const fixture = useTwin({ config: CONFIG, timeScale: 0.003, eventBus: { duplicateRate: 1, seed: 7 } });

before(async () => {
  twin = await fixture.started;
});

describe('with every event delivered twice', () => {
  it('publishes an upload once, as one version', async () => {
    await upload(twin, 'shop/twice', await sampleImage(320, 240));
    await settle(twin);
    const runs = twin.pipeline!.stepFunctions.list(twin.pipeline!.stateMachines.RenderOnUpload);
    assert.equal(runs.length, 2, 'the Object Created event started two executions');
    for (const run of runs) assert.equal(run.status, 'SUCCEEDED', `${run.error}: ${run.cause}`);
    const versions = new Set(published(twin, 'Version Bumped').map((e) => (e.detail as { version: number }).version));
    assert.deepEqual([...versions], [1]);
    assert.deepEqual(await keys(twin, BUCKETS.originals.bucket, '_versions/shop/twice/'), ['_versions/shop/twice/v1']);
    assert.equal((await edge(twin, '/img/shop/twice/v1?w=160&fmt=webp')).status, 200);
  });

  it('takes an image down once: one invalidation, one audit record, one report, every URL a 404', async () => {
    const invalidationsBefore = twin.invalidations.stats.created;
    const { events, bus } = await requester(twin, 'takedown');
    await events.send(
      new PutEventsCommand({
        Entries: [{ EventBusName: bus, Source: 'pictor', DetailType: 'Takedown Requested', Detail: JSON.stringify({ schemaVersion: 1, items: [{ tenant: 'shop', imageId: 'twice', reason: 'dmca', requester: 'legal@example.com' }] }) }],
      }),
    );
    events.destroy();
    await settle(twin);
    const runs = twin.pipeline!.stepFunctions.list(twin.pipeline!.stateMachines.TakedownBatch);
    assert.equal(runs.length, 2, 'the Takedown Requested event started two executions');
    for (const run of runs) assert.equal(run.status, 'SUCCEEDED', `${run.error}: ${run.cause}`);
    // Both executions are the same batch, named by the event id: the same CallerReference, the same audit key.
    assert.equal(twin.invalidations.stats.created - invalidationsBefore, 1);
    assert.equal((await keys(twin, BUCKETS.audit.bucket, 'takedowns/shop/twice/')).length, 1);
    assert.equal(new Set(published(twin, 'Takedown Completed').map((e) => JSON.stringify((e.detail as { report: unknown }).report))).size, 1);
    for (const url of ['/img/shop/twice/v1?w=160&fmt=webp', '/img/shop/twice?w=160&fmt=webp']) assert.equal((await edge(twin, url)).status, 404, url);
  });
});
