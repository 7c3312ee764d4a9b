import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { REJECTION_ERRORS, TRANSIENT_ERRORS } from '../core/error-codes.ts';
import { parseConfig } from '../core/tenant-config.ts';
import { logicalIdOf, stateMachineDefinitions, synthesizePipeline, type CfnTemplate } from '../local/pipeline/template.ts';
import { IDEMPOTENCY_IN_PROGRESS } from './task-states.ts';

let asl: any;
let template: CfnTemplate;

before(() => {
  template = synthesizePipeline(parseConfig({ tenants: { shop: {} } }));
  asl = stateMachineDefinitions(template, {}).get(logicalIdOf(template, 'Pipeline/RenderOnUpload/StateMachine'));
});

describe('RenderOnUpload, as synthesized', () => {
  it('probes, then renders, rejects or skips', () => {
    assert.equal(asl.StartAt, 'Probe Original');
    assert.deepEqual(asl.States['What Does The Upload Need?'].Choices, [
      { Variable: '$.action', StringEquals: 'render', Next: 'Render Variants' },
      { Variable: '$.action', StringEquals: 'reject', Next: 'Quarantine Original' },
    ]);
    assert.equal(asl.States['What Does The Upload Need?'].Default, 'Skipped');
  });

  it('retries transient errors with backoff and full jitter, and waits out duplicates in progress', () => {
    for (const name of ['Probe Original', 'Render Variants', 'Publish Version', 'Quarantine Original']) {
      const retry = asl.States[name].Retry;
      assert.deepEqual(retry[1], { ErrorEquals: [...TRANSIENT_ERRORS], IntervalSeconds: 1, MaxAttempts: 6, BackoffRate: 2, MaxDelaySeconds: 30, JitterStrategy: 'FULL' }, name);
      assert.deepEqual(retry[2].ErrorEquals, [IDEMPOTENCY_IN_PROGRESS], name);
      const waited = Array.from({ length: retry[2].MaxAttempts }, (_, i) => Math.min(retry[2].IntervalSeconds * retry[2].BackoffRate ** i, retry[2].MaxDelaySeconds)).reduce((a, b) => a + b);
      assert.ok(waited > 120, `${name}: waits ${waited} s, not longer than the render timeout`);
    }
  });

  it('sends a bad original to quarantine and any other failure to a state that records why', () => {
    assert.deepEqual(asl.States['Render Variants'].Catch, [
      { ErrorEquals: [...REJECTION_ERRORS], ResultPath: '$.error', Next: 'Describe Rejection' },
      { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Render Failed' },
    ]);
    assert.deepEqual(asl.States['Render Failed'], { Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.error.Cause' });
    assert.equal(asl.States['Describe Rejection'].Next, 'Quarantine Original');
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
