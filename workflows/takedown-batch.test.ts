import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { Duration } from 'aws-cdk-lib';
import { LAMBDA_TRANSIENT_ERRORS } from './task-states.ts';
import { ImageOutcome } from '../tasks/complete-takedown/complete-takedown.ts';
import { INVALIDATION_POLL, MAX_INVALIDATION_DEADLINE, TAKEDOWN_CONCURRENCY, TAKEDOWN_RESULTS_PREFIX, TakedownBatch } from './takedown-batch.ts';
import {
  applyParameters,
  averageWait,
  functionArn,
  pathsAvoiding,
  REPORTS_BUCKET,
  retrierFor,
  synthesizeWorkflow,
  TASK_RETRIERS,
  wellFormedProblems,
  type Asl,
  type Retrier,
} from './test-support.ts';
import { ERRORS } from '../core/errors.ts';

// Not a round number, so that the Wait's Seconds can only come from it.
const LATE_WRITE_WINDOW = Duration.seconds(127);

let asl: Asl;
/** Each image's states: the Distributed Map's processor. */
let image: Asl;

before(() => {
  ({ asl } = synthesizeWorkflow(
    (stack, { fn, reports }) =>
      new TakedownBatch(stack, 'TakedownBatch', {
        lateWriteWindow: LATE_WRITE_WINDOW,
        functions: {
          'accept-takedown': fn('accept-takedown'),
          'inventory-image': fn('inventory-image'),
          'erase-objects': fn('erase-objects'),
          'invalidate-image': fn('invalidate-image'),
          'check-invalidation': fn('check-invalidation'),
          'verify-gone': fn('verify-gone'),
          'record-takedown': fn('record-takedown'),
          'complete-takedown': fn('complete-takedown'),
        },
        reports,
      }),
  ));
  image = asl.States['Take Down Each Image'].ItemProcessor;
});

/** What a Task made by taskState() hands its function: the whole state and the execution id. */
const TASK_PARAMETERS = { 'input.$': '$', 'executionId.$': '$$.Execution.Id' };

