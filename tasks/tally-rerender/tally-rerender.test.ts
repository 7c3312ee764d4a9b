import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { MemoryS3, type MemoryBucket } from '../shared/fakes.ts';
import { rerenderKeys, type RerenderJob, STATE_LIMIT_BYTES, stateBytes } from '../shared/rerender-state.ts';
import { causeText, tallyRerender } from './tally-rerender.ts';

const BUCKET = 'pictor-reports';
let reports: MemoryBucket;

const job: RerenderJob = {
  jobId: 'job-1',
  tenants: ['cat'],
  tenant: 'cat',
  onlyStale: false,
  toleratedFailurePercentage: 50,
  pageSize: 4,
  pagesPerExecution: 2,
  resultsPrefix: rerenderKeys.results('job-1'),
};
const image = (imageId: string) => ({ tenant: 'cat', imageId });
const input = (imageId: string) => JSON.stringify({ job, image: image(imageId) });

/** Writes a map run's results as ResultWriter does (Transformation NONE, OutputType JSON) and returns the Map state's result. */
async function mapRun(id: string, files: Partial<Record<'SUCCEEDED' | 'FAILED' | 'PENDING', unknown[]>>) {
  const base = `${job.resultsPrefix}/${id}`;
  const resultFiles: Record<string, { Key: string; Size: number }[]> = { FAILED: [], PENDING: [], SUCCEEDED: [] };
  for (const [status, entries] of Object.entries(files)) {
    const body = JSON.stringify(entries);
    await reports.put(`${base}/${status}_0.json`, body, { contentType: 'application/json' });
    resultFiles[status]!.push({ Key: `${base}/${status}_0.json`, Size: body.length });
  }
  const arn = `arn:aws:states:us-east-1:000000000000:mapRun:Pictor-CatalogueRerender/Render Each Original:${id}`;
  await reports.put(`${base}/manifest.json`, JSON.stringify({ DestinationBucket: BUCKET, MapRunArn: arn, ResultFiles: resultFiles }), { contentType: 'application/json' });
  return { MapRunArn: arn, ResultWriterDetails: { Bucket: BUCKET, Key: `${base}/manifest.json` } };
}

const succeeded = (imageId: string, output: unknown) => ({ ExecutionArn: `arn:x:${imageId}`, Input: input(imageId), InputDetails: { Included: true }, Output: JSON.stringify(output), OutputDetails: { Included: true }, Status: 'SUCCEEDED' });
const failed = (imageId: string, error: string, cause: string) => ({ ExecutionArn: `arn:x:${imageId}`, Input: input(imageId), InputDetails: { Included: true }, Error: error, Cause: cause, Status: 'FAILED' });
const totals = { rendered: 10, skipped: 1, failed: 0, skippedBecause: { 'taken down': 1 }, pages: 3 };

