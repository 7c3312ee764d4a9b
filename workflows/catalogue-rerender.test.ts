import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { EVENTS_PER_EXECUTION, EVENTS_PER_PAGE, ItemResult, WORST_EVENTS_PER_PAGE } from '../tasks/shared/rerender-state.ts';
import { CatalogueRerender, RERENDER_CONCURRENCY, START_EXECUTION_ERRORS } from './catalogue-rerender.ts';
import { IDEMPOTENCY_IN_PROGRESS, IDEMPOTENCY_RECORD_GONE, LAMBDA_TRANSIENT_ERRORS } from './task-states.ts';
import {
  applyParameters,
  averageWait,
  BARE_ENV,
  functionArn,
  REPORTS_BUCKET,
  retrierFor,
  synthesizeWorkflow,
  TASK_RETRIERS,
  wellFormedProblems,
  type Asl,
  type BareWorkflow,
  type Retrier,
} from './test-support.ts';
import { ERRORS } from '../core/errors.ts';

const NAME = 'Bare-CatalogueRerender';

let bare: BareWorkflow<CatalogueRerender>;
let asl: Asl;
/** Each original's states: the Distributed Map's processor. */
let original: Asl;

before(() => {
  bare = synthesizeWorkflow(
    (stack, { fn, reports }) =>
      new CatalogueRerender(stack, 'CatalogueRerender', {
        stateMachineName: NAME,
        reports,
        functions: {
          'plan-rerender': fn('plan-rerender'),
          'list-originals': fn('list-originals'),
          'prepare-rerender': fn('prepare-rerender'),
          'render-variants': fn('render-variants'),
          'publish-version': fn('publish-version'),
          'tally-rerender': fn('tally-rerender'),
          'complete-rerender': fn('complete-rerender'),
        },
      }),
  );
  asl = bare.asl;
  original = asl.States['Render Each Original'].ItemProcessor;
});

