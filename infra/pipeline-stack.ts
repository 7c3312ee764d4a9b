import { CfnOutput, Stack, Token, type StackProps } from 'aws-cdk-lib';
import * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { allowDistributionRead, PRIVATE_BUCKET } from './buckets.ts';
import { ControlApi, type ControlApiDomain, type ControlApiOptions } from './control-api.ts';
import { acknowledge, acknowledgeWildcards } from './nag.ts';
import { PipelineObservability, type AlarmSubscribers } from './observability.ts';
import { pascal, Pipeline, type PipelineProps, type TaskName } from './pipeline.ts';
import { PictorError } from '../core/errors.ts';

export interface PipelineStackProps extends StackProps, PipelineProps {
  /** The origin-request function, for the dashboard. */
  readonly originRequest: { readonly functionName: string; readonly memoryMb: number };
  /**
   * Who may assume each tenant's access role.
   * @default this account's principals with IAM permission to assume it
   */
  readonly tenantPrincipal?: (tenant: string) => iam.IPrincipal;
  /**
   * Who is told when a pipeline alarm fires (topics in this stack's region only).
   * @default nobody but the alarm topic's own subscribers, which you add
   */
  readonly alarmSubscribers?: AlarmSubscribers;
  /**
   * Where CloudTrail records the data events: writes to the originals, every access
   * to the audit records. A region holds at most 5 trails, a quota AWS does not raise,
   * so an account that already has them (an organization's trail, say) names one
   * here and Pictor creates none; add to it S3 data events, write-only on the
   * originals bucket and read-write on the audit bucket, or takedowns and uploads
   * go unrecorded. https://docs.aws.amazon.com/awscloudtrail/latest/userguide/WhatIsCloudTrail-Limits.html
   * @default a trail of Pictor's own, recording only these data events
   */
  readonly dataEventsTrail?: ExistingTrail;
  /**
   * The control API in this stack's region.
   * @default an API with the execute-api URL, the ApiAdmin role assumable by the account's principals, no other admin
   */
  readonly controlApi?: ControlApiSettings;
}

/**
 * The control API's settings in the pipeline's stack: ImageDelivery's `controlApi`
 * (documented there), with the domain as this region's.
 */
export interface ControlApiSettings extends Pick<ControlApiOptions, 'adminPrincipal' | 'admins' | 'browserOrigins'> {
  /**
   * This region's custom domain.
   * @default none
   */
  readonly domain?: ControlApiDomain;
}

/** A CloudTrail trail that exists outside Pictor's stacks. */
export interface ExistingTrail {
  /** e.g. `arn:aws:cloudtrail:us-east-1:111122223333:trail/organization-trail` */
  readonly existingTrailArn: string;
}

/** A trail's ARN, as CloudTrail names it: a trail name is 3 to 128 of A-Z a-z 0-9 . _ -. https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_CreateTrail.html */
const TRAIL_ARN = /^arn:aws[a-z-]*:cloudtrail:[a-z]{2}(-[a-z]+)+-[0-9]:[0-9]{12}:trail\/[A-Za-z0-9][A-Za-z0-9._-]{2,127}$/;

