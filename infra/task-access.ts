import { Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { PUBLISHED_PREFIX, QUARANTINE_PREFIX, SNAPSHOT_PREFIX, STAGING_PREFIX } from '../core/object-keys.ts';
import { PUBLISH_ATTRIBUTES, RESERVE_ATTRIBUTES } from '../tasks/shared/version-map.ts';
import { acknowledge, acknowledgeWildcards, policyResources } from './nag.ts';
import type { TaskName } from './pipeline.ts';

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
}

/** The tasks that look a tenant up (tasks/shared/tenants.ts storeTenants): GetKey on the tenant store. */
export const TENANT_READERS = [
  'probe-original',
  'render-variants',
  'inventory-image',
  'invalidate-image',
  'verify-gone',
  'record-takedown',
  'plan-rerender',
  'prepare-rerender',
] as const satisfies readonly TaskName[];

/** Where the takedown workflow keeps what it hands from task to task (tasks/shared/takedown-state.ts). */
const TAKEDOWNS = 'takedowns/';
/** Where a re-render keeps its results, failures and report (tasks/shared/rerender-state.ts). */
const RERENDERS = 'rerenders/';

/**
 * Grants each task exactly the calls its code makes (tasks/<task>/handler.ts and
 * the stores it builds in tasks/shared), nothing by a CDK grant that brings more:
 * - the version map: GetItem where a task reads it; UpdateItem confined by
 *   `dynamodb:Attributes` to the attributes a reservation or a publish writes;
 *   only the takedown's inventory writes without that confinement (it tombstones);
 *   no task may PutItem or DeleteItem a row;
 * - tombstones: the inventory alone writes them; every reader of the version map reads them;
 * - idempotency records: each task only its own (`pictor-<task>#…`, Powertools' key), by `dynamodb:LeadingKeys`;
 * - S3: GetObject (also HEAD), PutObject, DeleteObject and DeleteObjectVersion
 *   on the prefixes each task touches; DeleteObjectVersion only where a task
 *   erases versions for good (erase-objects, discard-upload, quarantine-original's
 *   rejected upload, publish-version's own snapshot and pointer after a takedown);
 *   no object retention or legal hold anywhere;
 * - ListBucket where a task reads keys that may be missing: without it S3 answers
 *   403 instead of 404, which the stores would take for an outage.
 *   https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html
 */
