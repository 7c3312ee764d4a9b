import { Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { allowDistributionRead, PRIVATE_BUCKET } from './buckets.ts';
import { acknowledge, acknowledgeWildcards } from './nag.ts';
import { PipelineObservability } from './observability.ts';
import { pascal, Pipeline, type PipelineProps, type TaskName } from './pipeline.ts';

export interface PipelineStackProps extends StackProps, PipelineProps {
  /** The origin-request function, for the dashboard. */
  readonly originRequest: { readonly functionName: string; readonly memoryMb: number };
  /**
   * Who may assume each tenant's access role.
   * @default this account's principals with IAM permission to assume it
   */
  readonly tenantPrincipal?: (tenant: string) => iam.IPrincipal;
}

/**
 * The pipeline's region: the pipeline (storage, tasks, state machines, rules),
 * the distribution's read access to its buckets, a role per tenant confined to
 * that tenant's prefix, CloudTrail data events, the alarms and the dashboard.
 * The local twin synthesizes this very stack.
 */
export class PipelineStack extends Stack {
  readonly pipeline: Pipeline;
  readonly tenantRoles: Readonly<Record<string, iam.Role>>;
  readonly trail: cloudtrail.Trail;
  readonly observability: PipelineObservability;

  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id, props);
    const pipeline = (this.pipeline = new Pipeline(this, 'Pipeline', props));
    // CloudFront reads variants itself, signed with Origin Access Control.
    allowDistributionRead(pipeline.variants, props.edge.distributionId);

    // Where a policy can express it, a tenant's credentials reach only its own prefix.
    this.tenantRoles = Object.fromEntries(
      Object.keys(props.tenants.tenants).map((tenant) => {
        const role = new iam.Role(this, `Tenant-${tenant}`, {
          description: `Pictor tenant ${tenant}: upload and read its own originals and variants`,
          assumedBy: props.tenantPrincipal?.(tenant) ?? new iam.AccountPrincipal(this.account),
        });
        const own = { originals: pipeline.originals.arnForObjects(`${tenant}/*`), variants: pipeline.variants.arnForObjects(`${tenant}/*`) };
        role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject'], resources: [own.originals] }));
        role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [own.variants] }));
        role.addToPolicy(
          new iam.PolicyStatement({
            actions: ['s3:ListBucket'],
            resources: [pipeline.originals.bucketArn],
            conditions: { StringLike: { 's3:prefix': [`${tenant}/*`] } },
          }),
        );
        acknowledgeWildcards(role, [own.originals, own.variants], "The tenant's own prefix, which is the point: its ids are chosen at upload.");
        return [tenant, role];
      }),
    );

    // Data events: writes to the originals (who uploaded or erased what; reads would be
    // one event per edge miss, at $0.10 per 100,000), everything on the audit records.
    // https://aws.amazon.com/cloudtrail/pricing/
    const trailBucket = new s3.Bucket(this, 'TrailLogs', {
      ...PRIVATE_BUCKET,
      serverAccessLogsBucket: pipeline.accessLogs,
      serverAccessLogsPrefix: 'trail/',
    });
    acknowledge(this, {
      // CDK adds this singleton at the stack's root for `eventBridgeEnabled`.
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]':
        "CDK's bucket-notifications custom resource logs with AWS's managed policy for a function's own logs.",
      'Annotation::@aws-cdk/core:crossStackReferencesDefaultStrong':
        'Strong references are what this stack wants: the distribution it names must not be deleted under it.',
    });
    this.trail = new cloudtrail.Trail(this, 'DataEvents', {
      bucket: trailBucket,
      isMultiRegionTrail: false,
      includeGlobalServiceEvents: false,
      managementEvents: cloudtrail.ReadWriteType.NONE,
      enableFileValidation: true,
    });
    this.trail.addS3EventSelector([{ bucket: pipeline.originals }], { readWriteType: cloudtrail.ReadWriteType.WRITE_ONLY, includeManagementEvents: false });
    this.trail.addS3EventSelector([{ bucket: pipeline.audit }], { readWriteType: cloudtrail.ReadWriteType.ALL, includeManagementEvents: false });

    const f = pipeline.functions;
    this.observability = new PipelineObservability(this, 'Observability', {
      stateMachines: {
        RenderOnUpload: pipeline.renderOnUpload.stateMachine,
        CatalogueRerender: pipeline.catalogueRerender.stateMachine,
        TakedownBatch: pipeline.takedownBatch.stateMachine,
      },
      functions: Object.fromEntries(Object.entries(f).map(([task, fn]) => [pascal(task), fn])) as Record<string, lambda.IFunction>,
      renderFunction: f['render-variants' satisfies TaskName],
      invalidateFunction: f['invalidate-image' satisfies TaskName],
      distributionId: props.edge.distributionId,
      originRequestFunctionName: props.originRequest.functionName,
      originRequestMemoryMb: props.originRequest.memoryMb,
    });
  }
}


