import { Aws, CfnOutput, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { SYSTEM_PREFIX } from '../core/object-keys.ts';
import type { PictorConfig } from '../core/tenant-config.ts';
import { DEFAULT_SIGNING_SECRET_PREFIX } from '../core/signing-keys.ts';
import { RenderOnUpload } from '../workflows/render-on-upload.ts';
import { DEFAULT_INVALIDATION_DEADLINE, MAX_INVALIDATION_DEADLINE, TakedownBatch } from '../workflows/takedown-batch.ts';
import { CatalogueRerender } from '../workflows/catalogue-rerender.ts';
import { DEFAULT_PAGE_SIZE, DEFAULT_PAGES_PER_EXECUTION, MAX_PAGES_PER_EXECUTION } from '../tasks/shared/rerender-state.ts';
import { taskEntry } from './bundle.ts';
import { ORIGIN_REQUEST_TIMEOUT } from './edge.ts';
import { ABORT_INCOMPLETE_UPLOADS, ACCESS_LOG_RETENTION, originalsLifecycle, PRIVATE_BUCKET, variantsLifecycle } from './buckets.ts';
import { bundledCode, sourceMapsWanted } from './lambda-code.ts';
import { PictorEventBus } from './event-bus.ts';
import { PICTOR_SOURCE } from '../events/schemas/pictor-events.ts';
import { acknowledge, acknowledgeWildcards, policyResources } from './nag.ts';
import { grantTaskAccess } from './task-access.ts';
import { PictorError } from '../core/errors.ts';
import { TASK_REGISTRY, TASKS, type TaskEnvironmentVariable, type TaskName } from '../tasks/registry.ts';

export { TASKS, type TaskName } from '../tasks/registry.ts';

/**
 * How long reports and the per-item results behind them are kept: long enough to
 * answer for a batch or a job a year on. The audit records themselves are kept
 * (and locked) for `auditRetention`.
 */
const REPORT_RETENTION = Duration.days(400);

/** A bucket the originals are replicated to, in another region. */
export interface ReplicaBucket {
  readonly bucketName: string;
  readonly region: string;
}

/** The CloudFront distribution that serves the images: takedowns invalidate it and check it. */
export interface DeliveryEdge {
  readonly distributionId: string;
  /** Where viewers reach it, such as https://d111.cloudfront.net */
  readonly url: string;
  /** The edge's TenantConfigStore ARN: where the tasks read tenants at run time (tenant-store/store-reader.ts); it holds no secret. */
  readonly tenantStoreArn: string;
  /**
   * The edge's TenantStore ARN: the viewer function's KeyValueStore, policies and
   * signing keys, which the control API's tenant and key operations write.
   * @default none: the control API cannot change tenants or keys
   */
  readonly viewerStoreArn?: string;
}

/** CatalogueRerender's paging: a deployment setting, so that a test can force continuations with small numbers. */
export interface RerenderPaging {
  /**
   * Originals listed and rendered per page (one Distributed Map run).
   * @default 1,000, the most S3 lists at once; a page's state stays below 256 KiB at any id length
   */
  readonly pageSize?: number;
  /**
   * Pages an execution handles before it continues the job as a new execution,
   * keeping its history below 25,000 events (tasks/shared/rerender-state.ts has the arithmetic).
   * @default 200; at most 461
   */
  readonly pagesPerExecution?: number;
}

/** Physical names for the pipeline's buckets, where other stacks must name them before they exist. */
export interface PipelineBucketNames {
  readonly originals: string;
  readonly variants: string;
  readonly audit: string;
  readonly reports: string;
  readonly accessLogs: string;
}

export interface PipelineProps {
  readonly tenants: PictorConfig;
  /**
   * The buckets' physical names.
   * @default names CloudFormation generates
   */
  readonly bucketNames?: PipelineBucketNames;
  /**
   * How long what a render staged for a version that was never published (its
   * run failed for good, or a newer upload won) is kept before a lifecycle rule deletes it.
   * @default 7 days
   */
  readonly unpublishedRetention?: Duration;
  /**
   * How long a takedown waits for its CloudFront invalidation to complete before
   * the image fails as InvalidationTimedOut (its audit record and the batch say so).
   * @default 30 minutes; at most 6 hours
   */
  readonly invalidationDeadline?: Duration;
  /**
   * How long a replaced original's old bytes (a noncurrent version) are kept, to undo an upload.
   * @default 30 days
   */
  readonly noncurrentRetention?: Duration;
  /**
   * Each task's deployment package, and the control API's (`'control-api'`).
   * @default the function's handler bundled at synth time by the local esbuild
   */
  readonly taskCode?: (task: TaskName | 'control-api') => lambda.Code;
  /**
   * Replicas of the originals bucket: Cross-Region Replication copies every upload
   * and delete marker there, and takedowns erase them too. Each must exist and be
   * versioned before this deploys.
   * @default none
   */
  readonly replicas?: readonly ReplicaBucket[];
  /**
   * The variants buckets of the distribution's other origins (the failover's):
   * publishing copies every version's standard variants there too, and takes
   * the `latest` generation down there too; takedowns erase there too.
   * @default none
   */
  readonly variantReplicas?: readonly ReplicaBucket[];
  /** The distribution takedowns invalidate and verify. */
  readonly edge: DeliveryEdge;
  /**
   * How CatalogueRerender pages through a catalogue.
   * @default pages of 1,000 originals, 200 pages per execution
   */
  readonly rerender?: RerenderPaging;
  /**
   * How long takedown audit records are locked against deletion (Object Lock, governance mode).
   * @default 7 years, a common retention for legal records
   */
  readonly auditRetention?: Duration;
  /**
   * Roles, by ARN, that may ask for takedowns: the pipeline's event bus admits a
   * "Takedown Requested" from them and from no one else. Their own IAM policies need
   * no PutEvents permission; the bus policy grants it.
   * @default a role `TakedownRequester` (its ARN is the stack output TakedownRequesterRoleArn) that the account's principals may assume where their IAM policies let them
   */
  readonly takedownRequesters?: readonly string[];
  /**
   * Roles, by ARN, that may ask for catalogue re-renders ("Rerender Requested").
   * @default a role `RerenderRequester`, likewise
   */
  readonly rerenderRequesters?: readonly string[];
  /**
   * The name prefix of the tenants' signing-key secrets in Secrets Manager, in this
   * stack's region (one secret per tenant, `{prefix}{tenant}`; core/signing-keys.ts).
   * verify-gone may read those and no other secret.
   * @default 'pictor/signing-keys/'
   */
  readonly signingSecretPrefix?: string;
}

/**
 * The pipeline's spine: storage, the version map, the task Lambdas, the state
 * machines and the EventBridge rules that start them. The local twin runs the
 * ASL and rules this construct synthesizes.
 */
export class Pipeline extends Construct {
  readonly originals: s3.Bucket;
  readonly variants: s3.Bucket;
  readonly versions: dynamodb.TableV2;
  /** Taken-down images, for good: only the takedown's inventory writes it. */
  readonly tombstones: dynamodb.TableV2;
  readonly idempotency: dynamodb.TableV2;
  readonly functions: Record<TaskName, lambda.Function>;
  readonly audit: s3.Bucket;
  /**
   * What workflows hand from step to step and keep for people, beside the state:
   * a takedown batch's accepted items, each image's inventory, the Distributed
   * Maps' per-item results, and every batch's and job's report. Step Functions
   * holds 256 KiB per state; this holds the rest.
   */
  readonly reports: s3.Bucket;
  readonly accessLogs: s3.Bucket;
  /** Where failed asynchronous invocations and undeliverable rule events end up. */
  readonly deadLetters: sqs.Queue;
  /** Pictor's own events; the rules that start takedowns and re-renders listen here. */
  readonly events: PictorEventBus;
  /** Who may send "Takedown Requested" and "Rerender Requested", by ARN. */
  readonly requesters: { readonly takedown: readonly string[]; readonly rerender: readonly string[] };
  readonly renderOnUpload: RenderOnUpload;
  readonly takedownBatch: TakedownBatch;
  readonly catalogueRerender: CatalogueRerender;
  /** Every variable a task may be given, with its value (each task gets those it declares). */
  readonly environment: Readonly<Record<TaskEnvironmentVariable, string>>;
  /** The name prefix of the tenants' signing-key secrets, in this construct's region. */
  readonly signingSecretPrefix: string;
  /** The viewer function's KeyValueStore, when the edge named it (DeliveryEdge.viewerStoreArn). */
  readonly viewerStoreArn?: string;

  constructor(scope: Construct, id: string, props: PipelineProps) {
    super(scope, id);
    const names = props.bucketNames;
    const secure = { ...PRIVATE_BUCKET, objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED };
    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      // Its ownership is CDK's choice: log delivery by bucket policy or by ACL, as the app's feature flag says.
      ...PRIVATE_BUCKET,
      bucketName: names?.accessLogs,
      lifecycleRules: [ACCESS_LOG_RETENTION],
    });
    const unpublished = props.unpublishedRetention ?? Duration.days(7);
    const invalidationDeadline = props.invalidationDeadline ?? DEFAULT_INVALIDATION_DEADLINE;
    if (invalidationDeadline.toSeconds() < 1 || invalidationDeadline.toSeconds() > MAX_INVALIDATION_DEADLINE.toSeconds()) {
      throw new PictorError('InvalidConfig', `invalidationDeadline must be from 1 second to ${MAX_INVALIDATION_DEADLINE.toHours()} hours, not ${invalidationDeadline.toHumanString()}: each poll takes room in the takedown's execution history.`);
    }
    const pageSize = props.rerender?.pageSize ?? DEFAULT_PAGE_SIZE;
    const pagesPerExecution = props.rerender?.pagesPerExecution ?? DEFAULT_PAGES_PER_EXECUTION;
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) throw new PictorError('InvalidConfig', `rerender.pageSize must be a whole number from 1 to 1,000 (S3 lists 1,000 keys at most), not ${pageSize}.`);
    if (!Number.isInteger(pagesPerExecution) || pagesPerExecution < 1 || pagesPerExecution > MAX_PAGES_PER_EXECUTION) {
      throw new PictorError('InvalidConfig', `rerender.pagesPerExecution must be a whole number from 1 to ${MAX_PAGES_PER_EXECUTION}, not ${pagesPerExecution}: more pages could pass an execution's 25,000 history events.`);
    }
    const replicas = (props.replicas ?? []).map((r, i) => s3.Bucket.fromBucketAttributes(this, `Replica${i}`, { bucketName: r.bucketName, region: r.region }));
    const variantReplicas = (props.variantReplicas ?? []).map((r, i) => s3.Bucket.fromBucketAttributes(this, `VariantReplica${i}`, { bucketName: r.bucketName, region: r.region }));
    this.originals = new s3.Bucket(this, 'Originals', {
      ...secure,
      bucketName: names?.originals,
      eventBridgeEnabled: true,
      versioned: true,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'originals/',
      lifecycleRules: originalsLifecycle({ noncurrent: props.noncurrentRetention }),
      // Every upload and delete reaches the replicas, so a failover serves what the primary would,
      // and a takedown's delete markers follow. https://docs.aws.amazon.com/AmazonS3/latest/userguide/delete-marker-replication.html
      replicationRules: replicas.length
        ? replicas.map((destination, i) => ({
            id: `to-${props.replicas![i]!.region}`,
            destination,
            priority: i,
            deleteMarkerReplication: true,
            // Replication Time Control bounds the lag (99.99% within 15 minutes), which erasing waits out:
            // a copy that lands on a replica after an erase would outlive it.
            // https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-time-control.html
            replicationTimeControl: s3.ReplicationTimeValue.FIFTEEN_MINUTES,
            metrics: s3.ReplicationTimeValue.FIFTEEN_MINUTES,
          }))
        : undefined,
    });
    this.variants = new s3.Bucket(this, 'Variants', {
      ...secure,
      bucketName: names?.variants,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'variants/',
      lifecycleRules: variantsLifecycle(unpublished),
    });
    this.audit = new s3.Bucket(this, 'Audit', {
      ...secure,
      bucketName: names?.audit,
      versioned: true,
      objectLockEnabled: true,
      objectLockDefaultRetention: s3.ObjectLockRetention.governance(props.auditRetention ?? Duration.days(7 * 365)),
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'audit/',
    });
    this.reports = new s3.Bucket(this, 'Reports', {
      ...secure,
      bucketName: names?.reports,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'reports/',
      lifecycleRules: [ABORT_INCOMPLETE_UPLOADS, { id: 'expire-reports', expiration: REPORT_RETENTION }],
    });
    this.versions = new dynamodb.TableV2(this, 'Versions', {
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // A table of its own, so that IAM can let one role write a tombstone: the roles that reserve and publish
    // must name the version map's tombstonedAt, which their conditions read (infra/task-access.ts).
    this.tombstones = new dynamodb.TableV2(this, 'Tombstones', {
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.idempotency = new dynamodb.TableV2(this, 'Idempotency', {
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: 'expiration',
    });

    this.events = new PictorEventBus(this, 'Events', { eventBusName: `${Stack.of(this).stackName}-events` });
    const signingSecretPrefix = (this.signingSecretPrefix = props.signingSecretPrefix ?? DEFAULT_SIGNING_SECRET_PREFIX);
    this.viewerStoreArn = props.edge.viewerStoreArn;
    const replicaList = (list: readonly ReplicaBucket[] | undefined) => JSON.stringify((list ?? []).map((r) => ({ bucket: r.bucketName, region: r.region })));
    // Every variable a task may be given; each task gets those its declaration names (tasks/registry.ts).
    const environment: Record<TaskEnvironmentVariable, string> = (this.environment = {
      PICTOR_ACCOUNT_ID: Aws.ACCOUNT_ID,
      PICTOR_ORIGINALS_BUCKET: this.originals.bucketName,
      PICTOR_VARIANTS_BUCKET: this.variants.bucketName,
      PICTOR_REPORTS_BUCKET: this.reports.bucketName,
      PICTOR_VARIANT_REPLICAS: replicaList(props.variantReplicas),
      PICTOR_VERSIONS_TABLE: this.versions.tableName,
      PICTOR_TOMBSTONES_TABLE: this.tombstones.tableName,
      PICTOR_IDEMPOTENCY_TABLE: this.idempotency.tableName,
      PICTOR_EVENT_BUS: this.events.bus.eventBusName,
      PICTOR_TENANT_STORE_ARN: props.edge.tenantStoreArn,
      PICTOR_ORIGINAL_REPLICAS: replicaList(props.replicas),
      PICTOR_AUDIT_BUCKET: this.audit.bucketName,
      PICTOR_DISTRIBUTION_ID: props.edge.distributionId,
      PICTOR_EDGE_URL: props.edge.url,
      PICTOR_INVALIDATION_DEADLINE_SECONDS: String(invalidationDeadline.toSeconds()),
      PICTOR_SIGNING_SECRETS_PREFIX: signingSecretPrefix,
      PICTOR_RERENDER_PAGE_SIZE: String(pageSize),
      PICTOR_RERENDER_PAGES_PER_EXECUTION: String(pagesPerExecution),
    });
    // Step Functions invokes the tasks synchronously; anything that invokes one
    // asynchronously (a re-drive, a future rule) gets its failures kept here.
    this.deadLetters = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    // No tenant and no secret in a bundle or an environment: the tasks read tenants from the
    // tenant store at run time, and verify-gone its signing keys from Secrets Manager.
    const sourceMap = sourceMapsWanted(this);
    const code = props.taskCode ?? ((task: TaskName) => bundledCode(taskEntry(task), { sourceMap }));
    const fn = (task: TaskName) => {
      const declared = TASK_REGISTRY[task];
      const logGroup = taskLogGroup(this, pascal(task));
      const created = new lambda.Function(this, pascal(task), {
        runtime: lambda.Runtime.NODEJS_22_X,
        architecture: lambda.Architecture.X86_64,
        handler: 'index.handler',
        code: code(task),
        memorySize: declared.memoryMiB,
        timeout: Duration.seconds(declared.timeoutSeconds),
        // PICTOR_TASK names the handler module, for the local twin and for humans.
        environment: {
          ...pick(environment, declared.environment),
          PICTOR_TASK: task,
          // Stack traces through the shipped map. https://nodejs.org/api/cli.html#--enable-source-maps
          ...(sourceMap ? { NODE_OPTIONS: '--enable-source-maps' } : {}),
        },
        deadLetterQueue: this.deadLetters,
        tracing: lambda.Tracing.ACTIVE,
        logGroup,
        role: taskRole(this, pascal(task), logGroup),
      });
      acknowledge(created, {
        'AwsSolutions-L1': 'Pinned to nodejs22.x, which the bundles target (esbuild node22) and are tested on; a runtime upgrade is a tested change of its own.',
      });
      return created;
    };
    this.functions = Object.fromEntries(TASKS.map((task) => [task, fn(task)])) as Record<TaskName, lambda.Function>;
    const f = this.functions;
    grantTaskAccess({
      functions: f,
      originals: this.originals,
      originalReplicas: replicas,
      variants: this.variants,
      variantReplicas,
      audit: this.audit,
      reports: this.reports,
      versions: this.versions,
      tombstones: this.tombstones,
      idempotency: this.idempotency,
      distributionId: props.edge.distributionId,
      tenantStoreArn: props.edge.tenantStoreArn,
      signingSecretPrefix,
      events: this.events,
    });

    this.requesters = {
      takedown: props.takedownRequesters ?? [this.requesterRole('TakedownRequester', 'ask for takedowns (send "Takedown Requested" to its event bus)').roleArn],
      rerender: props.rerenderRequesters ?? [this.requesterRole('RerenderRequester', 'ask for catalogue re-renders (send "Rerender Requested" to its event bus)').roleArn],
    };
    this.events.allowSenders(this.requesters.takedown, 'Takedown Requested');
    this.events.allowSenders(this.requesters.rerender, 'Rerender Requested');

    this.renderOnUpload = new RenderOnUpload(this, 'RenderOnUpload', { functions: f });
    new events.Rule(this, 'OnOriginalUploaded', {
      description: 'Uploads (not system keys) start RenderOnUpload.',
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['Object Created'],
        detail: { bucket: { name: [this.originals.bucketName] }, object: { key: [{ 'anything-but': { prefix: SYSTEM_PREFIX } }] } },
      },
      targets: [new targets.SfnStateMachine(this.renderOnUpload.stateMachine, this.delivery())],
    });

    this.takedownBatch = new TakedownBatch(this, 'TakedownBatch', {
      // Lambda ends a function at its timeout: nothing a publish or an edge render started before the tombstone writes later.
      // https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html
      lateWriteWindow: Duration.seconds(Math.max(TASK_REGISTRY['publish-version'].timeoutSeconds, ORIGIN_REQUEST_TIMEOUT.toSeconds()) + 5),
      functions: f,
      reports: this.reports,
    });
    new events.Rule(this, 'OnTakedownRequested', {
      description: 'A "Takedown Requested" event starts TakedownBatch; its event id names the batch.',
      eventBus: this.events.bus,
      eventPattern: { source: [PICTOR_SOURCE], detailType: ['Takedown Requested'] },
      targets: [
        new targets.SfnStateMachine(this.takedownBatch.stateMachine, {
          ...this.delivery(),
          // The event id makes a redelivered event the same batch: same CallerReferences, same audit keys.
          input: events.RuleTargetInput.fromObject({ batchId: events.EventField.eventId, requestedAt: events.EventField.time, detail: events.EventField.fromPath('$.detail') }),
        }),
      ],
    });

    const rerenderName = `${Stack.of(this).stackName}-CatalogueRerender`;
    if (rerenderName.length > 80) throw new PictorError('InvalidConfig', `The stack name makes the state machine name '${rerenderName}', over Step Functions' 80 characters: use a shorter stack name.`);
    this.catalogueRerender = new CatalogueRerender(this, 'CatalogueRerender', {
      stateMachineName: rerenderName,
      reports: this.reports,
      functions: f,
    });
    new events.Rule(this, 'OnRerenderRequested', {
      description: 'A "Rerender Requested" event starts CatalogueRerender; its event id names the job.',
      eventBus: this.events.bus,
      eventPattern: { source: [PICTOR_SOURCE], detailType: ['Rerender Requested'] },
      targets: [
        new targets.SfnStateMachine(this.catalogueRerender.stateMachine, {
          ...this.delivery(),
          input: events.RuleTargetInput.fromObject({ jobId: events.EventField.eventId, detail: events.EventField.fromPath('$.detail') }),
        }),
      ],
    });

    const replication = this.originals.node.tryFindChild('ReplicationRole');
    if (replication) {
      acknowledgeWildcards(
        replication,
        [this.originals, ...replicas].map((bucket) => bucket.arnForObjects('*')),
        'Replication reads every object of the originals and writes each to the replicas under the same key.',
      );
    }
    for (const workflow of [this.renderOnUpload, this.takedownBatch, this.catalogueRerender]) {
      acknowledge(workflow.stateMachine, {
        'AwsSolutions-SF1':
          "Executions log their failures with data (level ERROR); level ALL would log every Distributed Map child's every step at CloudWatch Logs' ingestion price, and X-Ray traces those.",
        'AwsSolutions-IAM5[Resource::*]': "X-Ray tracing and the execution logs' delivery (logs:CreateLogDelivery and its kin) accept no narrower resource.",
      });
      acknowledgeWildcards(
        workflow.stateMachine,
        Object.values(this.functions).map((fn) => `${fn.functionArn}:*`),
        "CDK's invoke grant for a state machine covers the function's versions and aliases too.",
      );
    }
    acknowledgeWildcards(
      this.catalogueRerender.stateMachine,
      [`arn:${Stack.of(this).partition}:s3:::${this.reports.bucketName}/*`],
      "CDK's ResultWriter grant: Step Functions writes each map run's results under a prefix it names per run (<prefix>/<map run id>/).",
    );
    acknowledgeWildcards(
      this.takedownBatch.stateMachine,
      [`arn:${Stack.of(this).partition}:s3:::${this.reports.bucketName}/*`],
      "CDK's ItemReader and ResultWriter grants: the map reads the batch's items (takedowns/<batch>/request.json, the batch chosen at run time) and Step Functions writes its results under a prefix it names per map run.",
    );
    for (const workflow of [this.takedownBatch, this.catalogueRerender]) {
      const policy = workflow.stateMachine.node.findChild('DistributedMapPolicy') as iam.Policy;
      acknowledgeWildcards(policy, policyResources(policy, policy.document), "A Distributed Map starts and stops its child executions, whose names Step Functions chooses.");
    }
  }

  /**
   * A role people assume to send one kind of request: it holds no permission of its
   * own; the event bus's policy names it. Its ARN is a stack output.
   */
  private requesterRole(id: string, what: string): iam.Role {
    const role = new iam.Role(this, id, { description: `Pictor: ${what}`, assumedBy: new iam.AccountRootPrincipal() });
    new CfnOutput(this, `${id}RoleArn`, { value: role.roleArn, description: `Assume this role to ${what}.` }).overrideLogicalId(`${id}RoleArn`);
    return role;
  }

  /**
   * How a rule delivers to its state machine: EventBridge retries for a day, then
   * keeps the event. https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html
   */
  private delivery(): { deadLetterQueue: sqs.IQueue; retryAttempts: number; maxEventAge: Duration } {
    return { deadLetterQueue: this.deadLetters, retryAttempts: 185, maxEventAge: Duration.hours(24) };
  }
}

/**
 * How long the tasks' logs are kept: a quarter, for the alarms' investigations; the audit
 * records and reports keep what must last longer.
 */
export const TASK_LOG_RETENTION = logs.RetentionDays.THREE_MONTHS;

/**
 * A task's own log group, which the function names in its logging configuration,
 * so that its role can be granted that group alone.
 * https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-loggroups.html
 */
function taskLogGroup(scope: Construct, id: string): logs.LogGroup {
  return new logs.LogGroup(scope, `${id}Logs`, { retention: TASK_LOG_RETENTION, removalPolicy: RemovalPolicy.RETAIN });
}

/**
 * A task's role: Lambda may assume it, and it may write its own log group's streams,
 * in place of AWSLambdaBasicExecutionRole, whose `logs:*` statements name every log
 * group in the account. Lambda needs CreateLogStream and PutLogEvents on the group
 * (it exists already, so no CreateLogGroup). Grants add the rest (infra/task-access.ts).
 * https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html#monitoring-cloudwatchlogs-prereqs
 */
function taskRole(scope: Construct, id: string, logGroup: logs.LogGroup): iam.Role {
  return new iam.Role(scope, `${id}Role`, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: `Pictor task ${id}: its own log group, and what infra/task-access.ts grants`,
    inlinePolicies: {
      logs: new iam.PolicyDocument({
        statements: [new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] })],
      }),
    },
  });
}

/** The entries of `values` that `names` lists, in `values`' order. */
function pick<K extends string>(values: Readonly<Record<K, string>>, names: readonly K[]): Record<string, string> {
  return Object.fromEntries(Object.entries<string>(values).filter(([name]) => names.includes(name as K)));
}

export function pascal(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase());
}