describe('tallyRerender, from the map run\'s result files', () => {
  // Inside the describe: unit files share a process, where a top-level hook would run for every file's tests.
  beforeEach(() => {
    reports = new MemoryS3().bucket(BUCKET, { versioned: false });
  });

  it('counts every listed original once, writes the page\'s failures, and keeps counts only', async () => {
    // Arrange: one rendered, one skipped, one caught inside its child, one whose child failed, and
    // a fifth listed original the results do not name.
    const run = await mapRun('run-1', {
      SUCCEEDED: [
        succeeded('a', { status: 'rendered', ...image('a'), version: 2 }),
        succeeded('b', { status: 'skipped', ...image('b'), reason: 'taken down' }),
        succeeded('c', { status: 'failed', ...image('c'), error: 'UnprocessableImage', cause: JSON.stringify({ errorType: 'UnprocessableImage', errorMessage: 'c no longer decodes', trace: [] }) }),
        // A duplicate entry for an original already counted is not counted again.
        succeeded('a', { status: 'rendered', ...image('a'), version: 2 }),
      ],
      FAILED: [failed('d', 'States.Timeout', 'The child execution timed out.')],
    });
    const items = ['a', 'b', 'c', 'd', 'e'].map(image);

    // Act
    const tally = await tallyRerender({ job, totals, part: { number: 1, pages: 0 }, page: { items, cursor: { tenantIndex: 0, token: 't' }, run } }, { reports });

    // Assert
    assert.deepEqual(tally.totals, { rendered: 11, skipped: 2, failed: 3, skippedBecause: { 'taken down': 2 }, pages: 4 });
    assert.deepEqual([tally.next, tally.exceeded, tally.part], ['list', false, { number: 1, pages: 1 }]);
    const written = JSON.parse((await reports.get(rerenderKeys.failures('job-1', 3)))!.body.toString());
    assert.deepEqual(written, [
      { tenant: 'cat', imageId: 'c', error: 'UnprocessableImage', cause: 'c no longer decodes' },
      { tenant: 'cat', imageId: 'd', error: 'States.Timeout', cause: 'The child execution timed out.' },
      { tenant: 'cat', imageId: 'e', error: 'ResultMissing', cause: "The map run's results do not name this original." },
    ]);
    assert.ok(!('page' in tally) && stateBytes(tally) < 2048, `the state keeps counts only: ${stateBytes(tally)} bytes`);
  });

  it('continues as a new execution after its share of pages, under a name each retry repeats', async () => {
    const run = await mapRun('run-2', { SUCCEEDED: [succeeded('a', { status: 'rendered', ...image('a'), version: 3 })] });
    const page = { items: [image('a')], cursor: { tenantIndex: 0, token: 'next' }, run };
    const first = await tallyRerender({ job, totals, part: { number: 2, pages: 1 }, page }, { reports });
    const again = await tallyRerender({ job, totals, part: { number: 2, pages: 1 }, page }, { reports });
    assert.deepEqual(first, again);
    assert.equal(first.next, 'continue');
    assert.deepEqual(first.continuation, { part: 3, name: 'job-1-part-3' });
    assert.deepEqual(first.cursor, { tenantIndex: 0, token: 'next' });
    // The last page completes the job, however many pages the part has had.
    const last = await tallyRerender({ job, totals, part: { number: 2, pages: 1 }, page: { ...page, cursor: undefined } }, { reports });
    assert.deepEqual([last.next, last.continuation], ['complete', undefined]);
  });

  it('stops at the job\'s threshold, and counts items a map run never started as failed', async () => {
    const run = await mapRun('run-3', { PENDING: [{ Input: input('a'), InputDetails: { Included: true }, Status: 'PENDING' }] });
    const tally = await tallyRerender({ job, totals: { ...totals, rendered: 0, skipped: 0 }, part: { number: 1, pages: 0 }, page: { items: [image('a')], cursor: { tenantIndex: 0, token: 't' }, run } }, { reports });
    assert.deepEqual([tally.totals.failed, tally.exceeded, tally.next], [1, true, 'complete']);
  });

  it('keeps a page of 1,000 failures with 128-character ids in S3, its state a few hundred bytes', async () => {
    const ids = Array.from({ length: 1000 }, (_, i) => `${String(i).padStart(4, '0')}${'x'.repeat(124)}`);
    const run = await mapRun('run-4', { FAILED: ids.map((id) => failed(id, 'UnprocessableImage', `${id} does not decode: ${'y'.repeat(200)}`)) });
    const items = ids.map(image);
    assert.ok(stateBytes({ job, totals, part: { number: 1, pages: 0 }, page: { items, run } }) < STATE_LIMIT_BYTES, 'the page itself fits');
    const tally = await tallyRerender({ job: { ...job, toleratedFailurePercentage: 100 }, totals, part: { number: 1, pages: 0 }, page: { items, run } }, { reports });
    assert.equal(tally.totals.failed, 1000);
    assert.equal(JSON.parse((await reports.get(rerenderKeys.failures('job-1', 3)))!.body.toString()).length, 1000);
    assert.ok(stateBytes(tally) < 2048);
  });

  it('reads a Lambda failure\'s Cause as its message, and any other Cause as it is', () => {
    assert.equal(causeText(JSON.stringify({ errorType: 'X', errorMessage: 'went wrong', trace: ['a'] })), 'went wrong');
    assert.equal(causeText('plain words'), 'plain words');
    assert.equal(causeText('{"not":"lambda"}'), '{"not":"lambda"}');
  });

  it('fails as InternalError when the map run\'s results are missing, unreadable or elsewhere, and as OriginUnavailable when the bucket fails', async () => {
    const page = (run: { MapRunArn: string; ResultWriterDetails: { Bucket: string; Key: string } }) => ({ job, totals, part: { number: 1, pages: 0 }, page: { items: [image('a')], run } });
    const run = await mapRun('run-5', { SUCCEEDED: [succeeded('a', { status: 'rendered', ...image('a'), version: 1 })] });
    await reports.put(`${job.resultsPrefix}/run-6/manifest.json`, 'not json', { contentType: 'application/json' });
    const cases = [
      { name: 'no manifest', run: { ...run, ResultWriterDetails: { Bucket: BUCKET, Key: 'nowhere/manifest.json' } }, error: 'InternalError' },
      { name: 'a manifest that is not JSON', run: { ...run, ResultWriterDetails: { Bucket: BUCKET, Key: `${job.resultsPrefix}/run-6/manifest.json` } }, error: 'InternalError' },
      { name: 'results in another bucket', run: { ...run, ResultWriterDetails: { Bucket: 'elsewhere', Key: run.ResultWriterDetails.Key } }, error: 'InternalError' },
    ];
    for (const c of cases) await assert.rejects(tallyRerender(page(c.run), { reports }), { name: c.error }, c.name);
    reports.failing.add('get');
    await assert.rejects(tallyRerender(page(run), { reports }), { name: 'OriginUnavailable' });
  });
});