const TASK_PARAMETERS = { 'input.$': '$', 'executionId.$': '$$.Execution.Id' };
const JOB_FAILED = [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Rerender Failed' }];
const ORIGINAL_FAILED = [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Original Failed' }];

describe('CatalogueRerender, on a bare stack', () => {
  it('is well formed: every state reachable, every path ends, every error name from core', () => {
    assert.deepEqual(wellFormedProblems(asl), []);
  });

  it('plans, then lists a page, renders it and tallies it, each step failing the job with its error', () => {
    assert.equal(asl.StartAt, 'Plan Rerender');
    const task = (fn: string, next: string, resultPath?: string) => ({
      Type: 'Task',
      Resource: functionArn(fn),
      Parameters: TASK_PARAMETERS,
      ...(resultPath ? { ResultPath: resultPath } : {}),
      Retry: TASK_RETRIERS,
      Catch: JOB_FAILED,
      Next: next,
    });
    assert.deepEqual(asl.States['Plan Rerender'], task('plan-rerender', 'List Originals'));
    assert.deepEqual(asl.States['List Originals'], task('list-originals', 'Render Each Original', '$.page'));
    assert.equal(asl.States['Render Each Original'].Next, 'Tally Page');
    // Tally fails the job as TooManyFailures past its threshold: caught, never retried, that is the job's Error.
    assert.deepEqual(asl.States['Tally Page'], task('tally-rerender', 'Go On?'));
    assert.deepEqual(asl.States['Complete Rerender'], task('complete-rerender', 'Rerendered'));
    for (const name of ['Plan Rerender', 'List Originals', 'Tally Page', 'Complete Rerender']) {
      const retried = asl.States[name].Retry.flatMap((r: Retrier) => r.ErrorEquals);
      for (const permanent of [ERRORS.TooManyFailures, ERRORS.StateTooLarge, ERRORS.InvalidConfig, ERRORS.InvalidEvent]) assert.ok(!retried.includes(permanent), `${name} retries ${permanent}`);
    }
    assert.deepEqual(asl.States['Rerendered'], { Type: 'Succeed' });
    assert.deepEqual(asl.States['Rerender Failed'], { Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.error.Cause' });
  });

  it('lists again, continues as a new execution of itself, or completes, as Tally says', () => {
    assert.deepEqual(asl.States['Go On?'], {
      Type: 'Choice',
      Choices: [
        { Variable: '$.next', StringEquals: 'list', Next: 'List Originals' },
        { Variable: '$.next', StringEquals: 'continue', Next: 'Continue As New' },
      ],
      Default: 'Complete Rerender',
    });
  });

  it("renders a page's originals as a Distributed Map, 40 at once, and keeps only where their results are", () => {
    const map = asl.States['Render Each Original'];
    assert.equal(map.Type, 'Map');
    // From the state, not an ItemReader: the twin runs this very definition.
    assert.equal(map.ItemsPath, '$.page.items');
    assert.equal('ItemReader' in map, false);
    assert.deepEqual(map.ItemSelector, { 'job.$': '$.job', 'image.$': '$$.Map.Item.Value' });
    assert.equal(map.MaxConcurrency, RERENDER_CONCURRENCY);
    assert.ok(RERENDER_CONCURRENCY > 0 && !('MaxConcurrencyPath' in map), 'a bound, not as many as Step Functions allows');
    // The job's threshold decides, in Tally, over the whole job.
    assert.equal(map.ToleratedFailurePercentage, 100);
    assert.equal('ToleratedFailureCount' in map, false);
    assert.deepEqual(map.ResultWriter, { Resource: 'arn:aws:states:::s3:putObject', Parameters: { Bucket: REPORTS_BUCKET, 'Prefix.$': '$.job.resultsPrefix' } });
    assert.equal(map.ResultPath, '$.page.run');
    // A map run that fails outright (its writer, say) fails the job with its error.
    assert.deepEqual(map.Catch, JOB_FAILED);
    assert.equal('Retry' in map, false);
    // A publish waits up to about an hour for replication: an Express child would stop at 5 minutes.
    assert.deepEqual(map.ItemProcessor.ProcessorConfig, { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' });
  });

  it('prepares each original, renders it from the prepared upload, and publishes the upload merged with the render', () => {
    assert.equal(original.StartAt, 'Prepare Rerender');
    const task = (fn: string, next: string, input: string, resultPath: string) => ({
      Type: 'Task',
      Resource: functionArn(fn),
      Parameters: { 'input.$': input, 'executionId.$': '$$.Execution.Id' },
      ResultPath: resultPath,
      Retry: TASK_RETRIERS,
      Catch: ORIGINAL_FAILED,
      Next: next,
    });
    assert.deepEqual(original.States['Prepare Rerender'], task('prepare-rerender', 'Render It?', '$', '$.upload'));
    assert.deepEqual(original.States['Render It?'], {
      Type: 'Choice',
      Choices: [{ Variable: '$.upload.action', StringEquals: 'render', Next: 'Render Variants' }],
      Default: 'Original Skipped',
    });
    assert.deepEqual(original.States['Render Variants'], task('render-variants', 'Rendered?', '$.upload', '$.render'));
    assert.deepEqual(original.States['Rendered?'], {
      Type: 'Choice',
      Choices: [{ Variable: '$.render.outcome', StringEquals: 'rendered', Next: 'Prepare Publish' }],
      Default: 'Render Superseded',
    });
    assert.deepEqual(original.States['Prepare Publish'], {
      Type: 'Pass',
      Parameters: { 'image.$': '$.image', 'upload.$': 'States.JsonMerge($.upload, $.render, false)' },
      Next: 'Publish Version',
    });
    const publish = original.States['Publish Version'];
    assert.deepEqual({ ...publish, Retry: publish.Retry.slice(0, 3) }, task('publish-version', 'Published?', '$.upload', '$.publish'));
    assert.deepEqual(original.States['Published?'], {
      Type: 'Choice',
      Choices: [{ Variable: '$.publish.published', BooleanEquals: true, Next: 'Original Rendered' }],
      Default: 'Publish Superseded',
    });
  });

  it('publishes once replication has delivered the snapshot and then the pointer, waiting for as long as S3 may take for each, before the original counts as failed', () => {
    const publish = original.States['Publish Version'];
    const retry = retrierFor(publish, ERRORS.ReplicationPending);
    assert.deepEqual(retry, { ErrorEquals: [ERRORS.ReplicationPending], IntervalSeconds: 5, MaxAttempts: 65, BackoffRate: 2, MaxDelaySeconds: 60, JitterStrategy: 'FULL' });
    assert.ok(averageWait(retry) >= 2 * 15 * 60, `waits ${averageWait(retry)} s on average, Replication Time Control's 15 minutes twice`);
    assert.deepEqual(publish.Retry, [...TASK_RETRIERS, retry]);
  });

  it('never fails the job for one original: a bad original, like any error, ends that original as failed, with its error', () => {
    for (const [name, state] of Object.entries(original.States).filter(([, s]) => s.Type === 'Task')) {
      assert.deepEqual(state.Catch, ORIGINAL_FAILED, name);
      // A bad original is reported as failed at a re-render, not quarantined: it was published before.
      for (const rejection of [ERRORS.UnprocessableImage, ERRORS.ImageTooLarge]) assert.ok(!state.Retry.some((r: Retrier) => r.ErrorEquals.includes(rejection)), `${name} retries ${rejection}`);
    }
  });

  it('ends each original rendered, skipped or failed, in the shape Tally reads from the results', () => {
    const ends = Object.entries(original.States).filter(([, s]) => s.End);
    assert.deepEqual(ends.map(([name]) => name).sort(), ['Original Failed', 'Original Rendered', 'Original Skipped', 'Publish Superseded', 'Render Superseded']);
    const data = {
      job: { jobId: 'j1' },
      image: { tenant: 'shop', imageId: 'p01' },
      upload: { action: 'skip', reason: 'taken down' },
      render: { outcome: 'superseded', reason: 'a newer upload' },
      publish: { published: true, version: 4, reason: 'a newer version' },
      error: { Error: ERRORS.UnprocessableImage, Cause: 'not an image' },
    };
    const results = Object.fromEntries(ends.map(([name, state]) => [name, ItemResult.parse(applyParameters(state.Parameters, data))]));
    assert.deepEqual(results, {
      'Original Rendered': { status: 'rendered', tenant: 'shop', imageId: 'p01', version: 4 },
      'Original Skipped': { status: 'skipped', tenant: 'shop', imageId: 'p01', reason: 'taken down' },
      'Render Superseded': { status: 'skipped', tenant: 'shop', imageId: 'p01', reason: 'a newer upload' },
      'Publish Superseded': { status: 'skipped', tenant: 'shop', imageId: 'p01', reason: 'a newer version' },
      'Original Failed': { status: 'failed', tenant: 'shop', imageId: 'p01', error: ERRORS.UnprocessableImage, cause: 'not an image' },
    });
  });

  it('starts the next part as an execution of itself named for the job and the part, waiting out the account\'s limit, and counts a name taken as started', () => {
    const start = asl.States['Continue As New'];
    assert.deepEqual(start, {
      Type: 'Task',
      Resource: 'arn:aws:states:::states:startExecution',
      Parameters: {
        'StateMachineArn.$': '$$.StateMachine.Id',
        'Name.$': '$.continuation.name',
        Input: {
          'jobId.$': '$.job.jobId',
          continuation: { 'job.$': '$.job', 'cursor.$': '$.cursor', 'totals.$': '$.totals', 'part.$': '$.continuation.part' },
          'AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$': '$$.Execution.Id',
        },
      },
      ResultSelector: { 'executionArn.$': '$.ExecutionArn' },
      ResultPath: '$.continued',
      Retry: [{ ErrorEquals: [...START_EXECUTION_ERRORS.limitExceeded], IntervalSeconds: 5, MaxAttempts: 10, BackoffRate: 2, MaxDelaySeconds: 300, JitterStrategy: 'FULL' }],
      // A start retried after its answer was lost finds the name taken: the part was started.
      Catch: [{ ErrorEquals: [...START_EXECUTION_ERRORS.alreadyExists], ResultPath: '$.continued', Next: 'Continued As New Execution' }, ...JOB_FAILED],
      Next: 'Continued As New Execution',
    });
    assert.deepEqual(asl.States['Continued As New Execution'], {
      Type: 'Pass',
      Parameters: { 'jobId.$': '$.job.jobId', 'continuedAs.$': '$.continuation', 'totals.$': '$.totals' },
      Next: 'Part Done',
    });
    assert.deepEqual(asl.States['Part Done'], { Type: 'Succeed' });
  });

  it('spends on a page, and on a part, no more history events than the limit on pages per execution allows for', () => {
    // AWS's events (tasks/shared/rerender-state.ts): a Task 5 and 3 a retry, the Distributed Map 6, a Choice, a Pass or a Succeed 2.
    // list-originals, tally-rerender and plan-rerender are not idempotent: Powertools' errors cannot come from them.
    const retries = (name: string) => {
      const retriers = asl.States[name].Retry as Retrier[];
      const transient = retriers.filter((r) => LAMBDA_TRANSIENT_ERRORS.every((e) => r.ErrorEquals.includes(e)));
      const others = retriers.filter((r) => !transient.includes(r)).flatMap((r) => r.ErrorEquals);
      assert.deepEqual(others, [IDEMPOTENCY_IN_PROGRESS, IDEMPOTENCY_RECORD_GONE], `${name}: a retrier the budget does not count`);
      return transient.reduce((n, r) => n + r.MaxAttempts!, 0);
    };
    const task = (name: string, retried: boolean) => 5 + (retried ? 3 * retries(name) : 0);
    const page = (retried: boolean) => task('List Originals', retried) + 6 + task('Tally Page', retried) + 2;
    assert.equal(page(false), EVENTS_PER_PAGE);
    assert.ok(page(true) <= WORST_EVENTS_PER_PAGE, `a page at worst: ${page(true)} events`);
    const limit = asl.States['Continue As New'].Retry.reduce((n: number, r: Retrier) => n + r.MaxAttempts!, 0);
    const part = 1 + task('Plan Rerender', true) + Math.max(5 + 3 * TASK_RETRIERS.reduce((n, r) => n + r.MaxAttempts!, 0), 5 + 3 * limit + 2) + 2 + 1;
    assert.ok(part <= EVENTS_PER_EXECUTION, `a part's own events at worst: ${part}`);
  });

  it('is named, and may start executions of itself only: its next part by name, its map runs\' children by Ref', () => {
    const [[id, machine]] = Object.entries(bare.template.Resources).filter(([, r]) => r.Type === 'AWS::StepFunctions::StateMachine') as [[string, any]];
    assert.equal(machine.Properties.StateMachineName, NAME);
    const statements = Object.values(bare.template.Resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .flatMap((p) => p.Properties!.PolicyDocument.Statement);
    const starts = statements.filter((s: { Action: unknown }) => JSON.stringify(s.Action).includes('states:StartExecution'));
    assert.deepEqual(starts.map((s: { Action: unknown; Resource: unknown }) => [s.Action, s.Resource]), [
      // Its own ARN from its name, not its Ref: the role is created before the state machine.
      ['states:StartExecution', { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:states:${BARE_ENV.region}:${BARE_ENV.account}:stateMachine:${NAME}`]] }],
      ['states:StartExecution', { Ref: id }],
    ]);
  });
});
