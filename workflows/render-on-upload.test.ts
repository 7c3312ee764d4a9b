import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { REJECTION_ERRORS, RETRIED_ERRORS, TRANSIENT_ERRORS } from '../core/error-codes.ts';
import { parseConfig } from '../core/tenant-config.ts';
import { logicalIdOf, stateMachineDefinitions, synthesizePipeline, type CfnTemplate } from '../local/pipeline/template.ts';
import { taskStates } from '../local/pipeline/step-functions.ts';
import { IDEMPOTENCY_IN_PROGRESS, IDEMPOTENCY_RECORD_GONE, LAMBDA_TRANSIENT_ERRORS } from './task-states.ts';
import { UPLOAD_OUTCOMES } from './render-on-upload.ts';
import { scopesOf, wellFormedProblems } from './test-support.ts';
import { ERRORS } from '../core/errors.ts';

let asl: any;
let template: CfnTemplate;

before(() => {
  template = synthesizePipeline(parseConfig({ tenants: { shop: {} } }));
  asl = stateMachineDefinitions(template, {}).get(logicalIdOf(template, 'Pipeline/RenderOnUpload/StateMachine'));
});

describe('RenderOnUpload, as synthesized', () => {
  it('is well formed: every state reachable, every path ends, every error name from core', () => {
    assert.deepEqual(wellFormedProblems(asl), []);
  });

  it('probes, then renders, rejects, discards or skips', () => {
    assert.equal(asl.StartAt, 'Probe Original');
    assert.deepEqual(asl.States['What Does The Upload Need?'].Choices, [
      { Variable: '$.action', StringEquals: 'render', Next: 'Render Variants' },
      { Variable: '$.action', StringEquals: 'reject', Next: 'Quarantine Original' },
      { Variable: '$.action', StringEquals: 'discard', Next: 'Discard Upload' },
    ]);
    assert.equal(asl.States['What Does The Upload Need?'].Default, 'Skipped');
  });

  it('ends by saying what it did, in one shape the CLI reads', () => {
    const ends = Object.entries<any>(asl.States).filter(([, state]) => state.End);
    assert.deepEqual(ends.map(([name]) => name).sort(), ['Discarded', 'Publish Superseded', 'Published', 'Rejected', 'Skipped', 'Superseded']);
    for (const [name, state] of ends) {
      assert.equal(state.Type, 'Pass', name);
      assert.ok((UPLOAD_OUTCOMES as readonly string[]).includes(state.Parameters.outcome), `${name}: ${state.Parameters.outcome}`);
    }
    assert.deepEqual(asl.States.Published.Parameters, { outcome: 'published', 'tenant.$': '$.tenant', 'imageId.$': '$.imageId', 'version.$': '$.publish.version', 'previousVersion.$': '$.publish.previousVersion' });
  });

  it("retries its dependencies' and Lambda's own transient errors with backoff and full jitter, and waits out duplicates in progress", () => {
    for (const name of ['Probe Original', 'Render Variants', 'Publish Version', 'Quarantine Original', 'Discard Upload']) {
      const retry = asl.States[name].Retry;
      assert.deepEqual(retry[0], { ErrorEquals: [...TRANSIENT_ERRORS, ...LAMBDA_TRANSIENT_ERRORS], IntervalSeconds: 1, MaxAttempts: 6, BackoffRate: 2, MaxDelaySeconds: 30, JitterStrategy: 'FULL' }, name);
      assert.ok(retry[0].ErrorEquals.includes('Lambda.TooManyRequestsException'), `${name} retries throttling`);
      assert.deepEqual(retry[1].ErrorEquals, [IDEMPOTENCY_IN_PROGRESS], name);
      assert.deepEqual(retry[2], { ErrorEquals: [IDEMPOTENCY_RECORD_GONE], IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2, JitterStrategy: 'FULL' }, name);
      assert.ok(retry.every((r: { JitterStrategy?: string; ErrorEquals: string[] }) => r.JitterStrategy === 'FULL' || r.ErrorEquals.includes(IDEMPOTENCY_IN_PROGRESS)), `${name}: no retrier without jitter`);
      const waited = Array.from({ length: retry[1].MaxAttempts }, (_, i) => Math.min(retry[1].IntervalSeconds * retry[1].BackoffRate ** i, retry[1].MaxDelaySeconds)).reduce((a, b) => a + b);
      assert.ok(waited > 120, `${name}: waits ${waited} s, not longer than the render timeout`);
    }
  });

  it('erases an upload to a taken-down id only once replication has delivered it, waiting for as long as S3 may take', () => {
    const retry = replicationRetrier(asl.States['Discard Upload']);
    assert.equal(retry.JitterStrategy, 'FULL');
    assert.ok(averageWait(retry) >= 15 * 60, `waits ${averageWait(retry)} s on average, at least the 15 minutes of Replication Time Control`);
  });

  it('publishes once replication has delivered the snapshot and then the pointer, waiting for as long as S3 may take for each', () => {
    const retry = replicationRetrier(asl.States['Publish Version']);
    assert.deepEqual(retry, { ErrorEquals: [ERRORS.ReplicationPending], IntervalSeconds: 5, MaxAttempts: 65, BackoffRate: 2, MaxDelaySeconds: 60, JitterStrategy: 'FULL' });
    assert.ok(averageWait(retry) >= 2 * 15 * 60, `waits ${averageWait(retry)} s on average, Replication Time Control's 15 minutes twice`);
    // Still caught once the waiting is over: the run ends FAILED with the cause, for a retry to complete.
    assert.deepEqual(asl.States['Publish Version'].Catch, [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Render Failed' }]);
  });

  it('sends a bad original to quarantine and any other failure to a state that records why', () => {
    assert.deepEqual(asl.States['Render Variants'].Catch, [
      { ErrorEquals: [...REJECTION_ERRORS], ResultPath: '$.error', Next: 'Describe Rejection' },
      { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Render Failed' },
    ]);
    assert.deepEqual(asl.States['Render Failed'], { Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.error.Cause' });
    assert.equal(asl.States['Describe Rejection'].Next, 'Quarantine Original');
    // A quarantine that cannot finish fails the run with its error, for a retry to complete.
    assert.deepEqual(asl.States['Quarantine Original'].Catch, [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Render Failed' }]);
  });

  it('passes each task its input and the execution id, and omits ResultPath "$"', () => {
    assert.deepEqual(asl.States['Probe Original'].Parameters, { 'input.$': '$', 'executionId.$': '$$.Execution.Id' });
    assert.equal('ResultPath' in asl.States['Probe Original'], false);
    assert.equal(asl.States['Render Variants'].ResultPath, '$.render');
  });

  it('is started by uploads to the originals bucket only, never by system keys', () => {
    const rule = Object.values(template.Resources).find((r) => r.Type === 'AWS::Events::Rule')!;
    assert.deepEqual(rule.Properties!.EventPattern, {
      source: ['aws.s3'],
      'detail-type': ['Object Created'],
      detail: { bucket: { name: [{ Ref: logicalIdOf(template, 'Pipeline/Originals') }] }, object: { key: [{ 'anything-but': { prefix: '_' } }] } },
    });
    assert.deepEqual(rule.Properties!.Targets[0].Arn, { Ref: logicalIdOf(template, 'Pipeline/RenderOnUpload/StateMachine') });
  });
});

describe('CatalogueRerender, as synthesized', () => {
  it('publishes each new version as RenderOnUpload does: once replication has delivered the snapshot and then the pointer', () => {
    const rerender = stateMachineDefinitions(template, {}).get(logicalIdOf(template, 'Pipeline/CatalogueRerender/StateMachine'));
    const publish = taskStates(rerender).find(([name]) => name === 'Publish Version')?.[1];
    assert.deepEqual(replicationRetrier(publish), replicationRetrier(asl.States['Publish Version']));
    // Waited out before the item counts as failed.
    assert.deepEqual(publish.Catch.map((c: { ErrorEquals: string[]; Next: string }) => [c.ErrorEquals, c.Next]), [[['States.ALL'], 'Original Failed']]);
  });
});

describe('every Task of every state machine', () => {
  it("retries Lambda's own transient errors, throttling included, with backoff and full jitter, and no retrier without jitter", () => {
    const definitions = stateMachineDefinitions(template, {});
    assert.equal(definitions.size, 3);
    let tasks = 0;
    for (const definition of definitions.values()) {
      for (const [name, state] of taskStates(definition)) {
        for (const retry of state.Retry ?? []) {
          assert.ok(retry.JitterStrategy === 'FULL' || retry.ErrorEquals.includes(IDEMPOTENCY_IN_PROGRESS), `${name}: ${retry.ErrorEquals.join(', ')} without jitter`);
        }
        // Service integrations (CatalogueRerender's states:startExecution) have errors of their own.
        if (String(state.Resource).startsWith('arn:aws:states:::')) continue;
        tasks++;
        const lambda = state.Retry.find((r: { ErrorEquals: string[] }) => LAMBDA_TRANSIENT_ERRORS.every((e) => r.ErrorEquals.includes(e)));
        assert.ok(lambda, `${name} retries Lambda's transient errors`);
        assert.deepEqual([lambda.JitterStrategy, lambda.BackoffRate > 1, lambda.MaxAttempts > 1], ['FULL', true, true], name);
      }
    }
    assert.ok(tasks >= 20, `${tasks} task states`);
  });

  it('retries every error core says is waited out, so that a task logging one as a warning is right to', () => {
    const retried = new Set<string>();
    for (const definition of stateMachineDefinitions(template, {}).values()) {
      for (const [, scope] of scopesOf(definition)) for (const state of Object.values<any>(scope.States)) for (const r of state.Retry ?? []) for (const e of r.ErrorEquals) retried.add(e);
    }
    assert.deepEqual(RETRIED_ERRORS.filter((code) => !retried.has(code)), []);
  });
});

function replicationRetrier(state: { Retry: { ErrorEquals: string[] }[] }): any {
  const retry = state.Retry.find((r) => r.ErrorEquals.includes(ERRORS.ReplicationPending));
  assert.ok(retry, 'the state waits for replication');
  return retry;
}

/** Full jitter pauses a uniform share of each backoff: on average half of it. */
function averageWait(retry: { MaxAttempts: number; IntervalSeconds: number; BackoffRate: number; MaxDelaySeconds: number }): number {
  return Array.from({ length: retry.MaxAttempts }, (_, i) => Math.min(retry.IntervalSeconds * retry.BackoffRate ** i, retry.MaxDelaySeconds)).reduce((a, b) => a + b) / 2;
}
