import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { App, Fn } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { parseConfig } from '../core/tenant-config.ts';
import { LOCAL_ACCOUNT, LOCAL_REGION } from '../local/pipeline/template.ts';
import { MAX_PAGES_PER_EXECUTION } from '../tasks/shared/rerender-state.ts';
import { EXECUTION_LOG_PREFIX } from '../workflows/task-states.ts';
import { ImageDelivery } from './image-delivery.ts';
import { PipelineStack, type PipelineStackProps } from './pipeline-stack.ts';

// What CloudFormation would accept but AWS would refuse at deploy time, or later.
const TENANTS = parseConfig({ tenants: { shop: {} } });
const EXISTING_TRAIL = 'arn:aws:cloudtrail:us-east-1:111122223333:trail/organization-trail';

/** The pipeline stack alone, its tasks as inline code: no bundling, no validation, a fraction of a second. */
function pipelineStack(props: Partial<PipelineStackProps> = {}): PipelineStack {
  const app = new App({ builtinCloudFormationValidation: false });
  return new PipelineStack(app, 'P', {
    env: { account: LOCAL_ACCOUNT, region: LOCAL_REGION },
    tenants: TENANTS,
    edge: { distributionId: 'EDISTRIBUTION', url: 'https://d111.cloudfront.net', tenantStoreArn: 'arn:aws:cloudfront::000000000000:key-value-store/TenantConfigStore' },
    replicas: [{ bucketName: 'originals-replica', region: 'eu-west-1' }],
    variantReplicas: [{ bucketName: 'variants-failover', region: 'eu-west-1' }],
    taskCode: () => lambda.Code.fromInline('// not run'),
    originRequest: { functionName: 'origin-request', memoryMb: 3008 },
    ...props,
  });
}

let own: Template;
let existing: { stack: PipelineStack; template: Template };

before(() => {
  // Non-default re-render paging, which the paging test reads back; nothing else here depends on it.
  own = Template.fromStack(pipelineStack({ rerender: { pageSize: 10, pagesPerExecution: 3 } }));
  const stack = pipelineStack({ dataEventsTrail: { existingTrailArn: EXISTING_TRAIL } });
  existing = { stack, template: Template.fromStack(stack) };
});

describe('Deploy limits: Step Functions log groups', () => {
  it('puts every state machine\'s log group under /aws/vendedlogs/states/, each its own, so no CloudWatch Logs resource policy grows', () => {
    const machines = Object.values(own.findResources('AWS::StepFunctions::StateMachine'));
    assert.equal(machines.length, 3);
    const groups = own.findResources('AWS::Logs::LogGroup');
    const destinations = machines.map((m) => m.Properties.LoggingConfiguration.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn['Fn::GetAtt'][0] as string);
    const names = destinations.map((id) => groups[id]!.Properties.LogGroupName as string);
    for (const name of names) assert.ok(name.startsWith(EXECUTION_LOG_PREFIX) && name.length <= 512, name);
    assert.equal(new Set(names).size, 3);
  });
});

describe('Deploy limits: KeyValueStore values', () => {
  it('refuses tenants whose policy would not fit a KeyValueStore value, even when they were built without parseConfig, saying what to trim', () => {
    const shop = TENANTS.tenants.shop!;
    const referers = Array.from({ length: 40 }, (_, i) => `shop-number-${i}.example.com`);
    assert.throws(
      () => new ImageDelivery(new App(), 'D', { tenants: { tenants: { shop: { ...shop, referers } } } }),
      /Invalid ImageDelivery props:[\s\S]*tenants\.shop: its edge policy is \d+ bytes; a KeyValueStore value holds 1024\. Use fewer breakpoints, qualities or referers/,
    );
  });
});

describe('Deploy limits: bucket ownership', () => {
  it('tells every task the account that owns the buckets, as CloudFormation resolves it, so each S3 request can name it', () => {
    const functions = Object.values(own.findResources('AWS::Lambda::Function')).filter((f) => f.Properties.Environment?.Variables?.PICTOR_TASK);
    assert.ok(functions.length > 10);
    for (const f of functions) assert.deepEqual(f.Properties.Environment.Variables.PICTOR_ACCOUNT_ID, { Ref: 'AWS::AccountId' }, f.Properties.Environment.Variables.PICTOR_TASK);
  });
});

describe('Deploy limits: re-render paging', () => {
  it("gives plan-rerender the deployment's paging", () => {
    const [plan] = Object.values(own.findResources('AWS::Lambda::Function')).filter((f) => f.Properties.Environment?.Variables?.PICTOR_TASK === 'plan-rerender');
    assert.equal(plan!.Properties.Environment.Variables.PICTOR_RERENDER_PAGE_SIZE, '10');
    assert.equal(plan!.Properties.Environment.Variables.PICTOR_RERENDER_PAGES_PER_EXECUTION, '3');
  });

  it('refuses more pages per execution than its history holds, and pages S3 cannot list, saying the bounds', () => {
    assert.throws(() => pipelineStack({ rerender: { pagesPerExecution: MAX_PAGES_PER_EXECUTION + 1 } }), new RegExp(`rerender.pagesPerExecution must be a whole number from 1 to ${MAX_PAGES_PER_EXECUTION}, not ${MAX_PAGES_PER_EXECUTION + 1}: .*25,000 history events`));
    assert.throws(() => pipelineStack({ rerender: { pageSize: 1001 } }), /rerender.pageSize must be a whole number from 1 to 1,000 \(S3 lists 1,000 keys at most\), not 1001/);
  });
});

describe('Deploy limits: CloudTrail trails', () => {
  it('creates a trail of its own by default', () => {
    own.resourceCountIs('AWS::CloudTrail::Trail', 1);
  });

  it('creates no trail, nor its bucket, when an existing trail is named, and says which trail records the data events', () => {
    existing.template.resourceCountIs('AWS::CloudTrail::Trail', 0);
    assert.equal(Object.keys(existing.template.findResources('AWS::S3::Bucket')).length, Object.keys(own.findResources('AWS::S3::Bucket')).length - 1);
    assert.equal(existing.stack.trail, undefined);
    assert.equal(existing.stack.trailArn, EXISTING_TRAIL);
  });

  it('takes a trail ARN that CloudFormation resolves (an import, a parameter)', () => {
    const stack = pipelineStack({ dataEventsTrail: { existingTrailArn: Fn.importValue('OrganizationTrailArn') } });
    Template.fromStack(stack).resourceCountIs('AWS::CloudTrail::Trail', 0);
  });

  it('refuses a trail that is not an ARN, saying where to find one', () => {
    assert.throws(() => pipelineStack({ dataEventsTrail: { existingTrailArn: 'organization-trail' } }), /dataEventsTrail\.existingTrailArn: "organization-trail" is not a trail's ARN .* describe-trails/);
    assert.throws(
      () => new ImageDelivery(new App(), 'D', { tenants: TENANTS, dataEventsTrail: { existingTrailArn: 'arn:aws:s3:::a-bucket' } }),
      /Invalid ImageDelivery props:[\s\S]*dataEventsTrail\.existingTrailArn/,
    );
  });
});
