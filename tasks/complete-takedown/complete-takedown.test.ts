import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { memoryReports, RecordingPublisher } from '../shared/fakes.ts';
import type { Reports } from '../shared/reports.ts';
import { completeTakedown } from './complete-takedown.ts';

const NOW = new Date('2026-12-01T12:30:00.000Z');
const item = (imageId: string) => ({ tenant: 'shop', imageId, reason: 'dmca', requester: 'legal@example.com' });
const done = (imageId: string, verified = true) => ({ status: 'done', tenant: 'shop', imageId, auditKey: `takedowns/shop/${imageId}/b1.json`, invalidationId: 'I1', verified, failure: verified ? null : 'TakedownUnverified: 1 URL still answers' });

/** The batch's request and its map run's results, written as accept-takedown and the ResultWriter write them. */
async function arrange(reports: Reports, ids: string[], results: Partial<Record<'SUCCEEDED' | 'FAILED' | 'PENDING', unknown[]>>) {
  const request = await reports.put('takedowns/b1/request.json', ids.map(item));
  const files: Record<string, { Key: string }[]> = { SUCCEEDED: [], FAILED: [], PENDING: [] };
  for (const [status, entries] of Object.entries(results)) files[status]!.push({ Key: (await reports.put(`takedowns/b1/results/run/${status}_0.json`, entries)).key });
  const manifest = await reports.put('takedowns/b1/results/run/manifest.json', { DestinationBucket: 'reports', MapRunArn: 'arn:map-run', ResultFiles: files });
  return { batchId: 'b1', requestedAt: '2026-12-01T12:00:00.000Z', count: ids.length, request, results: { MapRunArn: 'arn:map-run', ResultWriterDetails: { Bucket: manifest.bucket, Key: manifest.key } } };
}
const entry = (imageId: string, status: string, output?: unknown, error?: string) => ({ Input: JSON.stringify({ item: item(imageId) }), Status: status, ...(output ? { Output: JSON.stringify(output) } : {}), ...(error ? { Error: error, Cause: 'it broke' } : {}) });

describe('completeTakedown', () => {
  it('writes the report and announces the batch, every image taken down and verified', async () => {
    // Arrange
    const { reports, store } = memoryReports();
    const events = new RecordingPublisher();
    const input = await arrange(reports, ['a', 'b'], { SUCCEEDED: [entry('a', 'SUCCEEDED', done('a')), entry('b', 'SUCCEEDED', done('b'))] });
    // Act
    const summary = await completeTakedown(input, { events, reports, now: () => NOW });
    // Assert
    assert.deepEqual(summary, { batchId: 'b1', requested: 2, takenDown: 2, incomplete: 0, report: { bucket: 'reports', key: 'takedowns/b1/report.json' } });
    const report = JSON.parse(store.text('takedowns/b1/report.json')!);
    assert.deepEqual(report.images.map((i: { imageId: string; status: string }) => `${i.imageId} ${i.status}`), ['a taken-down', 'b taken-down']);
    assert.equal(report.completedAt, NOW.toISOString());
    assert.deepEqual(events.of('Takedown Completed'), [{ schemaVersion: 2, batchId: 'b1', requested: 2, takenDown: 2, incomplete: 0, report: summary.report }]);
  });

  it('fails as TakedownIncomplete, after writing the report and announcing it, naming each image not taken down and why', async () => {
    const { reports, store } = memoryReports();
    const events = new RecordingPublisher();
    const input = await arrange(reports, ['a', 'b', 'c', 'd', 'e'], {
      SUCCEEDED: [entry('a', 'SUCCEEDED', done('a')), entry('b', 'SUCCEEDED', done('b', false)), entry('c', 'SUCCEEDED', { status: 'failed', tenant: 'shop', imageId: 'c', error: 'InvalidEvent', cause: 'No tenant' })],
      FAILED: [entry('d', 'FAILED', undefined, 'States.Timeout')],
    });
    await assert.rejects(completeTakedown(input, { events, reports, now: () => NOW }), (error: Error) => {
      assert.equal(error.name, 'TakedownIncomplete');
      assert.match(error.message, /^4 of 5 images were not taken down \(report s3:\/\/reports\/takedowns\/b1\/report\.json\)/);
      for (const why of ['shop/b: TakedownUnverified', 'shop/c: InvalidEvent No tenant', 'shop/d: States.Timeout it broke', 'shop/e: NoResult']) assert.ok(error.message.includes(why), why);
      return true;
    });
    const report = JSON.parse(store.text('takedowns/b1/report.json')!);
    assert.deepEqual(report.images.map((i: { status: string }) => i.status), ['taken-down', 'unverified', 'failed', 'failed', 'failed']);
    assert.equal(events.of('Takedown Completed')[0]!.incomplete, 4);
  });

  it('comes to the same report when run again, and passes a store failure on as OriginUnavailable', async () => {
    const { reports, store } = memoryReports();
    const events = new RecordingPublisher();
    const input = await arrange(reports, ['a'], { SUCCEEDED: [entry('a', 'SUCCEEDED', done('a'))] });
    assert.deepEqual(await completeTakedown(input, { events, reports, now: () => NOW }), await completeTakedown(input, { events, reports, now: () => NOW }));
    store.failing.add('get');
    await assert.rejects(completeTakedown(input, { events, reports, now: () => NOW }), { name: 'OriginUnavailable' });
    const quiet = new RecordingPublisher();
    quiet.failing.add('publish');
    store.failing.clear();
    await assert.rejects(completeTakedown(input, { events: quiet, reports, now: () => NOW }), { name: 'OriginUnavailable' });
  });
});