/** What is wrong with a `dataEventsTrail` prop, saying what to change; empty when nothing is. */
export function trailProblems(trail: ExistingTrail | undefined): string[] {
  if (trail === undefined) return [];
  const arn = trail.existingTrailArn;
  // A token (an import, a parameter) is CloudFormation's to resolve.
  if (typeof arn === 'string' && (Token.isUnresolved(arn) || TRAIL_ARN.test(arn))) return [];
  return [`dataEventsTrail.existingTrailArn: "${arn}" is not a trail's ARN such as arn:aws:cloudtrail:us-east-1:111122223333:trail/my-trail; copy it from \`aws cloudtrail describe-trails\`, or leave dataEventsTrail out for a trail of Pictor's own.`];
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
  /** The trail Pictor created; none when `dataEventsTrail` names an existing one. */
  readonly trail?: cloudtrail.Trail;
  /** The trail that records the data events, Pictor's or the one `dataEventsTrail` names. */
  readonly trailArn: string;
  readonly observability: PipelineObservability;
  /** The role that may call every route of the control API, in every region. */
  readonly apiAdminRole: iam.Role;
  /** The control API in this stack's region. */
  readonly controlApi: ControlApi;

  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id, props);
    const problems = trailProblems(props.dataEventsTrail);
    if (problems.length > 0) throw new PictorError('InvalidConfig', `Invalid PipelineStack props:\n  ${problems.join('\n  ')}`);
    const pipeline = (this.pipeline = new Pipeline(this, 'Pipeline', props));
    // CloudFront reads variants itself, signed with Origin Access Control.
    allowDistributionRead(pipeline.variants, props.edge.distributionId);

    // Where a policy can express it, a tenant's credentials reach only its own prefix.
    this.tenantRoles = Object.fromEntries(
      Object.keys(props.tenants.tenants).map((tenant) => {
        const role = new iam.Role(this, `Tenant-${tenant}`, {
          description: `Pictor tenant ${tenant}: read its own originals and variants; upload and take down through the control API`,
          assumedBy: props.tenantPrincipal?.(tenant) ?? new iam.AccountPrincipal(this.account),
        });
        const own = { originals: pipeline.originals.arnForObjects(`${tenant}/*`), variants: pipeline.variants.arnForObjects(`${tenant}/*`) };
        // No PutObject or DeleteObject: uploads come through the control API's presigned POST, whose policy
        // holds the tenant's size and type limits, and erasing is a takedown's, audited.
        role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [own.originals] }));
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
    const trailBucket = props.dataEventsTrail
      ? undefined
      : new s3.Bucket(this, 'TrailLogs', {
          ...PRIVATE_BUCKET,
          serverAccessLogsBucket: pipeline.accessLogs,
          serverAccessLogsPrefix: 'trail/',
        });
    // CDK adds this singleton at the stack's root for `eventBridgeEnabled`, with a role of its own.
    const notifications = this.node.tryFindChild('BucketNotificationsHandler050a0587b7544547bf325f094a3db834');
    if (notifications) {
      acknowledge(notifications, {
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]':
          "CDK's bucket-notifications handler, which CloudFormation runs only while it deploys this stack; CDK gives its role no other policy than AWS's basic execution role, whose log permissions name every log group.",
      });
    }
    acknowledge(this, {
      'Annotation::@aws-cdk/core:crossStackReferencesDefaultStrong':
        'Strong references are what this stack wants: the distribution it names must not be deleted under it.',
    });
    if (trailBucket) {
      this.trail = new cloudtrail.Trail(this, 'DataEvents', {
        bucket: trailBucket,
        isMultiRegionTrail: false,
        includeGlobalServiceEvents: false,
        managementEvents: cloudtrail.ReadWriteType.NONE,
        enableFileValidation: true,
      });
      this.trail.addS3EventSelector([{ bucket: pipeline.originals }], { readWriteType: cloudtrail.ReadWriteType.WRITE_ONLY, includeManagementEvents: false });
      this.trail.addS3EventSelector([{ bucket: pipeline.audit }], { readWriteType: cloudtrail.ReadWriteType.ALL, includeManagementEvents: false });
    }
    this.trailArn = this.trail?.trailArn ?? props.dataEventsTrail!.existingTrailArn;

    this.apiAdminRole = new iam.Role(this, 'ApiAdmin', {
      description: 'Pictor control API admin: may call every route (tenants, keys, any tenant\'s images and jobs)',
      assumedBy: props.controlApi?.adminPrincipal ?? new iam.AccountPrincipal(this.account),
    });
    this.controlApi = new ControlApi(this, 'ControlApi', {
      pipeline,
      tenantRoles: this.tenantRoles,
      adminRole: this.apiAdminRole,
      admins: props.controlApi?.admins,
      code: props.taskCode?.('control-api'),
      domain: props.controlApi?.domain,
      browserOrigins: props.controlApi?.browserOrigins,
    });
    if (props.controlApi?.browserOrigins?.length) {
      // A page's presigned POST: the browser reads S3's answer only when the bucket's CORS allows its origin.
      // https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html
      pipeline.originals.addCorsRule({
        allowedMethods: [s3.HttpMethods.POST],
        allowedOrigins: [...props.controlApi.browserOrigins],
        allowedHeaders: ['*'],
        exposedHeaders: ['ETag', 'Location', 'x-amz-version-id'],
        maxAge: 3600,
      });
    }

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
      subscribers: props.alarmSubscribers,
    });

    // What an operator's commands name: `aws cloudformation describe-stacks` lists them.
    const output = (id: string, value: string, description: string) => new CfnOutput(this, id, { value, description });
    output('OriginalsBucket', pipeline.originals.bucketName, 'Upload originals here, under <tenant>/<image id>');
    output('VariantsBucket', pipeline.variants.bucketName, 'What the distribution serves');
    output('AuditBucket', pipeline.audit.bucketName, 'Takedown records, locked');
    output('ReportsBucket', pipeline.reports.bucketName, "Takedown batches' and re-render jobs' reports");
    output('VersionsTable', pipeline.versions.tableName, 'The version map');
    output('TombstonesTable', pipeline.tombstones.tableName, 'Taken-down images, written only by the takedown');
    output('IdempotencyTable', pipeline.idempotency.tableName, "The tasks' idempotency records");
    output('DeadLetterQueueUrl', pipeline.deadLetters.queueUrl, 'Events and invocations that could not be delivered');
    output('RenderOnUploadArn', pipeline.renderOnUpload.stateMachine.stateMachineArn, 'Renders each upload');
    output('TakedownBatchArn', pipeline.takedownBatch.stateMachine.stateMachineArn, 'Takes images down');
    output('CatalogueRerenderArn', pipeline.catalogueRerender.stateMachine.stateMachineArn, 'Re-renders the catalogue');
    output('ControlApiUrl', this.controlApi.url, 'The control API (SigV4): uploads, status, takedowns, re-renders, tenants and keys');
    output('ApiAdminRoleArn', this.apiAdminRole.roleArn, 'Assume this role to call every route of the control API');
    for (const [tenant, role] of Object.entries(this.tenantRoles)) {
      output(`TenantRole${pascal(tenant)}`, role.roleArn, `Tenant ${tenant}'s callers assume this role: its originals, and its own routes of the control API`);
    }
    output('AlarmTopicArn', this.observability.topic.topic.topicArn, "The pipeline's alarms notify this topic: subscribe to it");
    output(
      'DashboardUrl',
      `https://${this.region}.console.aws.amazon.com/cloudwatch/home?region=${this.region}#dashboards/dashboard/${this.observability.dashboard.dashboardName}`,
      'Hit ratio, transforms, invalidations and an estimated cost',
    );
  }
}


