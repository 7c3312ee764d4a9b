import { extname } from 'node:path';
import { PUBLISHED_PREFIX, QUARANTINE_PREFIX, SNAPSHOT_PREFIX, STAGING_PREFIX } from '../core/object-keys.ts';
import type { PictorDetailType } from '../events/schemas/pictor-events.ts';
import { RERENDERS_PREFIX } from './shared/rerender-state.ts';
import { TAKEDOWNS_PREFIX } from './shared/takedown-state.ts';

/**
 * Every task, declared once: infra creates its Lambda, role and grants from this
 * (infra/pipeline.ts, infra/task-access.ts), the bundler bundles its handler
 * (infra/bundle-tasks.ts), the twin runs it (local/pipeline/local-pipeline.ts) and
 * the task itself reads its idempotency key here (tasks/shared/task-handler.ts).
 * Adding a task is its folder, `tasks/<name>/handler.ts` exporting `createHandler`
 * and `handler`, and one entry below; a workflow then places it in its flow.
 *
 * Plain data, imported by CDK at synth time, by the twin and by every task's bundle:
 * no AWS SDK, no aws-cdk-lib, no handler imports here.
 */

/** The variables every task reads (tasks/shared/task-config.ts requires them all). */
export const PIPELINE_ENVIRONMENT = [
  'PICTOR_ACCOUNT_ID',
  'PICTOR_ORIGINALS_BUCKET',
  'PICTOR_VARIANTS_BUCKET',
  'PICTOR_REPORTS_BUCKET',
  'PICTOR_VARIANT_REPLICAS',
  'PICTOR_VERSIONS_TABLE',
  'PICTOR_TOMBSTONES_TABLE',
  'PICTOR_IDEMPOTENCY_TABLE',
  'PICTOR_EVENT_BUS',
  'PICTOR_TENANT_STORE_ARN',
] as const;

/** What a takedown's tasks (and discard-upload, which erases replicas too) read besides. */
export const TAKEDOWN_ENVIRONMENT = [
  'PICTOR_ORIGINAL_REPLICAS',
  'PICTOR_AUDIT_BUCKET',
  'PICTOR_DISTRIBUTION_ID',
  'PICTOR_EDGE_URL',
  'PICTOR_INVALIDATION_DEADLINE_SECONDS',
] as const;

/**
 * Every variable a task may be given, in the order a function's environment lists them.
 * PICTOR_TASK, which names the task's folder, is set on every function besides.
 */
export const TASK_ENVIRONMENT = [
  ...PIPELINE_ENVIRONMENT,
  ...TAKEDOWN_ENVIRONMENT,
  'PICTOR_SIGNING_SECRETS_PREFIX',
  'PICTOR_RERENDER_PAGE_SIZE',
  'PICTOR_RERENDER_PAGES_PER_EXECUTION',
] as const;
export type TaskEnvironmentVariable = (typeof TASK_ENVIRONMENT)[number];

/** The pipeline's buckets, as a grant names them; the replicas are the failover regions' copies. */
export type TaskBucket = 'originals' | 'originalReplicas' | 'variants' | 'variantReplicas' | 'audit' | 'reports';

/** What a grant is on. infra/task-access.ts turns each into ARNs. */
export type TaskResource =
  /** Objects in these buckets, under these key patterns (`*` when none is given). */
  | { readonly objects: readonly TaskBucket[]; readonly keys?: readonly string[] }
  /** The buckets themselves (ListBucket, ListBucketVersions). */
  | { readonly buckets: readonly TaskBucket[] }
  /**
   * The version map and the tombstones. `attributes` confines an UpdateItem to what
   * a reservation or a publish writes (tasks/shared/dynamodb-version-map.ts), by `dynamodb:Attributes`.
   */
  | { readonly tables: readonly ('versions' | 'tombstones')[]; readonly attributes?: 'reserve' | 'publish' | 'note' }
  /** The CloudFront distribution takedowns invalidate. */
  | 'distribution'
  /** The edge's TenantConfigStore (a CloudFront KeyValueStore), where tasks read tenants at run time. */
  | 'tenant-store'
  /** The tenants' signing-key secrets in Secrets Manager, by their name prefix. */
  | 'signing-secrets';

/** One IAM statement of a task's role: these actions on that resource, nothing more. */
export interface TaskGrant {
  readonly actions: readonly string[];
  readonly on: TaskResource;
}

