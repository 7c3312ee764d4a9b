import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { parseConfig } from '../core/tenant-config.ts';
import { logicalIdOf, type CfnTemplate } from '../local/pipeline/template.ts';
import { NOTE_ATTRIBUTES, PUBLISH_ATTRIBUTES, RESERVE_ATTRIBUTES } from '../tasks/shared/dynamodb-version-map.ts';
import { ImageEdge } from './edge.ts';
import { PipelineStack } from './pipeline-stack.ts';
import { pascal, TASKS, type TaskName } from './pipeline.ts';
import { handlerModule, TASK_REGISTRY } from '../tasks/registry.ts';

const TENANTS = parseConfig({ tenants: { shop: {} } });

interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

let pipeline: CfnTemplate;
let edge: CfnTemplate;

/** One synthesis of each stack, with stand-in code: what is checked here is the roles. */
before(() => {
  const app = new App({ context: { 'aws:cdk:enable-path-metadata': true }, builtinCloudFormationValidation: false });
  const env = { account: '123456789012', region: 'us-east-1' };
  const stack = new PipelineStack(app, 'Pictor-pipeline', {
    env,
    tenants: TENANTS,
    edge: { distributionId: 'E123', url: 'https://d111.cloudfront.net', tenantStoreArn: 'arn:aws:cloudfront::123456789012:key-value-store/TenantConfigStore' },
    replicas: [{ bucketName: 'replica-originals', region: 'eu-west-1' }],
    variantReplicas: [{ bucketName: 'replica-variants', region: 'eu-west-1' }],
    taskCode: () => lambda.Code.fromInline('// stand-in'),
    originRequest: { functionName: 'origin-request', memoryMb: 3008 },
  });
  const edgeStack = new Stack(app, 'Pictor-edge', { env });
  new ImageEdge(edgeStack, 'Edge', {
    tenants: TENANTS,
    origins: [
      { variants: { bucketName: 'variants', region: 'us-east-1' }, originShieldRegion: 'us-east-1' },
      { variants: { bucketName: 'replica-variants', region: 'eu-west-1' }, originShieldRegion: 'eu-west-1' },
    ],
    originals: [{ bucketName: 'originals', region: 'us-east-1' }],
    originRequestCode: lambda.Code.fromInline('// stand-in'),
  });
  const assembly = app.synth();
  pipeline = assembly.getStackByName(stack.stackName).template as CfnTemplate;
  edge = assembly.getStackByName(edgeStack.stackName).template as CfnTemplate;
});

const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const resources = (s: Statement) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]).map((r) => JSON.stringify(r));

/** Every statement of every policy a role has, inline or attached, by the role's logical id. */
function statementsOf(template: CfnTemplate, roleId: string): Statement[] {
  const role = template.Resources[roleId]!.Properties!;
  const inline = (role.Policies ?? []).flatMap((p: any) => p.PolicyDocument.Statement);
  const attached = Object.values(template.Resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && (r.Properties!.Roles as unknown[]).some((ref: any) => ref.Ref === roleId))
    .flatMap((r) => r.Properties!.PolicyDocument.Statement);
  return [...inline, ...attached];
}

function taskRole(task: TaskName): string {
  const fn = pipeline.Resources[logicalIdOf(pipeline, `Pipeline/${pascal(task)}`)]!.Properties!;
  return fn.Role['Fn::GetAtt'][0];
}

/** The statements of a task that allow one action, on resources whose JSON mentions `on`. */
function allowing(task: TaskName, action: string, on?: string): Statement[] {
  return statementsOf(pipeline, taskRole(task)).filter(
    (s) => s.Effect === 'Allow' && actions(s).some((a) => a === action || (a.endsWith('*') && action.startsWith(a.slice(0, -1)))) && (!on || resources(s).some((r) => r.includes(on))),
  );
}

const tasksAllowed = (action: string, on?: string) => TASKS.filter((task) => allowing(task, action, on).length > 0);
const versionsTable = () => logicalIdOf(pipeline, 'Pipeline/Versions');
const idempotencyTable = () => logicalIdOf(pipeline, 'Pipeline/Idempotency');

const functionOf = (task: TaskName) => pipeline.Resources[logicalIdOf(pipeline, `Pipeline/${pascal(task)}`)]!.Properties!;

