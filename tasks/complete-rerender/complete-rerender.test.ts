import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { RerenderCompletedV1 } from '../../events/schemas/pictor-events.ts';
import { MemoryS3, RecordingPublisher, type MemoryBucket } from '../shared/fakes.ts';
import { rerenderKeys, type RerenderJob } from '../shared/rerender-state.ts';
import { completeRerender } from './complete-rerender.ts';

const BUCKET = 'pictor-reports';
let reports: MemoryBucket;

const job = (jobId: string, toleratedFailurePercentage = 100): RerenderJob => ({
  jobId,
  tenants: ['cat'],
  tenant: 'cat',
  onlyStale: false,
  toleratedFailurePercentage,
  pageSize: 1000,
  pagesPerExecution: 200,
  resultsPrefix: rerenderKeys.results(jobId),
});

function recorder() {
  const events = new RecordingPublisher();
  return { events, sent: events.sent };
}

/** Failure files as Tally writes them: one JSON array per page, 1,000 long-id failures with long causes each. */
async function failurePages(jobId: string, pages: number[]) {
  for (const page of pages) {
    const failures = Array.from({ length: 1000 }, (_, i) => ({ tenant: 'cat', imageId: `p${page}-${String(i).padStart(4, '0')}${'x'.repeat(118)}`, error: 'UnprocessableImage', cause: 'z'.repeat(4000) }));
    await reports.put(rerenderKeys.failures(jobId, page), JSON.stringify(failures), { contentType: 'application/json' });
  }
}

describe('completeRerender', () => {
  // Inside the describe: unit files share a process, where a top-level hook would run for every file's tests.
  beforeEach(() => {
    reports = new MemoryS3().bucket(BUCKET, { versioned: false });
  });

  it('writes the report with the first 100 failures and where the rest are, and announces a bounded event pointing at it', async () => {
    // Arrange: 3,000 failures over pages 0, 1 and 12 (the keys list in page order).
    await failurePages('big', [12, 0, 1]);
    const { events, sent } = recorder();
    const totals = { rendered: 7000, skipped: 5, failed: 3000, skippedBecause: { 'taken down': 5 }, pages: 13 };

    // Act
    const summary = await completeRerender({ job: job('big'), totals, part: { number: 3, pages: 1 }, exceeded: false }, { events, reports });

    // Assert
    const report = JSON.parse((await reports.get(rerenderKeys.report('big')))!.body.toString());
    assert.deepEqual([report.rendered, report.skipped, report.failed, report.pages, report.parts], [7000, 5, 3000, 13, 3]);
    assert.equal(report.failures.length, 100);
    assert.match(report.failures[0].imageId, /^p0-0000/);
    assert.equal(report.failures[0].cause.length, 4000, 'the report keeps causes whole');
    assert.equal(report.failuresOmitted, 2900);
    assert.deepEqual(report.failureFiles, { bucket: BUCKET, prefix: 'rerenders/big/failures/', count: 3 });
    assert.deepEqual(summary.report, { bucket: BUCKET, key: 'rerenders/big/report.json' });

    const [event] = sent;
    assert.equal(event!.detailType, 'Rerender Completed');
    const detail = RerenderCompletedV1.parse(event!.detail);
    assert.equal(detail.failures.length, 10);
    assert.ok(detail.failures.every((f) => f.cause.length <= 300));
    assert.equal(detail.failuresOmitted, 2990);
    assert.deepEqual(detail.report, summary.report);
    assert.ok(Buffer.byteLength(JSON.stringify(detail)) < 8 * 1024, `a few KB, far below EventBridge's 256 KB: ${Buffer.byteLength(JSON.stringify(detail))}`);
  });

  it('announces a job stopped at its threshold as aborted, then fails as TooManyFailures naming the report', async () => {
    await failurePages('strict', [0]);
    const { events, sent } = recorder();
    const totals = { rendered: 0, skipped: 0, failed: 1000, skippedBecause: {}, pages: 1 };
    await assert.rejects(
      completeRerender({ job: job('strict', 5), totals, part: { number: 1, pages: 1 }, exceeded: true }, { events, reports }),
      (error: Error) => error.name === 'TooManyFailures' && /1000 of 1000 originals failed, more than the 5% tolerated\. Report: s3:\/\/pictor-reports\/rerenders\/strict\/report\.json/.test(error.message),
    );
    assert.equal((sent[0]!.detail as { aborted: boolean }).aborted, true);
    assert.ok(await reports.get(rerenderKeys.report('strict')), 'the report is written first');
  });

  it('writes the same report when run again, and announces nothing when the report cannot be written (OriginUnavailable)', async () => {
    await failurePages('again', [0]);
    const totals = { rendered: 1, skipped: 0, failed: 1000, skippedBecause: {}, pages: 1 };
    const input = { job: job('again'), totals, part: { number: 1, pages: 1 }, exceeded: false };
    const { events } = recorder();
    const first = await completeRerender(input, { events, reports });
    const report = reports.text(rerenderKeys.report('again'));
    assert.deepEqual(await completeRerender(input, { events, reports }), first);
    assert.equal(reports.text(rerenderKeys.report('again')), report);

    const quiet = recorder();
    reports.failing.add('put');
    await assert.rejects(completeRerender(input, { events: quiet.events, reports }), { name: 'OriginUnavailable' });
    assert.equal(quiet.sent.length, 0);
  });
});

