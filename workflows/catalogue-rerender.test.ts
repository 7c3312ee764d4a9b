import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { parseConfig } from '../core/tenant-config.ts';
import { logicalIdOf, stateMachineDefinitions, synthesizePipeline, type CfnTemplate } from '../local/pipeline/template.ts';

let template: CfnTemplate;
let asl: any;

before(() => {
  template = synthesizePipeline(parseConfig({ tenants: { shop: {} } }), undefined, { rerender: { pageSize: 10, pagesPerExecution: 3 } });
  asl = stateMachineDefinitions(template, { [logicalIdOf(template, 'Pipeline/Reports')]: 'reports' }).get(logicalIdOf(template, 'Pipeline/CatalogueRerender/StateMachine'));
});

describe('CatalogueRerender, as synthesized', () => {
  it('writes each map run\'s results to the reports bucket and keeps only where they are, tolerating every item\'s failure', () => {
    const map = asl.States['Render Each Original'];
    assert.deepEqual(map.ResultWriter, { Resource: 'arn:aws:states:::s3:putObject', Parameters: { Bucket: 'reports', 'Prefix.$': '$.job.resultsPrefix' } });
    assert.equal(map.ToleratedFailurePercentage, 100);
    assert.equal(map.ResultPath, '$.page.run');
    assert.equal(map.ItemProcessor.ProcessorConfig.Mode, 'DISTRIBUTED');
  });

  it('lists again, continues as a new execution of itself, or completes, as Tally says', () => {
    assert.deepEqual(asl.States['Go On?'].Choices, [
      { Variable: '$.next', StringEquals: 'list', Next: 'List Originals' },
      { Variable: '$.next', StringEquals: 'continue', Next: 'Continue As New' },
    ]);
    assert.equal(asl.States['Go On?'].Default, 'Complete Rerender');
    const start = asl.States['Continue As New'];
    assert.equal(start.Resource, 'arn:aws:states:::states:startExecution');
    assert.deepEqual(start.Parameters, {
      'StateMachineArn.$': '$$.StateMachine.Id',
      'Name.$': '$.continuation.name',
      Input: {
        'jobId.$': '$.job.jobId',
        continuation: { 'job.$': '$.job', 'cursor.$': '$.cursor', 'totals.$': '$.totals', 'part.$': '$.continuation.part' },
        'AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$': '$$.Execution.Id',
      },
    });
    // A start retried after its answer was lost finds the name taken: the part was started.
    assert.deepEqual(start.Catch.map((c: { ErrorEquals: string[]; Next: string }) => [c.ErrorEquals, c.Next]), [
      [['StepFunctions.ExecutionAlreadyExists', 'StepFunctions.ExecutionAlreadyExistsException'], 'Continued As New Execution'],
      [['States.ALL'], 'Rerender Failed'],
    ]);
    assert.deepEqual(asl.States['Continued As New Execution'].Next, 'Part Done');
  });

  it('is named, and may start executions of itself only', () => {
    const id = logicalIdOf(template, 'Pipeline/CatalogueRerender/StateMachine');
    assert.equal(template.Resources[id]!.Properties!.StateMachineName, 'Pictor-CatalogueRerender');
    const policy = Object.values(template.Resources).find((r) => r.Type === 'AWS::IAM::Policy' && String(r.Metadata?.['aws:cdk:path']).includes('CatalogueRerender/StateMachine/Role/DefaultPolicy'))!;
    const starts = policy.Properties!.PolicyDocument.Statement.filter((s: { Action: unknown }) => s.Action === 'states:StartExecution');
    assert.deepEqual(starts.map((s: { Resource: unknown }) => s.Resource), [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':states:us-east-1:000000000000:stateMachine:Pictor-CatalogueRerender']] }]);
  });

  it('gives plan-rerender the deployment\'s paging', () => {
    const plan = template.Resources[logicalIdOf(template, 'Pipeline/PlanRerender')]!;
    assert.equal(plan.Properties!.Environment.Variables.PICTOR_RERENDER_PAGE_SIZE, '10');
    assert.equal(plan.Properties!.Environment.Variables.PICTOR_RERENDER_PAGES_PER_EXECUTION, '3');
  });
});