export interface TaskDeclaration {
  /** The function's memory, in MB; CPU grows with it. https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html */
  readonly memoryMiB: number;
  /** How long Lambda lets it run. https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html */
  readonly timeoutSeconds: number;
  /** The variables it is given (names only: infra supplies the values), besides PICTOR_TASK. */
  readonly environment: readonly TaskEnvironmentVariable[];
  /**
   * JMESPath into the task's event for Powertools' idempotency key; absent for a task that
   * is safe to repeat. A key also grants the task its own idempotency records (infra/task-access.ts).
   */
  readonly idempotencyKey?: string;
  /**
   * Exactly the calls its code makes, in the order its role lists them; the role may write
   * its own log group, X-Ray and the dead-letter queue besides (infra/pipeline.ts).
   */
  readonly access: readonly TaskGrant[];
  /** The detail-types it sends to Pictor's event bus. @default none */
  readonly publishes?: readonly PictorDetailType[];
}

/** Every read of the version map reads the tombstones too (tasks/shared/dynamodb-version-map.ts). */
const READ_VERSIONS: TaskGrant = { actions: ['dynamodb:GetItem'], on: { tables: ['versions', 'tombstones'] } };
/** The tasks that look a tenant up (tasks/shared/store-tenants.ts storeTenants). */
const READ_TENANTS: TaskGrant = { actions: ['cloudfront-keyvaluestore:GetKey'], on: 'tenant-store' };
/**
 * Reading keys that may be missing needs ListBucket too: without it S3 answers 403
 * instead of 404, which the stores would take for an outage.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html
 */
const list = (...buckets: TaskBucket[]): TaskGrant => ({ actions: ['s3:ListBucket'], on: { buckets } });
/** What an earlier takedown task left under takedowns/. */
const READ_TAKEDOWNS: readonly TaskGrant[] = [{ actions: ['s3:GetObject'], on: { objects: ['reports'], keys: [`${TAKEDOWNS_PREFIX}*`] } }, list('reports')];
const WRITE_TAKEDOWNS: TaskGrant = { actions: ['s3:PutObject'], on: { objects: ['reports'], keys: [`${TAKEDOWNS_PREFIX}*`] } };
/** A re-render's map-run results and what tally-rerender wrote, under rerenders/<jobId>/. */
const READ_RERENDERS: readonly TaskGrant[] = [{ actions: ['s3:GetObject'], on: { objects: ['reports'], keys: [`${RERENDERS_PREFIX}*`] } }, list('reports')];
const ALL_ORIGINALS: readonly TaskBucket[] = ['originals', 'originalReplicas'];
const ALL_VARIANTS: readonly TaskBucket[] = ['variants', 'variantReplicas'];