describe('TakedownBatch, on a bare stack', () => {
  it('is well formed: every state reachable, every path ends, every error name from core', () => {
    assert.deepEqual(wellFormedProblems(asl), []);
  });

  it('accepts the request, takes each image down in a Distributed Map, then completes the batch, failing with the error of any of those', () => {
    assert.equal(asl.StartAt, 'Accept Takedown');
    assert.deepEqual(Object.keys(asl.States).sort(), ['Accept Takedown', 'Complete Takedown', 'Take Down Each Image', 'Takedown Failed', 'Taken Down']);
    const failed = [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Takedown Failed' }];
    assert.deepEqual(asl.States['Accept Takedown'], {
      Type: 'Task',
      Resource: functionArn('accept-takedown'),
      Parameters: TASK_PARAMETERS,
      Retry: TASK_RETRIERS,
      Catch: failed,
      Next: 'Take Down Each Image',
    });
    assert.equal(asl.States['Take Down Each Image'].Next, 'Complete Takedown');
    // A map run that fails outright (States.ItemReaderFailed, ResultWriterFailed) fails the batch with its error.
    assert.deepEqual(asl.States['Take Down Each Image'].Catch, failed);
    assert.equal('Retry' in asl.States['Take Down Each Image'], false);
    // Complete fails the batch as TakedownIncomplete, naming the images: caught, that is its Error.
    assert.deepEqual(asl.States['Complete Takedown'], {
      Type: 'Task',
      Resource: functionArn('complete-takedown'),
      Parameters: TASK_PARAMETERS,
      Retry: TASK_RETRIERS,
      Catch: failed,
      Next: 'Taken Down',
    });
    assert.ok(!asl.States['Complete Takedown'].Retry.some((r: Retrier) => r.ErrorEquals.includes(ERRORS.TakedownIncomplete)));
    assert.deepEqual(asl.States['Taken Down'], { Type: 'Succeed' });
    assert.deepEqual(asl.States['Takedown Failed'], { Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.error.Cause' });
  });

  it('reads the accepted items from the reports bucket, all of them, and writes each image\'s result back there', () => {
    const map = asl.States['Take Down Each Image'];
    assert.equal(map.Type, 'Map');
    // No MaxItems: a cap here would leave the images past it up, silently.
    assert.deepEqual(map.ItemReader, { Resource: 'arn:aws:states:::s3:getObject', ReaderConfig: { InputType: 'JSON' }, Parameters: { Bucket: REPORTS_BUCKET, 'Key.$': '$.request.key' } });
    assert.deepEqual(map.ItemSelector, { 'batchId.$': '$.batchId', 'requestedAt.$': '$.requestedAt', 'item.$': '$$.Map.Item.Value' });
    assert.deepEqual(map.ResultWriter, { Resource: 'arn:aws:states:::s3:putObject', Parameters: { Bucket: REPORTS_BUCKET, Prefix: TAKEDOWN_RESULTS_PREFIX } });
    assert.equal(map.ResultPath, '$.results');
    // Every image's failure is caught and reported; Complete decides, so the map itself tolerates all.
    assert.equal(map.ToleratedFailurePercentage, 100);
    assert.equal('ToleratedFailureCount' in map, false);
    // Each image may wait hours for its invalidation: an Express child would stop at 5 minutes.
    assert.deepEqual(map.ItemProcessor.ProcessorConfig, { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' });
  });

  it('takes down at most TAKEDOWN_CONCURRENCY images at once, however throttled: nothing inside an image runs in parallel', () => {
    const map = asl.States['Take Down Each Image'];
    assert.equal(map.MaxConcurrency, TAKEDOWN_CONCURRENCY);
    // 0 would mean as many as Step Functions allows (10,000 children at once).
    assert.ok(TAKEDOWN_CONCURRENCY > 0 && !('MaxConcurrencyPath' in map));
    for (const [name, state] of Object.entries(image.States)) assert.ok(!['Map', 'Parallel'].includes(state.Type), `${name} is a ${state.Type}`);
    // A throttle is waited out inside the image's own child, which keeps its place and takes no other.
    for (const [name, state] of Object.entries(image.States).filter(([, s]) => s.Type === 'Task')) {
      assert.ok(LAMBDA_TRANSIENT_ERRORS.every((e) => state.Retry[0].ErrorEquals.includes(e)), `${name} retries Lambda's throttling`);
    }
  });

  it('tombstones and lists, erases, outlasts late writers, sweeps, invalidates, waits for it, verifies, then records, each task given the image\'s state', () => {
    assert.equal(image.StartAt, 'Inventory Image');
    const path: string[] = [];
    for (let name: string | undefined = image.StartAt; name; ) {
      path.push(name);
      const state: any = image.States[name];
      name = state.Type === 'Choice' ? state.Choices.find((c: { StringEquals?: string }) => c.StringEquals === 'Completed')?.Next : state.Next;
    }
    assert.deepEqual(path, [
      'Inventory Image',
      'Erase Objects',
      'Outlast Late Writes',
      'Sweep Late Writes',
      'Invalidate Image',
      'Invalidation Completed?',
      'Verify Gone',
      'Record Takedown',
      'Image Taken Down',
    ]);
    const calls = Object.fromEntries(
      Object.entries(image.States)
        .filter(([, s]) => s.Type === 'Task')
        .map(([name, s]) => [name, [s.Resource, s.ResultPath]]),
    );
    assert.deepEqual(calls, {
      'Inventory Image': [functionArn('inventory-image'), '$.inventory'],
      'Erase Objects': [functionArn('erase-objects'), '$.erase'],
      // The same task, a second pass: what was written after the first.
      'Sweep Late Writes': [functionArn('erase-objects'), '$.sweep'],
      'Invalidate Image': [functionArn('invalidate-image'), '$.invalidation'],
      'Check Invalidation': [functionArn('check-invalidation'), '$.invalidation'],
      'Verify Gone': [functionArn('verify-gone'), '$.verification'],
      'Record Takedown': [functionArn('record-takedown'), '$.audit'],
    });
    for (const name of Object.keys(calls)) {
      assert.deepEqual(image.States[name].Parameters, TASK_PARAMETERS, name);
      assert.deepEqual(image.States[name].Retry.slice(0, 3), TASK_RETRIERS, name);
    }
  });

  it('sweeps only after the late-write window, a fixed wait of the whole window', () => {
    assert.deepEqual(image.States['Outlast Late Writes'], { Type: 'Wait', Seconds: LATE_WRITE_WINDOW.toSeconds(), Next: 'Sweep Late Writes' });
  });

  it('erases, and sweeps, only once S3 has replicated what it erases, waiting for as long as Replication Time Control may take', () => {
    for (const name of ['Erase Objects', 'Sweep Late Writes']) {
      const retry = retrierFor(image.States[name], ERRORS.ReplicationPending);
      assert.deepEqual(retry, { ErrorEquals: [ERRORS.ReplicationPending], IntervalSeconds: 5, MaxAttempts: 35, BackoffRate: 2, MaxDelaySeconds: 60, JitterStrategy: 'FULL' }, name);
      assert.ok(averageWait(retry) >= 15 * 60, `${name} waits ${averageWait(retry)} s on average`);
      assert.deepEqual(image.States[name].Retry, [...TASK_RETRIERS, retry], name);
    }
  });

  it('waits for room in the invalidation quota for about 45 minutes, with full jitter, before the image fails', () => {
    const invalidate = image.States['Invalidate Image'];
    const retry = retrierFor(invalidate, ERRORS.TooManyInvalidationsInProgress);
    assert.deepEqual(retry, { ErrorEquals: [ERRORS.TooManyInvalidationsInProgress], IntervalSeconds: 5, MaxAttempts: 90, BackoffRate: 2, MaxDelaySeconds: 60, JitterStrategy: 'FULL' });
    const minutes = averageWait(retry) / 60;
    assert.ok(minutes > 40 && minutes < 50, `${minutes} minutes on average`);
    assert.deepEqual(invalidate.Retry, [...TASK_RETRIERS, retry]);
    assert.equal(invalidate.Next, 'Invalidation Completed?');
  });

  it('polls the invalidation every 15 s until it completes, or until check-invalidation fails it past the deadline, which is caught into the audit record', () => {
    assert.deepEqual(image.States['Invalidation Completed?'], {
      Type: 'Choice',
      Choices: [{ Variable: '$.invalidation.status', StringEquals: 'Completed', Next: 'Verify Gone' }],
      Default: 'Wait For Invalidation',
    });
    assert.deepEqual(image.States['Wait For Invalidation'], { Type: 'Wait', Seconds: INVALIDATION_POLL.toSeconds(), Next: 'Check Invalidation' });
    const check = image.States['Check Invalidation'];
    assert.equal(check.Next, 'Invalidation Completed?');
    // The deadline is InvalidationTimedOut, thrown by the task: retried, the loop would outlive it.
    assert.deepEqual(check.Retry, TASK_RETRIERS);
    assert.ok(!check.Retry.some((r: Retrier) => r.ErrorEquals.includes(ERRORS.InvalidationTimedOut)));
    assert.deepEqual(check.Catch, [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'Record Takedown' }]);
    // The loop's only ways out: completed, or failed into the record.
    const loop = new Set(['Invalidation Completed?', 'Wait For Invalidation', 'Check Invalidation']);
    const exits = [...loop].flatMap((name) => {
      const s = image.States[name];
      return [s.Next, s.Default, ...(s.Choices ?? []).map((c: { Next: string }) => c.Next), ...(s.Catch ?? []).map((c: { Next: string }) => c.Next)];
    });
    assert.deepEqual([...new Set(exits.filter((n) => n && !loop.has(n)))].sort(), ['Record Takedown', 'Verify Gone']);
  });

  it("keeps an image's history within 25,000 events at the longest deadline, every retry of every step used once", () => {
    // AWS's events, as the twin counts them (local/pipeline/history.ts): a Task 5 and 3 a retry, Wait, Choice and Pass 2.
    const events = (state: any): number => (state.Type === 'Task' ? 5 + 3 * state.Retry.reduce((n: number, r: Retrier) => n + r.MaxAttempts!, 0) : 2);
    const poll = events({ Type: 'Wait' }) + 5 + events({ Type: 'Choice' });
    const polls = MAX_INVALIDATION_DEADLINE.toSeconds() / image.States['Wait For Invalidation'].Seconds;
    const once = Object.values(image.States).reduce((n, s) => n + events(s), 0);
    const total = 2 + once + polls * poll;
    assert.ok(total < 25_000, `${polls} polls of ${poll} events and ${once} for the rest: ${total} events`);
  });

  it('verifies the URLs are gone, giving edge caches about a minute to catch up with a completed invalidation', () => {
    const verify = image.States['Verify Gone'];
    const retry = retrierFor(verify, ERRORS.TakedownUnverified);
    assert.deepEqual(retry, { ErrorEquals: [ERRORS.TakedownUnverified], IntervalSeconds: 10, MaxAttempts: 3, BackoffRate: 2, JitterStrategy: 'FULL' });
    assert.deepEqual(verify.Retry, [...TASK_RETRIERS, retry]);
    assert.equal(verify.Next, 'Record Takedown');
    assert.deepEqual(verify.Catch, [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'Record Takedown' }]);
  });

  it('cannot skip the audit record on any path once anything may have been erased', () => {
    const erasing = Object.entries(image.States).filter(([, s]) => s.Resource === functionArn('erase-objects'));
    assert.deepEqual(erasing.map(([name]) => name), ['Erase Objects', 'Sweep Late Writes']);
    const record = new Set(['Record Takedown']);
    for (const [name] of erasing) assert.deepEqual(pathsAvoiding(image, name, record), [], `${name}: a path that ends without the record`);
    // The one path without a record fails the inventory, which deletes nothing.
    assert.deepEqual(pathsAvoiding(image, image.StartAt, record), [['Inventory Image', 'Image Failed']]);
    // Every step after the inventory hands its error to the record, where record-takedown reads it (failure).
    for (const name of ['Erase Objects', 'Sweep Late Writes', 'Invalidate Image', 'Check Invalidation', 'Verify Gone']) {
      assert.deepEqual(image.States[name].Catch, [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'Record Takedown' }], name);
    }
    assert.deepEqual(image.States['Inventory Image'].Catch, [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Image Failed' }]);
    assert.deepEqual(image.States['Record Takedown'].Catch, [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Image Failed' }]);
    assert.equal(image.States['Record Takedown'].Next, 'Image Taken Down');
  });

  it('ends each image done or failed, in the shape complete-takedown reads', () => {
    const ends = Object.entries(image.States).filter(([, s]) => s.End);
    assert.deepEqual(ends.map(([name]) => name).sort(), ['Image Failed', 'Image Taken Down']);
    const item = { tenant: 'shop', imageId: 'p01', reason: 'dmca', requester: 'legal@example.com' };
    const done = applyParameters(image.States['Image Taken Down'].Parameters, {
      item,
      audit: { auditKey: 'takedowns/shop/p01/b1.json', invalidationId: 'I1', verified: false, failure: 'TakedownUnverified: still served' },
    });
    assert.deepEqual(ImageOutcome.parse(done), { status: 'done', tenant: 'shop', imageId: 'p01', auditKey: 'takedowns/shop/p01/b1.json', invalidationId: 'I1', verified: false, failure: 'TakedownUnverified: still served' });
    const failed = applyParameters(image.States['Image Failed'].Parameters, { item, error: { Error: ERRORS.InvalidEvent, Cause: 'no such tenant' } });
    assert.deepEqual(ImageOutcome.parse(failed), { status: 'failed', tenant: 'shop', imageId: 'p01', error: ERRORS.InvalidEvent, cause: 'no such tenant' });
  });
});
