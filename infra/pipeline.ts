import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { SYSTEM_PREFIX } from '../core/object-keys.ts';
import type { PictorConfig } from '../core/tenant-config.ts';
import * as iam from 'aws-cdk-lib/aws-iam';
import { PICTOR_SOURCE } from '../events/schemas/pictor-events.ts';
import { RenderOnUpload } from '../workflows/render-on-upload.ts';
import { TakedownBatch } from '../workflows/takedown-batch.ts';
import { CatalogueRerender } from '../workflows/catalogue-rerender.ts';

/** The task Lambdas, by folder name under tasks/. */
export const TASKS = [
  'probe-original',
  'render-variants',
  'publish-version',
  'quarantine-original',
  'accept-takedown',
  'inventory-image',
  'erase-objects',
  'invalidate-image',
  'check-invalidation',
  'verify-gone',
  'record-takedown',
  'complete-takedown',
  'plan-rerender',
  'list-originals',
  'prepare-rerender',
  'tally-rerender',
  'complete-rerender',
] as const;
export type TaskName = (typeof TASKS)[number];

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
}

export interface PipelineProps {
  readonly tenants: PictorConfig;
  /**
   * Each task's deployment package.
   * @default the bundle under dist/tasks/{task}, built by `npm run build:tasks`
   */
  readonly taskCode?: (task: TaskName) => lambda.Code;
  /**
   * Replicas of the originals bucket, which takedowns erase too.
   * @default none
   */
  readonly replicas?: readonly ReplicaBucket[];
  /** The distribution takedowns invalidate and verify. */
  readonly edge: DeliveryEdge;
  /**
   * How long takedown audit records are locked against deletion (Object Lock, governance mode).
   * @default 7 years, a common retention for legal records
   */
  readonly auditRetention?: Duration;
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
  readonly idempotency: dynamodb.TableV2;
  readonly functions: Record<TaskName, lambda.Function>;
  readonly audit: s3.Bucket;
  readonly renderOnUpload: RenderOnUpload;
  readonly takedownBatch: TakedownBatch;
  readonly catalogueRerender: CatalogueRerender;