describe('the task functions, as tasks/registry.ts declares them', () => {
  it('has one function per declared task, and none other', () => {
    const named = Object.values(pipeline.Resources)
      .filter((r) => r.Type === 'AWS::Lambda::Function' && r.Properties?.Environment?.Variables?.PICTOR_TASK)
      .map((r) => r.Properties!.Environment.Variables.PICTOR_TASK);
    assert.deepEqual(named.sort(), [...TASKS].sort());
  });

  it("gives each function its declared memory, timeout and environment's names", () => {
    for (const task of TASKS) {
      const { memoryMiB, timeoutSeconds, environment } = TASK_REGISTRY[task];
      const fn = functionOf(task);
      assert.equal(fn.MemorySize, memoryMiB, `${task}: memory`);
      assert.equal(fn.Timeout, timeoutSeconds, `${task}: timeout`);
      assert.deepEqual(Object.keys(fn.Environment.Variables).sort(), [...environment, 'PICTOR_TASK'].sort(), `${task}: environment`);
      assert.equal(fn.Environment.Variables.PICTOR_TASK, task);
    }
  });

  it('lets a task with an idempotency key, and only such a task, keep its own idempotency records', () => {
    for (const task of TASKS) {
      const leading = statementsOf(pipeline, taskRole(task)).flatMap((s) => (s.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'] as string[] | undefined) ?? []);
      assert.deepEqual(leading, TASK_REGISTRY[task].idempotencyKey ? [`pictor-${task}#*`] : [], task);
    }
  });

  it('lets each task send exactly the detail-types it declares it publishes', () => {
    for (const task of TASKS) {
      const sent = allowing(task, 'events:PutEvents').flatMap((s) => [s.Condition!.StringEquals!['events:detail-type']].flat());
      assert.deepEqual(sent, [...(TASK_REGISTRY[task].publishes ?? [])], task);
    }
  });
});

describe('least privilege per task', () => {
  it('gives every task a role of its own, and none a managed policy', () => {
    const roles = TASKS.map(taskRole);
    assert.equal(new Set(roles).size, TASKS.length);
    for (const role of roles) assert.equal(pipeline.Resources[role]!.Properties!.ManagedPolicyArns, undefined, role);
  });

  it("lets no role but the takedown's inventory write a tombstone, and every reader of the version map read them", () => {
    const table = logicalIdOf(pipeline, 'Pipeline/Tombstones');
    for (const action of ['dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem']) assert.deepEqual(tasksAllowed(action, table), [], action);
    assert.deepEqual(tasksAllowed('dynamodb:UpdateItem', table), ['inventory-image']);
    assert.deepEqual(tasksAllowed('dynamodb:GetItem', table), tasksAllowed('dynamodb:GetItem', versionsTable()));
    for (const task of TASKS) {
      const fn = pipeline.Resources[logicalIdOf(pipeline, `Pipeline/${pascal(task)}`)]!.Properties!;
      assert.deepEqual(fn.Environment.Variables.PICTOR_TOMBSTONES_TABLE, { Ref: table }, task);
    }
  });

  it('lets no role but the inventory write the version map unconfined; nobody puts or deletes a row', () => {
    const table = versionsTable();
    assert.deepEqual(tasksAllowed('dynamodb:UpdateItem', table), ['probe-original', 'render-variants', 'publish-version', 'inventory-image']);
    assert.deepEqual(tasksAllowed('dynamodb:PutItem', table), []);
    assert.deepEqual(tasksAllowed('dynamodb:DeleteItem', table), []);
    assert.deepEqual(tasksAllowed('dynamodb:BatchWriteItem', table), []);
    const unconfined = TASKS.filter((task) => allowing(task, 'dynamodb:UpdateItem', table).some((s) => !s.Condition));
    assert.deepEqual(unconfined, ['inventory-image']);
    const confinedTo = (task: TaskName) => allowing(task, 'dynamodb:UpdateItem', table)[0]!.Condition!['ForAllValues:StringEquals']!['dynamodb:Attributes'];
    assert.deepEqual(confinedTo('render-variants'), [...RESERVE_ATTRIBUTES]);
    assert.deepEqual(confinedTo('publish-version'), [...PUBLISH_ATTRIBUTES]);
    assert.deepEqual(confinedTo('probe-original'), [...NOTE_ATTRIBUTES]);
    // Noting an upload touches neither the versions, the reservations nor the tombstone.
    for (const attribute of ['version', 'publishedVersions', 'reservedSequencer', 'nextVersion', 'tombstonedAt']) assert.ok(!NOTE_ATTRIBUTES.includes(attribute as never), attribute);
    // A reservation cannot move the published version, a publish cannot touch the reservations, neither sets a reason.
    for (const attribute of ['version', 'publishedVersions', 'tombstoneReason']) assert.ok(!RESERVE_ATTRIBUTES.includes(attribute as never), attribute);
    for (const attribute of ['reservedSequencer', 'reservedBy', 'nextVersion', 'tombstoneReason']) assert.ok(!PUBLISH_ATTRIBUTES.includes(attribute as never), attribute);
  });

  it('lets the tasks that only read the version map read it, and the others not reach it at all', () => {
    const table = versionsTable();
    assert.deepEqual(tasksAllowed('dynamodb:GetItem', table), ['probe-original', 'render-variants', 'publish-version', 'prepare-rerender']);
    assert.deepEqual(TASKS.filter((task) => statementsOf(pipeline, taskRole(task)).some((s) => resources(s).some((r) => r.includes(table)))), [
      'probe-original',
      'render-variants',
      'publish-version',
      'inventory-image',
      'prepare-rerender',
    ]);
  });

  it("confines each idempotent task to its own records, and the others to none", () => {
    const table = idempotencyTable();
    const users = tasksAllowed('dynamodb:PutItem', table);
    assert.deepEqual(users, ['render-variants', 'publish-version', 'quarantine-original', 'inventory-image', 'complete-takedown', 'complete-rerender']);
    for (const task of users) {
      for (const s of statementsOf(pipeline, taskRole(task)).filter((s) => resources(s).some((r) => r.includes(table)))) {
        assert.deepEqual(s.Condition, { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`pictor-${task}#*`] } }, task);
      }
    }
  });

  it('lets only the tasks that erase versions delete them, and publish only its own snapshot and pointer', () => {
    assert.deepEqual(tasksAllowed('s3:DeleteObjectVersion'), ['publish-version', 'quarantine-original', 'discard-upload', 'erase-objects']);
    const publish = allowing('publish-version', 's3:DeleteObjectVersion').flatMap(resources);
    assert.ok(publish.every((r) => /\/_versions\/\*|\/_published\/\*/.test(r)), publish.join());
    // Nothing outside the originals for discard and quarantine.
    for (const task of ['discard-upload', 'quarantine-original'] as const) {
      assert.ok(allowing(task, 's3:DeleteObjectVersion').flatMap(resources).every((r) => r.includes('Originals') || r.includes('replica-originals')), task);
    }
  });

  it('grants no object retention, legal hold, ACL or governance bypass, and no s3 wildcard action, to any task', () => {
    for (const task of TASKS) {
      const granted = statementsOf(pipeline, taskRole(task)).flatMap(actions);
      for (const action of granted) {
        assert.doesNotMatch(action, /Retention|LegalHold|Acl|BypassGovernance|Tagging|^s3:\*$|^s3:[A-Za-z]+\*$|^dynamodb:\*$/, `${task}: ${action}`);
      }
    }
  });

  it('lets verify-gone alone read the signing-key secrets, and only those; the tasks that look tenants up read the configuration store, and no other store', () => {
    assert.deepEqual(tasksAllowed('secretsmanager:GetSecretValue'), ['verify-gone']);
    assert.deepEqual(
      allowing('verify-gone', 'secretsmanager:GetSecretValue').flatMap(resources),
      [JSON.stringify({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':secretsmanager:us-east-1:123456789012:secret:pictor/signing-keys/*']] })],
    );
    // The tasks that look a tenant up are those whose wiring builds the tenant store's reader (storeTenants).
    const readers = TASKS.filter((task) => readFileSync(handlerModule(task), 'utf8').includes('storeTenants('));
    assert.ok(readers.length > 0, 'some task reads tenants');
    assert.deepEqual(tasksAllowed('cloudfront-keyvaluestore:GetKey'), readers);
    for (const task of TASKS) {
      for (const s of statementsOf(pipeline, taskRole(task)).filter((s) => actions(s).some((a) => a.startsWith('cloudfront-keyvaluestore:')))) {
        assert.deepEqual(resources(s), [JSON.stringify('arn:aws:cloudfront::123456789012:key-value-store/TenantConfigStore')], task);
      }
    }
    assert.deepEqual(tasksAllowed('cloudfront-keyvaluestore:ListKeys'), ['plan-rerender']);
    assert.deepEqual(tasksAllowed('cloudfront-keyvaluestore:PutKey'), []);
    assert.deepEqual(tasksAllowed('cloudfront-keyvaluestore:UpdateKeys'), []);
  });

  it('lets only record-takedown write an audit record, and nobody delete one', () => {
    const audit = logicalIdOf(pipeline, 'Pipeline/Audit');
    assert.deepEqual(tasksAllowed('s3:PutObject', audit), ['record-takedown']);
    assert.deepEqual(tasksAllowed('s3:DeleteObject', audit), []);
    assert.deepEqual(tasksAllowed('s3:DeleteObjectVersion', audit), []);
  });

  it("lets each task write logs to its own log group only, and nothing create one", () => {
    for (const task of TASKS) {
      const fn = pipeline.Resources[logicalIdOf(pipeline, `Pipeline/${pascal(task)}`)]!.Properties!;
      const group = fn.LoggingConfig.LogGroup.Ref;
      assert.equal(pipeline.Resources[group]!.Type, 'AWS::Logs::LogGroup', task);
      assert.ok(pipeline.Resources[group]!.Properties!.RetentionInDays > 0, `${task}: its logs expire`);
      const logs = statementsOf(pipeline, taskRole(task)).filter((s) => actions(s).some((a) => a.startsWith('logs:')));
      assert.deepEqual(logs.map((s) => [actions(s), s.Resource]), [[['logs:CreateLogStream', 'logs:PutLogEvents'], { 'Fn::GetAtt': [group, 'Arn'] }]], task);
    }
  });

  it("needs still what each task does: the pipeline's calls are allowed", () => {
    const must: [TaskName, string, string][] = [
      ['probe-original', 's3:GetObject', 'Originals'],
      ['render-variants', 's3:PutObject', '_staging/*'],
      ['publish-version', 's3:PutObject', '_published/*'],
      ['publish-version', 's3:PutObject', 'replica-variants'],
      ['quarantine-original', 's3:PutObject', '_quarantine/*'],
      ['quarantine-original', 's3:GetObjectVersion', 'Originals'],
      ['inventory-image', 's3:ListBucketVersions', 'replica-originals'],
      ['erase-objects', 's3:DeleteObjectVersion', 'replica-variants'],
      ['accept-takedown', 's3:PutObject', 'takedowns/*'],
      ['record-takedown', 's3:PutObject', 'Audit'],
      ['list-originals', 's3:ListBucket', 'Originals'],
      ['tally-rerender', 's3:PutObject', 'rerenders/*/failures/*'],
      ['complete-rerender', 's3:PutObject', 'rerenders/*/report.json'],
      ['invalidate-image', 'cloudfront:CreateInvalidation', 'distribution/E123'],
      ['check-invalidation', 'cloudfront:GetInvalidation', 'distribution/E123'],
    ];
    for (const [task, action, on] of must) assert.ok(allowing(task, action, on).length > 0, `${task} may ${action} on ${on}`);
  });

  it("limits the edge role's logs to its own function's log groups", () => {
    const fn = edge.Resources[logicalIdOf(edge, 'Edge/OriginRequest')]!.Properties!;
    const logs = statementsOf(edge, fn.Role['Fn::GetAtt'][0]).filter((s) => actions(s).some((a) => a.startsWith('logs:')));
    assert.equal(logs.length, 1);
    const named = resources(logs[0]!);
    assert.equal(named.length, 2);
    for (const resource of named) {
      assert.match(resource, /log-group:\/aws\/lambda\/us-east-1\./);
      assert.ok(resource.includes(logicalIdOf(edge, 'Edge/OriginRequest')), `${resource} names the function`);
    }
  });
});