export function grantTaskAccess(r: TaskResources): void {
  const f = r.functions;
  const allow = (task: TaskName, actions: string[], resources: string[], conditions?: Record<string, unknown>) =>
    f[task].addToRolePolicy(new iam.PolicyStatement({ actions, resources, conditions }));
  const objects = (buckets: readonly s3.IBucket[], pattern = '*') => buckets.map((b) => b.arnForObjects(pattern));
  const buckets = (list: readonly s3.IBucket[]) => list.map((b) => b.bucketArn);
  const allOriginals = [r.originals, ...r.originalReplicas];
  const allVariants = [r.variants, ...r.variantReplicas];

  // The version map. AWS counts the attributes a condition evaluates in dynamodb:Attributes, so a
  // reservation's and a publish's lists name tombstonedAt, which their conditions read.
  // https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html
  // Every read of the version map reads the tombstones too (tasks/shared/version-map.ts).
  const readVersions = (task: TaskName) => allow(task, ['dynamodb:GetItem'], [r.versions.tableArn, r.tombstones.tableArn]);
  const updateVersions = (task: TaskName, attributes: readonly string[]) =>
    allow(task, ['dynamodb:UpdateItem'], [r.versions.tableArn], {
      'ForAllValues:StringEquals': { 'dynamodb:Attributes': [...attributes] },
      'StringEqualsIfExists': { 'dynamodb:ReturnValues': ['NONE', 'UPDATED_OLD', 'UPDATED_NEW'] },
    });
  for (const task of ['probe-original', 'render-variants', 'publish-version', 'prepare-rerender'] as const) readVersions(task);
  updateVersions('render-variants', RESERVE_ATTRIBUTES);
  updateVersions('publish-version', PUBLISH_ATTRIBUTES);
  // The tombstone: the one write to the tombstones table, and the one unconfined write to the version map,
  // returning the row it leaves (ALL_NEW).
  allow('inventory-image', ['dynamodb:UpdateItem'], [r.tombstones.tableArn, r.versions.tableArn]);

  // Powertools' idempotency: get, put (conditional), update and delete its own records.
  // https://docs.powertools.aws.dev/lambda/typescript/latest/features/idempotency/#iam-permissions
  for (const task of ['render-variants', 'publish-version', 'quarantine-original', 'inventory-image', 'complete-takedown', 'complete-rerender'] as const) {
    allow(task, ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'], [r.idempotency.tableArn], {
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`pictor-${task}#*`] },
    });
  }

  // Upload: probe reads the upload; render reads it and stages its variants and the bytes it rendered from.
  for (const task of ['probe-original', 'render-variants', 'prepare-rerender'] as const) allow(task, ['s3:GetObject'], objects([r.originals]));
  for (const task of ['probe-original', 'prepare-rerender'] as const) allow(task, ['s3:ListBucket'], buckets([r.originals]));
  allow('render-variants', ['s3:PutObject'], objects([r.variants], `${STAGING_PREFIX}*`));

  // Publish: copies the staging into place in every variants bucket and the snapshot beside the
  // originals, points the published pointer, empties `latest`; after a takedown it withdraws
  // what it put in place (the snapshot and the pointer, every version, as the takedown erases them).
  const published = [SNAPSHOT_PREFIX, PUBLISHED_PREFIX].map((prefix) => r.originals.arnForObjects(`${prefix}*`));
  allow('publish-version', ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion'], published);
  allow('publish-version', ['s3:ListBucket', 's3:ListBucketVersions'], buckets([r.originals]));
  allow('publish-version', ['s3:GetObject'], objects([r.variants], `${STAGING_PREFIX}*`));
  allow('publish-version', ['s3:PutObject', 's3:DeleteObject'], objects(allVariants));
  allow('publish-version', ['s3:ListBucket'], buckets(allVariants));

  // Quarantine: copies the rejected upload's version under _quarantine/ and erases that version.
  allow('quarantine-original', ['s3:GetObject', 's3:GetObjectVersion', 's3:DeleteObject', 's3:DeleteObjectVersion'], objects([r.originals]));
  allow('quarantine-original', ['s3:PutObject'], objects([r.originals], `${QUARANTINE_PREFIX}*`));
  allow('quarantine-original', ['s3:ListBucket'], buckets([r.originals]));

  // Discard: erases an upload to a taken-down id, every version, in the originals and each replica.
  allow('discard-upload', ['s3:GetObject', 's3:DeleteObject'], objects([r.originals]));
  allow('discard-upload', ['s3:DeleteObjectVersion'], objects(allOriginals));
  allow('discard-upload', ['s3:ListBucket', 's3:ListBucketVersions'], buckets(allOriginals));

  // Takedown: each task reads what an earlier one left under takedowns/ and writes its own part.
  const takedowns = objects([r.reports], `${TAKEDOWNS}*`);
  for (const task of ['accept-takedown', 'inventory-image', 'erase-objects', 'complete-takedown'] as const) allow(task, ['s3:PutObject'], takedowns);
  for (const task of ['erase-objects', 'invalidate-image', 'verify-gone', 'record-takedown', 'complete-takedown'] as const) {
    allow(task, ['s3:GetObject'], takedowns);
    allow(task, ['s3:ListBucket'], buckets([r.reports]));
  }
  allow('inventory-image', ['s3:ListBucketVersions'], buckets([...allOriginals, ...allVariants]));
  allow('erase-objects', ['s3:GetObject', 's3:DeleteObject', 's3:DeleteObjectVersion'], objects([...allOriginals, ...allVariants]));
  allow('erase-objects', ['s3:ListBucket', 's3:ListBucketVersions'], buckets([...allOriginals, ...allVariants]));
  // The audit record: written once (If-None-Match after a HEAD), locked by the bucket's default retention.
  allow('record-takedown', ['s3:GetObject', 's3:PutObject'], objects([r.audit]));
  allow('record-takedown', ['s3:ListBucket'], buckets([r.audit]));
  const distributionArn = `arn:${Stack.of(r.reports).partition}:cloudfront::${Stack.of(r.reports).account}:distribution/${r.distributionId}`;
  allow('invalidate-image', ['cloudfront:CreateInvalidation', 'cloudfront:GetInvalidation'], [distributionArn]);
  allow('check-invalidation', ['cloudfront:GetInvalidation'], [distributionArn]);

  // Tenants at run time, from the edge's configuration store; plan-rerender lists them all.
  // https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudfrontkeyvaluestore.html
  for (const task of TENANT_READERS) allow(task, ['cloudfront-keyvaluestore:GetKey'], [r.tenantStoreArn]);
  allow('plan-rerender', ['cloudfront-keyvaluestore:ListKeys'], [r.tenantStoreArn]);
  // verify-gone signs the private URLs it checks: it alone reads the signing-key secrets, and only those.
  // A secret's ARN ends in a hyphen and six random characters. https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_examples.html
  const stack = Stack.of(r.reports);
  allow('verify-gone', ['secretsmanager:GetSecretValue'], [`arn:${stack.partition}:secretsmanager:${stack.region}:${stack.account}:secret:${r.signingSecretPrefix}*`]);

  // Re-render: list-originals pages through the originals; tally and complete read the map runs'
  // results and write the job's failures and report, all under rerenders/<jobId>/.
  allow('list-originals', ['s3:ListBucket'], buckets([r.originals]));
  for (const task of ['tally-rerender', 'complete-rerender'] as const) {
    allow(task, ['s3:GetObject'], objects([r.reports], `${RERENDERS}*`));
    allow(task, ['s3:ListBucket'], buckets([r.reports]));
  }
  allow('tally-rerender', ['s3:PutObject'], objects([r.reports], `${RERENDERS}*/failures/*`));
  allow('complete-rerender', ['s3:PutObject'], objects([r.reports], `${RERENDERS}*/report.json`));

  for (const fn of Object.values(f)) {
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
