import { Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { NOTE_ATTRIBUTES, PUBLISH_ATTRIBUTES, RESERVE_ATTRIBUTES } from '../tasks/shared/dynamodb-version-map.ts';
import { acknowledge, acknowledgeWildcards, policyResources } from './nag.ts';
import { TASK_REGISTRY, TASKS, type TaskBucket, type TaskGrant, type TaskName, type TaskResource } from '../tasks/registry.ts';
import type { PictorEventBus } from './event-bus.ts';

/** What the tasks reach, as the Pipeline construct holds it. */
export interface TaskResources {
  readonly functions: Readonly<Record<TaskName, lambda.Function>>;
  readonly originals: s3.IBucket;
  readonly originalReplicas: readonly s3.IBucket[];
  readonly variants: s3.IBucket;
  readonly variantReplicas: readonly s3.IBucket[];
  readonly audit: s3.IBucket;
  readonly reports: s3.IBucket;
  readonly versions: dynamodb.ITableV2;
  readonly tombstones: dynamodb.ITableV2;
  readonly idempotency: dynamodb.ITableV2;
  readonly distributionId: string;
  /** The edge's TenantConfigStore, where tasks read tenants at run time (no secret in it). */
  readonly tenantStoreArn: string;
  /** The name prefix of the signing-key secrets (one per tenant), which verify-gone reads. */
  readonly signingSecretPrefix: string;
  /** Pictor's event bus, where tasks send what they publish. */
  readonly events: PictorEventBus;
}

/**
 * Grants each task exactly what its declaration says it may access (tasks/registry.ts),
 * nothing by a CDK grant that brings more. The declarations hold these rules:
 * - the version map: GetItem where a task reads it; UpdateItem confined by
 *   `dynamodb:Attributes` to the attributes a reservation or a publish writes;
 *   only the takedown's inventory writes without that confinement (it tombstones);
 *   no task may PutItem or DeleteItem a row;
 * - tombstones: the inventory alone writes them; every reader of the version map reads them;
 * - idempotency records: each task with an idempotency key only its own (`pictor-<task>#…`,
 *   Powertools' key), by `dynamodb:LeadingKeys`;
 * - S3: GetObject (also HEAD), PutObject, DeleteObject and DeleteObjectVersion
 *   on the prefixes each task touches; DeleteObjectVersion only where a task
 *   erases versions for good (erase-objects, discard-upload, quarantine-original's
 *   rejected upload, publish-version's own snapshot and pointer after a takedown);
 *   no object retention or legal hold anywhere;
 * - ListBucket where a task reads keys that may be missing: without it S3 answers
 *   403 instead of 404, which the stores would take for an outage.
 *   https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html
 * - events: each task sends exactly the detail-types it publishes, and only Pictor's bus admits them.
 */
export function grantTaskAccess(r: TaskResources): void {
  const stack = Stack.of(r.reports);
  const bucketsOf: Record<TaskBucket, readonly s3.IBucket[]> = {
    originals: [r.originals],
    originalReplicas: r.originalReplicas,
    variants: [r.variants],
    variantReplicas: r.variantReplicas,
    audit: [r.audit],
    reports: [r.reports],
  };
  const tables = { versions: r.versions, tombstones: r.tombstones };
  // AWS counts the attributes a condition evaluates in dynamodb:Attributes, so a
  // reservation's and a publish's lists name tombstonedAt, which their conditions read.
  // https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html
  const confined = { reserve: RESERVE_ATTRIBUTES, publish: PUBLISH_ATTRIBUTES, note: NOTE_ATTRIBUTES };
  const arns = (on: TaskResource): string[] => {
    if (on === 'distribution') return [`arn:${stack.partition}:cloudfront::${stack.account}:distribution/${r.distributionId}`];
    // https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudfrontkeyvaluestore.html
    if (on === 'tenant-store') return [r.tenantStoreArn];
    // A secret's ARN ends in a hyphen and six random characters. https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_examples.html
    if (on === 'signing-secrets') return [`arn:${stack.partition}:secretsmanager:${stack.region}:${stack.account}:secret:${r.signingSecretPrefix}*`];
    if ('tables' in on) return on.tables.map((table) => tables[table].tableArn);
    if ('buckets' in on) return on.buckets.flatMap((name) => bucketsOf[name].map((b) => b.bucketArn));
    return on.objects.flatMap((name) => bucketsOf[name].flatMap((b) => (on.keys ?? ['*']).map((keys) => b.arnForObjects(keys))));
  };
  const statement = (grant: TaskGrant) =>
    new iam.PolicyStatement({
      actions: [...grant.actions],
      resources: arns(grant.on),
      conditions:
        typeof grant.on === 'object' && 'tables' in grant.on && grant.on.attributes
          ? {
              'ForAllValues:StringEquals': { 'dynamodb:Attributes': [...confined[grant.on.attributes]] },
              'StringEqualsIfExists': { 'dynamodb:ReturnValues': ['NONE', 'UPDATED_OLD', 'UPDATED_NEW'] },
            }
          : undefined,
    });
  // Powertools' idempotency: get, put (conditional), update and delete its own records.
  // https://docs.powertools.aws.dev/lambda/typescript/latest/features/idempotency/#iam-permissions
  const idempotency = (task: TaskName) =>
    new iam.PolicyStatement({
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
      resources: [r.idempotency.tableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`pictor-${task}#*`] } },
    });

  for (const task of TASKS) {
    const declared = TASK_REGISTRY[task];
    const statements = declared.access.map(statement);
    // Its idempotency records sit beside its other DynamoDB statements.
    if (declared.idempotencyKey) {
      const others = declared.access.findIndex((grant) => typeof grant.on !== 'object' || !('tables' in grant.on));
      statements.splice(others === -1 ? statements.length : others, 0, idempotency(task));
    }
    for (const s of statements) r.functions[task].addToRolePolicy(s);
  }
  for (const task of TASKS) {
    const detailTypes = TASK_REGISTRY[task].publishes ?? [];
    if (detailTypes.length > 0) r.events.grantSend(r.functions[task].role!, ...detailTypes);
  }

  for (const fn of Object.values(r.functions)) {
    const policy = fn.role!.node.tryFindChild('DefaultPolicy') as iam.Policy | undefined;
    if (!policy) continue;
    acknowledge(policy, { 'AwsSolutions-IAM5[Resource::*]': 'X-Ray tracing (xray:PutTraceSegments, xray:PutTelemetryRecords) accepts no narrower resource.' });
    acknowledgeWildcards(
      policy,
      policyResources(policy, policy.document).filter((resource) => resource !== '*'),
      "Object keys are derived per image, upload or job at run time (core/object-keys.ts, tasks/shared/*-state.ts), and signing-key secrets per tenant (one each, tenants added at run time): each statement names the prefix the task's code touches and nothing wider.",
    );
  }
}
