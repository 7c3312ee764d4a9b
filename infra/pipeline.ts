import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { SYSTEM_PREFIX } from '../core/object-keys.ts';
import type { PictorConfig } from '../core/tenant-config.ts';
import { RenderOnUpload } from '../workflows/render-on-upload.ts';

/** The task Lambdas, by folder name under tasks/. */
export const TASKS = ['probe-original', 'render-variants', 'publish-version', 'quarantine-original'] as const;
export type TaskName = (typeof TASKS)[number];

export interface PipelineProps {
  readonly tenants: PictorConfig;
  /**
   * Each task's deployment package.
   * @default the bundle under dist/tasks/{task}, built by `npm run build:tasks`
   */
  readonly taskCode?: (task: TaskName) => lambda.Code;
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
  readonly renderOnUpload: RenderOnUpload;

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
    const code = props.taskCode ?? ((task: TaskName) => lambda.Code.fromAsset(`dist/tasks/${task}`));
    const fn = (task: TaskName, memorySize: number, timeout: Duration) =>
      new lambda.Function(this, pascal(task), {
        runtime: lambda.Runtime.NODEJS_22_X,
        architecture: lambda.Architecture.X86_64,
        handler: 'index.handler',
        code: code(task),
        memorySize,
        timeout,
        // PICTOR_TASK names the handler module, for the local twin and for humans.
        environment: { ...environment, PICTOR_TASK: task },
      });
    this.functions = {
      'probe-original': fn('probe-original', 1024, Duration.seconds(30)),
      // Decoding a 12 MP photo and encoding nine outputs wants memory and time.
      'render-variants': fn('render-variants', 3008, Duration.minutes(2)),
      'publish-version': fn('publish-version', 512, Duration.seconds(30)),
      'quarantine-original': fn('quarantine-original', 512, Duration.seconds(30)),
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
    const bus = events.EventBus.fromEventBusName(this, 'DefaultBus', 'default');
    bus.grantPutEventsTo(this.functions['publish-version']);
    bus.grantPutEventsTo(this.functions['quarantine-original']);

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
  }
}

function pascal(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase());
}