const declarations = {
  'probe-original': {
    memoryMiB: 1024,
    timeoutSeconds: 30,
    environment: PIPELINE_ENVIRONMENT,
    // Reads the upload's header and the version map, and notes the upload and its execution
    // there (a note of the same upload again changes nothing): safe to repeat.
    access: [
      READ_VERSIONS,
      { actions: ['dynamodb:UpdateItem'], on: { tables: ['versions'], attributes: 'note' } },
      { actions: ['s3:GetObject'], on: { objects: ['originals'] } },
      list('originals'),
      READ_TENANTS,
    ],
  },
  'render-variants': {
    // Decoding a 12 MP photo and encoding nine outputs wants memory and time.
    memoryMiB: 3008,
    timeoutSeconds: 120,
    environment: PIPELINE_ENVIRONMENT,
    idempotencyKey: 'input.idempotencyKey',
    // Reads the upload, reserves its version, stages the variants and the bytes it rendered from.
    access: [
      READ_VERSIONS,
      { actions: ['dynamodb:UpdateItem'], on: { tables: ['versions'], attributes: 'reserve' } },
      { actions: ['s3:GetObject'], on: { objects: ['originals'] } },
      { actions: ['s3:PutObject'], on: { objects: ['variants'], keys: [`${STAGING_PREFIX}*`] } },
      READ_TENANTS,
    ],
  },
  'publish-version': {
    memoryMiB: 512,
    // A takedown waits this long for a publish in flight (infra/pipeline.ts, lateWriteWindow).
    timeoutSeconds: 30,
    environment: PIPELINE_ENVIRONMENT,
    idempotencyKey: 'input.idempotencyKey',
    // Copies the staging into place in every variants bucket and the snapshot beside the originals,
    // points the published pointer, empties `latest`; after a takedown it withdraws what it put in
    // place (the snapshot and the pointer, every version, as the takedown erases them).
    access: [
      READ_VERSIONS,
      { actions: ['dynamodb:UpdateItem'], on: { tables: ['versions'], attributes: 'publish' } },
      { actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion'], on: { objects: ['originals'], keys: [`${SNAPSHOT_PREFIX}*`, `${PUBLISHED_PREFIX}*`] } },
      { actions: ['s3:ListBucket', 's3:ListBucketVersions'], on: { buckets: ['originals'] } },
      { actions: ['s3:GetObject'], on: { objects: ['variants'], keys: [`${STAGING_PREFIX}*`] } },
      { actions: ['s3:PutObject', 's3:DeleteObject'], on: { objects: ALL_VARIANTS } },
      list(...ALL_VARIANTS),
    ],
    publishes: ['Version Bumped', 'Variants Rendered'],
  },
  'quarantine-original': {
    memoryMiB: 512,
    timeoutSeconds: 30,
    environment: PIPELINE_ENVIRONMENT,
    idempotencyKey: 'input.idempotencyKey',
    // Copies the rejected upload's version under _quarantine/ and erases that version.
    access: [
      { actions: ['s3:GetObject', 's3:GetObjectVersion', 's3:DeleteObject', 's3:DeleteObjectVersion'], on: { objects: ['originals'] } },
      { actions: ['s3:PutObject'], on: { objects: ['originals'], keys: [`${QUARANTINE_PREFIX}*`] } },
      list('originals'),
    ],
    publishes: ['Original Rejected'],
  },
  'discard-upload': {
    memoryMiB: 512,
    timeoutSeconds: 60,
    environment: [...PIPELINE_ENVIRONMENT, ...TAKEDOWN_ENVIRONMENT],
    // Erases an upload to a taken-down id, every version, in the originals and each replica: safe to repeat.
    access: [
      { actions: ['s3:GetObject', 's3:DeleteObject'], on: { objects: ['originals'] } },
      { actions: ['s3:DeleteObjectVersion'], on: { objects: ALL_ORIGINALS } },
      { actions: ['s3:ListBucket', 's3:ListBucketVersions'], on: { buckets: ALL_ORIGINALS } },
    ],
    publishes: ['Upload Discarded'],
  },
  'accept-takedown': {
    memoryMiB: 256,
    timeoutSeconds: 10,
    environment: [...PIPELINE_ENVIRONMENT, ...TAKEDOWN_ENVIRONMENT],
    // A repeat writes the same items to the same key.
    access: [WRITE_TAKEDOWNS],
  },
  'inventory-image': {
    // Listing and deleting every version of an image in three regions.
    memoryMiB: 512,
    timeoutSeconds: 60,
    environment: [...PIPELINE_ENVIRONMENT, ...TAKEDOWN_ENVIRONMENT],
    // A repeated batch (EventBridge delivers at least once) gets the first run's
    // list, not an empty one taken after the objects were deleted.
    idempotencyKey: "join('/', [input.batchId, input.item.tenant, input.item.imageId])",
    access: [
      // The tombstone: the one write to the tombstones table, and the one unconfined write to the version map,
      // returning the row it leaves (ALL_NEW).
      { actions: ['dynamodb:UpdateItem'], on: { tables: ['tombstones', 'versions'] } },
      WRITE_TAKEDOWNS,
      { actions: ['s3:ListBucketVersions'], on: { buckets: [...ALL_ORIGINALS, ...ALL_VARIANTS] } },
      READ_TENANTS,
    ],
  },
  'erase-objects': {
    memoryMiB: 512,
    timeoutSeconds: 120,
    environment: [...PIPELINE_ENVIRONMENT, ...TAKEDOWN_ENVIRONMENT],
    // Deleting is safe to repeat.
    access: [
      WRITE_TAKEDOWNS,
      ...READ_TAKEDOWNS,
      { actions: ['s3:GetObject', 's3:DeleteObject', 's3:DeleteObjectVersion'], on: { objects: [...ALL_ORIGINALS, ...ALL_VARIANTS] } },
      { actions: ['s3:ListBucket', 's3:ListBucketVersions'], on: { buckets: [...ALL_ORIGINALS, ...ALL_VARIANTS] } },
    ],
  },
  'invalidate-image': {
    memoryMiB: 256,
    timeoutSeconds: 30,
    environment: [...PIPELINE_ENVIRONMENT, ...TAKEDOWN_ENVIRONMENT],
    // The CallerReference makes a repeat return the same invalidation.
    access: [...READ_TAKEDOWNS, { actions: ['cloudfront:CreateInvalidation', 'cloudfront:GetInvalidation'], on: 'distribution' }, READ_TENANTS],
  },
  'check-invalidation': {
    memoryMiB: 256,
    timeoutSeconds: 30,
    environment: [...PIPELINE_ENVIRONMENT, ...TAKEDOWN_ENVIRONMENT],
    access: [{ actions: ['cloudfront:GetInvalidation'], on: 'distribution' }],
  },
  'verify-gone': {
    memoryMiB: 512,
    timeoutSeconds: 60,
    environment: [...PIPELINE_ENVIRONMENT, ...TAKEDOWN_ENVIRONMENT, 'PICTOR_SIGNING_SECRETS_PREFIX'],
    // It signs the private URLs it checks: it alone reads the signing-key secrets, and only those.
    access: [...READ_TAKEDOWNS, READ_TENANTS, { actions: ['secretsmanager:GetSecretValue'], on: 'signing-secrets' }],
  },
  'record-takedown': {
    memoryMiB: 256,
    timeoutSeconds: 30,
    environment: [...PIPELINE_ENVIRONMENT, ...TAKEDOWN_ENVIRONMENT],
    // The audit record: written once (If-None-Match after a HEAD), locked by the bucket's default retention.
    access: [...READ_TAKEDOWNS, { actions: ['s3:GetObject', 's3:PutObject'], on: { objects: ['audit'] } }, list('audit'), READ_TENANTS],
  },
  'complete-takedown': {
    memoryMiB: 256,
    timeoutSeconds: 30,
    environment: [...PIPELINE_ENVIRONMENT, ...TAKEDOWN_ENVIRONMENT],
    idempotencyKey: 'input.batchId',
    access: [WRITE_TAKEDOWNS, ...READ_TAKEDOWNS],
    publishes: ['Takedown Completed'],
  },
  'plan-rerender': {
    memoryMiB: 256,
    timeoutSeconds: 10,
    environment: [...PIPELINE_ENVIRONMENT, 'PICTOR_RERENDER_PAGE_SIZE', 'PICTOR_RERENDER_PAGES_PER_EXECUTION'],
    // Lists every tenant. https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudfrontkeyvaluestore.html
    access: [READ_TENANTS, { actions: ['cloudfront-keyvaluestore:ListKeys'], on: 'tenant-store' }],
  },
  'list-originals': {
    memoryMiB: 512,
    timeoutSeconds: 30,
    environment: PIPELINE_ENVIRONMENT,
    // Pages through the originals.
    access: [list('originals')],
  },
  'prepare-rerender': {
    memoryMiB: 256,
    timeoutSeconds: 30,
    environment: PIPELINE_ENVIRONMENT,
    access: [READ_VERSIONS, { actions: ['s3:GetObject'], on: { objects: ['originals'] } }, list('originals'), READ_TENANTS],
  },
  'tally-rerender': {
    // Reads a map run's result files, a few MB for a page of 1,000.
    memoryMiB: 512,
    timeoutSeconds: 60,
    environment: PIPELINE_ENVIRONMENT,
    access: [...READ_RERENDERS, { actions: ['s3:PutObject'], on: { objects: ['reports'], keys: [`${RERENDERS_PREFIX}*/failures/*`] } }],
  },
  'complete-rerender': {
    memoryMiB: 256,
    timeoutSeconds: 30,
    environment: PIPELINE_ENVIRONMENT,
    idempotencyKey: 'input.job.jobId',
    access: [...READ_RERENDERS, { actions: ['s3:PutObject'], on: { objects: ['reports'], keys: [`${RERENDERS_PREFIX}*/report.json`] } }],
    publishes: ['Rerender Completed'],
  },
} satisfies Record<string, TaskDeclaration>;

/** A task, by its folder name under tasks/. */
export type TaskName = keyof typeof declarations;

/** Every task's declaration, by name. */
export const TASK_REGISTRY: Readonly<Record<TaskName, TaskDeclaration>> = declarations;

/** The tasks, in the order they are declared (and their functions created). */
export const TASKS = Object.keys(declarations) as readonly TaskName[];

/**
 * A task's handler module: `tasks/<name>/handler.ts`, which exports `createHandler(config)`
 * (the twin calls it) and `handler` (Lambda's entry, which the bundler bundles).
 */
export function handlerModule(task: TaskName): URL {
  return new URL(`./${task}/handler${MODULE_EXTENSION}`, import.meta.url);
}

/** `.ts` in the source tree, `.js` in the built package: a handler is a sibling of this module either way. */
const MODULE_EXTENSION = extname(new URL(import.meta.url).pathname);

/** Whether a string names a declared task. */
export function isTaskName(name: string): name is TaskName {
  return Object.hasOwn(declarations, name);
}