  constructor(scope: Construct, id: string, props: PipelineProps) {
    super(scope, id);
    this.originals = new s3.Bucket(this, 'Originals', {
      eventBridgeEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.variants = new s3.Bucket(this, 'Variants', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.audit = new s3.Bucket(this, 'Audit', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: true,
      objectLockEnabled: true,
      objectLockDefaultRetention: s3.ObjectLockRetention.governance(props.auditRetention ?? Duration.days(7 * 365)),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const replicas = (props.replicas ?? []).map((r, i) => s3.Bucket.fromBucketAttributes(this, `Replica${i}`, { bucketName: r.bucketName, region: r.region }));
    this.versions = new dynamodb.TableV2(this, 'Versions', {
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.idempotency = new dynamodb.TableV2(this, 'Idempotency', {
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: 'expiration',
    });

    const environment: Record<string, string> = {
      PICTOR_ORIGINALS_BUCKET: this.originals.bucketName,
      PICTOR_VARIANTS_BUCKET: this.variants.bucketName,
      PICTOR_VERSIONS_TABLE: this.versions.tableName,
      PICTOR_IDEMPOTENCY_TABLE: this.idempotency.tableName,
      PICTOR_EVENT_BUS: 'default',
      PICTOR_TENANTS: JSON.stringify(props.tenants),
    };
    const takedownEnvironment: Record<string, string> = {
      PICTOR_ORIGINAL_REPLICAS: JSON.stringify((props.replicas ?? []).map((r) => ({ bucket: r.bucketName, region: r.region }))),
      PICTOR_AUDIT_BUCKET: this.audit.bucketName,
      PICTOR_DISTRIBUTION_ID: props.edge.distributionId,
      PICTOR_EDGE_URL: props.edge.url,
    };
    const code = props.taskCode ?? ((task: TaskName) => lambda.Code.fromAsset(`dist/tasks/${task}`));
    const fn = (task: TaskName, memorySize: number, timeout: Duration, extra: Record<string, string> = {}) =>
      new lambda.Function(this, pascal(task), {
        runtime: lambda.Runtime.NODEJS_22_X,
        architecture: lambda.Architecture.X86_64,
        handler: 'index.handler',
        code: code(task),
        memorySize,
        timeout,
        // PICTOR_TASK names the handler module, for the local twin and for humans.
        environment: { ...environment, ...extra, PICTOR_TASK: task },
      });
    this.functions = {
      'probe-original': fn('probe-original', 1024, Duration.seconds(30)),
      // Decoding a 12 MP photo and encoding nine outputs wants memory and time.
      'render-variants': fn('render-variants', 3008, Duration.minutes(2)),
      'publish-version': fn('publish-version', 512, Duration.seconds(30)),
      'quarantine-original': fn('quarantine-original', 512, Duration.seconds(30)),
      'accept-takedown': fn('accept-takedown', 256, Duration.seconds(10), takedownEnvironment),
      // Listing and deleting every version of an image in three regions.
      'inventory-image': fn('inventory-image', 512, Duration.minutes(1), takedownEnvironment),
      'erase-objects': fn('erase-objects', 512, Duration.minutes(2), takedownEnvironment),
      'invalidate-image': fn('invalidate-image', 256, Duration.seconds(30), takedownEnvironment),
      'check-invalidation': fn('check-invalidation', 256, Duration.seconds(30), takedownEnvironment),
      'verify-gone': fn('verify-gone', 512, Duration.minutes(1), takedownEnvironment),
      'record-takedown': fn('record-takedown', 256, Duration.seconds(30), takedownEnvironment),
      'complete-takedown': fn('complete-takedown', 256, Duration.seconds(30), takedownEnvironment),
      'plan-rerender': fn('plan-rerender', 256, Duration.seconds(10)),
      'list-originals': fn('list-originals', 512, Duration.seconds(30)),
      'prepare-rerender': fn('prepare-rerender', 256, Duration.seconds(30)),
      'tally-rerender': fn('tally-rerender', 256, Duration.seconds(10)),
      'complete-rerender': fn('complete-rerender', 256, Duration.seconds(30)),
    };
    this.originals.grantRead(this.functions['probe-original']);
    this.originals.grantReadWrite(this.functions['render-variants']);
    this.variants.grantWrite(this.functions['render-variants']);
    this.originals.grantReadWrite(this.functions['publish-version']);
    this.originals.grantDelete(this.functions['publish-version']);
    this.variants.grantReadWrite(this.functions['publish-version']);
    this.variants.grantDelete(this.functions['publish-version']);
    this.originals.grantReadWrite(this.functions['quarantine-original']);
    this.originals.grantDelete(this.functions['quarantine-original']);
    for (const f of Object.values(this.functions)) {
      this.versions.grantReadWriteData(f);
      this.idempotency.grantReadWriteData(f);
    }
    const f = this.functions;
    for (const bucket of [this.originals, ...replicas, this.variants]) {
      bucket.grantRead(f['inventory-image']);
      bucket.grantRead(f['erase-objects']);
      bucket.grantDelete(f['erase-objects']);
    }
    this.originals.grantRead(f['list-originals']);
    this.originals.grantRead(f['prepare-rerender']);
    this.audit.grantRead(f['record-takedown']);
    this.audit.grantPut(f['record-takedown']);
    const distributionArn = `arn:${Stack.of(this).partition}:cloudfront::${Stack.of(this).account}:distribution/${props.edge.distributionId}`;
    f['invalidate-image'].addToRolePolicy(new iam.PolicyStatement({ actions: ['cloudfront:CreateInvalidation', 'cloudfront:GetInvalidation'], resources: [distributionArn] }));
    f['check-invalidation'].addToRolePolicy(new iam.PolicyStatement({ actions: ['cloudfront:GetInvalidation'], resources: [distributionArn] }));

    const bus = events.EventBus.fromEventBusName(this, 'DefaultBus', 'default');
    bus.grantPutEventsTo(f['publish-version']);
    bus.grantPutEventsTo(f['quarantine-original']);
    bus.grantPutEventsTo(f['complete-takedown']);
    bus.grantPutEventsTo(f['complete-rerender']);

    this.renderOnUpload = new RenderOnUpload(this, 'RenderOnUpload', {
      probe: this.functions['probe-original'],
      render: this.functions['render-variants'],
      publish: this.functions['publish-version'],
      quarantine: this.functions['quarantine-original'],
    });
    new events.Rule(this, 'OnOriginalUploaded', {
      description: 'Uploads (not system keys) start RenderOnUpload.',
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['Object Created'],
        detail: { bucket: { name: [this.originals.bucketName] }, object: { key: [{ 'anything-but': { prefix: SYSTEM_PREFIX } }] } },
      },
      targets: [new targets.SfnStateMachine(this.renderOnUpload.stateMachine)],
    });

    this.takedownBatch = new TakedownBatch(this, 'TakedownBatch', {
      accept: f['accept-takedown'],
      inventory: f['inventory-image'],
      erase: f['erase-objects'],
      invalidate: f['invalidate-image'],
      checkInvalidation: f['check-invalidation'],
      verify: f['verify-gone'],
      record: f['record-takedown'],
      complete: f['complete-takedown'],
    });
    new events.Rule(this, 'OnTakedownRequested', {
      description: 'A "Takedown Requested" event starts TakedownBatch; its event id names the batch.',
      eventPattern: { source: [PICTOR_SOURCE], detailType: ['Takedown Requested'] },
      targets: [
        new targets.SfnStateMachine(this.takedownBatch.stateMachine, {
          // The event id makes a redelivered event the same batch: same CallerReferences, same audit keys.
          input: events.RuleTargetInput.fromObject({ batchId: events.EventField.eventId, requestedAt: events.EventField.time, detail: events.EventField.fromPath('$.detail') }),
        }),
      ],
    });

    this.catalogueRerender = new CatalogueRerender(this, 'CatalogueRerender', {
      plan: f['plan-rerender'],
      list: f['list-originals'],
      prepare: f['prepare-rerender'],
      render: f['render-variants'],
      publish: f['publish-version'],
      tally: f['tally-rerender'],
      complete: f['complete-rerender'],
    });
    new events.Rule(this, 'OnRerenderRequested', {
      description: 'A "Rerender Requested" event starts CatalogueRerender; its event id names the job.',
      eventPattern: { source: [PICTOR_SOURCE], detailType: ['Rerender Requested'] },
      targets: [
        new targets.SfnStateMachine(this.catalogueRerender.stateMachine, {
          input: events.RuleTargetInput.fromObject({ jobId: events.EventField.eventId, detail: events.EventField.fromPath('$.detail') }),
        }),
      ],
    });
  }
}

function pascal(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase());
}
