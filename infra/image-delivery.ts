import { Aws, CfnOutput, Stack, Token } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { parseConfig, type PictorConfig, type TenantConfig } from '../core/tenant-config.ts';
import { ACCESS_LOG_RETENTION, allowDistributionRead, originalsLifecycle, PRIVATE_BUCKET, variantsLifecycle } from './buckets.ts';
import { ImageEdge, ORIGIN_REQUEST_MEMORY, tenantsWithOwnBehavior, type BucketLocation, type CustomDomain, type WafLimits } from './edge.ts';
import { addControlApiRegions, controlApiProblems, domainIn, type ControlApiOptions } from './control-api.ts';
import { acknowledge } from './nag.ts';
import { EdgeLogRetention } from './edge-logs.ts';
import { EdgeAlarms, topicRegion, type AlarmSubscribers, type EdgeAlarmsProps } from './observability.ts';
import { PipelineStack, trailProblems, type ExistingTrail } from './pipeline-stack.ts';
import type { PipelineBucketNames, PipelineProps } from './pipeline.ts';
import { PictorError } from '../core/errors.ts';

/**
 * Regions Origin Shield runs in. https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/origin-shield.html#choose-origin-shield-region
 */
export const ORIGIN_SHIELD_REGIONS = [
  'us-east-1', 'us-east-2', 'us-west-1', 'us-west-2', 'ca-central-1', 'sa-east-1',
  'eu-central-1', 'eu-west-1', 'eu-west-2', 'ap-south-1', 'ap-northeast-1', 'ap-northeast-2', 'ap-southeast-1', 'ap-southeast-2',
] as const;

/** CloudFront allows 25 cache behaviours per distribution; the default takes one. https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-limits.html#limits-web-distributions */
const MAX_EXTRA_BEHAVIORS = 24;
/** A rate-based rule's limit, per evaluation window. https://docs.aws.amazon.com/waf/latest/APIReference/API_RateBasedStatement.html */
const RATE_LIMIT_RANGE = [10, 2_000_000_000] as const;
const REGION = /^[a-z]{2}(-[a-z]+)+-[0-9]$/;

/**
 * The pipeline's settings that ImageDelivery passes through unchanged; each is
 * documented, with its default, where the pipeline defines it (PipelineProps).
 */
type PipelinePassThrough = Pick<PipelineProps, 'auditRetention' | 'invalidationDeadline' | 'takedownRequesters' | 'rerenderRequesters'>;

export interface ImageDeliveryProps extends PipelinePassThrough {
  /** The tenants, as `parseConfig` validated them (see core/tenant-config.ts for every field's default). */
  readonly tenants: PictorConfig;
  /**
   * The standard variant set rendered on upload, for every tenant that does not name its own.
   * @default 320, 640 and 1280 px, snapped to each tenant's breakpoints, in avif, webp and legacy
   */
  readonly variantSchema?: TenantConfig['variants'];
  /**
   * Where the originals, the pipeline and the audit records live.
   * @default 'us-east-1'
   */
  readonly primaryRegion?: string;
  /**
   * Regions the originals are replicated to. The first is the origin group's
   * failover: it also holds a variants bucket, which publishing fills with the
   * standard variants and the origin-request function with what it renders there.
   * @default ['eu-west-1', 'ap-northeast-1']
   */
  readonly replicaRegions?: readonly string[];
  /**
   * The Origin Shield region in front of the primary originals.
   * @default primaryRegion
   */
  readonly originShieldRegion?: string;
  /** @default the defaults of each limit: 3,000 requests per IP per 5 minutes, three AWS managed rule groups */
  readonly waf?: WafLimits;
  /** @default none: the cloudfront.net domain, whose certificate CloudFront fixes at TLS 1.0 or later */
  readonly domain?: CustomDomain;
  /**
   * Tenants whose images must leave every edge within 60 s of a takedown.
   * @default none
   */
  readonly takedownEligibleTenants?: readonly string[];
  /**
   * The first word of every bucket name, which also holds the account and region.
   * Such names can be guessed, and bucket names are global; every S3 request Pictor's
   * code makes names the account that must own the bucket (ExpectedBucketOwner), so
   * a name another account took first never receives an image from it. CloudFront's
   * reads cannot name an owner, and the distribution names its origins before they
   * exist: an unguessable namespace (`pictor-7f3k9q`) keeps anyone from taking them first.
   * https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-owner-condition.html
   * @default 'pictor'
   */
  readonly namespace?: string;
  /**
   * The AWS account of every stack.
   * @default the account the CDK CLI resolves at deploy time
   */
  readonly account?: string;
  /** @default 90% minimum hit ratio, 1% maximum 5xx rate */
  readonly alarms?: Omit<EdgeAlarmsProps, 'distributionId' | 'subscribers'>;
  /**
   * Who is told when an alarm fires: email addresses, subscribed to the
   * distribution's alarm topic (us-east-1) and the pipeline's (the primary region),
   * and/or existing SNS topics, each notified by the alarms of its own region.
   * @default nobody: the alarm topics have no subscribers until you add some
   */
  readonly alarmSubscribers?: AlarmSubscribers;
  /**
   * The origin-request function's regional log groups: where they are made ahead
   * of Lambda@Edge, and how long they keep its logs.
   * @default every Region enabled by default (EDGE_LOG_REGIONS), three months
   */
  readonly edgeLogs?: { readonly regions?: readonly string[]; readonly retention?: logs.RetentionDays };
  /**
   * An existing CloudTrail trail to record the pipeline's data events in, instead
   * of a trail of Pictor's own: a region holds at most 5 trails. See
   * PipelineStackProps.dataEventsTrail for the data events to add to it.
   * @default a trail of Pictor's own in the primary region
   */
  readonly dataEventsTrail?: ExistingTrail;
  /**
   * Who may assume each tenant's role (stack output TenantRole<tenant>): it reads the
   * tenant's own originals and variants, and calls the control API's routes of that
   * tenant and no other (uploads by presigned POST, takedowns, status). A platform team's account, a role of its CI, an
   * identity provider's federated principal.
   * @default this account's principals with IAM permission to assume it
   */
  readonly tenantPrincipal?: (tenant: string) => iam.IPrincipal;
  /**
   * The control-plane API (HTTP API, SigV4): uploads, status, takedowns, re-renders,
   * tenants and keys. It always runs in the primary region; this adds regions, admins
   * and a domain with latency-based routing.
   * @default the API in the primary region only, at its execute-api URL; admins are those who assume the ApiAdmin role, which the account's principals may
   */
  readonly controlApi?: ControlApiOptions;
}

/**
 * Pictor on AWS, as stacks in their regions, each named as `cdk synth`/`cdk deploy`
 * and CloudFormation know it:
 * - `{id}-edge` (us-east-1): the distribution, its functions, WAF and logs;
 * - `{id}-replica-{region}`: the originals' replicas;
 * - `{id}-pipeline` (the primary region): storage, the state machines and their tasks.
 *
 * `scope` is an App or a Stage, and the stacks are its children (the CDK CLI selects
 * a stack by its path, so `{id}/Edge` would not be `{id}-edge`). Bucket names are derived from the namespace,
 * the account and the region, so that stacks in other regions can name them
 * before they exist.
 * @throws {Error} for prop combinations that cannot deploy, saying what to change.
 */
export class ImageDelivery extends Construct {
  readonly edgeStack: Stack;
  readonly edge: ImageEdge;
  readonly edgeAlarms: EdgeAlarms;
  readonly edgeLogRetention: EdgeLogRetention;
  readonly replicaStacks: readonly Stack[];
  readonly replicas: readonly s3.Bucket[];
  /** The variants bucket the origin group fails over to, in the first replica region. */
  readonly failoverVariants: s3.Bucket;
  readonly pipelineStack: PipelineStack;
  /** The control API's stacks in its other regions, `{id}-api-{region}` (controlApi.regions). */
  readonly apiStacks: readonly Stack[];
  /** The tenants as deployed: the variant schema applied. */
  readonly tenants: PictorConfig;

  constructor(scope: Construct, id: string, props: ImageDeliveryProps) {
    super(scope, id);
    const primaryRegion = props.primaryRegion ?? 'us-east-1';
    const replicaRegions = [...(props.replicaRegions ?? ['eu-west-1', 'ap-northeast-1'])];
    const originShieldRegion = props.originShieldRegion ?? primaryRegion;
    const namespace = props.namespace ?? 'pictor';
    validateProps(props, { primaryRegion, replicaRegions, originShieldRegion, namespace });
    const tenants = (this.tenants = applyVariantSchema(props.tenants, props.variantSchema));

    const env = (region: string) => ({ env: { account: props.account, region }, crossRegionReferences: true });
    // Aws.ACCOUNT_ID resolves in whichever stack uses it, so no stack imports a name from another.
    const name = (role: string, region: string) => `${namespace}-${role}-${props.account ?? Aws.ACCOUNT_ID}-${region}`;

    // The stacks sit beside this construct, not under it, so that their paths are their names.
    this.edgeStack = new Stack(scope, `${id}-edge`, { ...env('us-east-1'), stackName: `${id}-edge`, description: 'Pictor: CloudFront, its functions, WAF' });
    const at = (role: 'originals' | 'variants', region: string): BucketLocation => ({ bucketName: name(role, region), region });
    const failoverRegion = replicaRegions[0]!;
    this.edge = new ImageEdge(this.edgeStack, 'Edge', {
      tenants,
      origins: [
        { variants: at('variants', primaryRegion), originShieldRegion },
        { variants: at('variants', failoverRegion), originShieldRegion: failoverRegion },
      ],
      originals: [primaryRegion, ...replicaRegions].map((region) => at('originals', region)),
      waf: props.waf,
      domain: props.domain,
      takedownEligible: props.takedownEligibleTenants,
    });
    this.edgeAlarms = new EdgeAlarms(this.edgeStack, 'Alarms', { ...props.alarms, distributionId: this.edge.distribution.distributionId, subscribers: props.alarmSubscribers });
    this.edgeLogRetention = new EdgeLogRetention(this.edgeStack, 'OriginRequestLogs', { function: this.edge.originRequest, regions: props.edgeLogs?.regions, retention: props.edgeLogs?.retention });
    outputs(this.edgeStack, {
      DistributionDomainName: [this.edge.distribution.distributionDomainName, 'Where viewers reach the images (point a CNAME here)'],
      DistributionId: [this.edge.distribution.distributionId, 'For invalidations and CloudFront metrics'],
      KeyValueStoreArn: [this.edge.keyValueStore.keyValueStoreArn, "The viewer function's tenant store: policies and signing keys (pictor tenants --store-arn)"],
      TenantConfigStoreArn: [this.edge.configStore.keyValueStoreArn, "The origin's and the pipeline's tenant store: policies and configurations (pictor tenants --config-store-arn)"],
      OriginRequestFunctionName: [this.edge.originRequest.functionName, 'Its logs are /aws/lambda/us-east-1.<name> in the region that ran it'],
      AlarmTopicArn: [this.edgeAlarms.topic.topic.topicArn, "The distribution's alarms notify this topic: subscribe to it"],
    });

    this.replicaStacks = replicaRegions.map((region) => new Stack(scope, `${id}-replica-${region}`, { ...env(region), stackName: `${id}-replica-${region}`, description: `Pictor: originals replica in ${region}` }));
    this.replicas = this.replicaStacks.map((stack) => replicaBucket(stack, (role) => name(role, stack.region)));
    // The failover origin's variants, beside its originals' replica.
    this.failoverVariants = failoverVariantsBucket(this.replicaStacks[0]!, name('variants', failoverRegion), this.edge.distribution.distributionId);
    this.replicaStacks.forEach((stack, i) => outputs(stack, { OriginalsReplicaBucket: [this.replicas[i]!.bucketName, 'The originals, replicated here'] }));
    outputs(this.replicaStacks[0]!, { FailoverVariantsBucket: [this.failoverVariants.bucketName, "The failover origin's variants"] });

    this.pipelineStack = new PipelineStack(scope, `${id}-pipeline`, {
      ...env(primaryRegion),
      stackName: `${id}-pipeline`,
      description: 'Pictor: storage, state machines, tasks',
      tenants,
      bucketNames: bucketNames((role) => name(role, primaryRegion)),
      replicas: replicaRegions.map((region) => at('originals', region)),
      variantReplicas: [at('variants', failoverRegion)],
      edge: {
        distributionId: this.edge.distribution.distributionId,
        url: `https://${props.domain?.names[0] ?? this.edge.distribution.distributionDomainName}`,
        tenantStoreArn: this.edge.configStore.keyValueStoreArn,
        viewerStoreArn: this.edge.keyValueStore.keyValueStoreArn,
      },
      originRequest: { functionName: this.edge.originRequest.functionName, memoryMb: ORIGIN_REQUEST_MEMORY },
      auditRetention: props.auditRetention,
      invalidationDeadline: props.invalidationDeadline,
      takedownRequesters: props.takedownRequesters,
      rerenderRequesters: props.rerenderRequesters,
      dataEventsTrail: props.dataEventsTrail,
      alarmSubscribers: props.alarmSubscribers,
      tenantPrincipal: props.tenantPrincipal,
      controlApi: {
        adminPrincipal: props.controlApi?.adminPrincipal,
        admins: props.controlApi?.admins,
        domain: props.controlApi?.domain ? domainIn(props.controlApi.domain, primaryRegion) : undefined,
        browserOrigins: props.controlApi?.browserOrigins,
      },
    });
    this.apiStacks = addControlApiRegions(scope, {
      id,
      regions: props.controlApi?.regions ?? [],
      account: props.account,
      pipelineStack: this.pipelineStack,
      admins: props.controlApi?.admins,
      domain: props.controlApi?.domain,
      browserOrigins: props.controlApi?.browserOrigins,
    });
    // CDK warns on the first stack that imports across stacks, whichever that is.
    for (const stack of [this.edgeStack, ...this.replicaStacks, this.pipelineStack]) {
      acknowledge(stack, {
        'Annotation::@aws-cdk/core:crossStackReferencesDefaultStrong':
          'Strong references are what these stacks want: the distribution that their bucket policies and the pipeline name must not be deleted under them.',
      });
    }
    // Replication needs its destinations to exist and be versioned first.
    for (const replica of this.replicaStacks) this.pipelineStack.addStackDependency(replica);
  }
}

/** Stack outputs, by name: the value and what an operator does with it. */
export function outputs(stack: Stack, values: Readonly<Record<string, [value: string, description: string]>>): void {
  for (const [id, [value, description]] of Object.entries(values)) new CfnOutput(stack, id, { value, description });
}

function bucketNames(name: (role: string) => string): PipelineBucketNames {
  return { originals: name('originals'), variants: name('variants'), audit: name('audit'), reports: name('reports'), accessLogs: name('access-logs') };
}

/** A replica of the originals: versioned (replication requires it), private, with its own access logs. */
function replicaBucket(stack: Stack, name: (role: string) => string): s3.Bucket {
  const logs = new s3.Bucket(stack, 'AccessLogs', { ...PRIVATE_BUCKET, bucketName: name('access-logs'), lifecycleRules: [ACCESS_LOG_RETENTION] });
  return new s3.Bucket(stack, 'Originals', {
    ...PRIVATE_BUCKET,
    bucketName: name('originals'),
    versioned: true,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    serverAccessLogsBucket: logs,
    serverAccessLogsPrefix: 'originals/',
    lifecycleRules: originalsLifecycle(),
  });
}

/** The failover origin's variants bucket: private, its access logged beside the replica's, read by the distribution. */
function failoverVariantsBucket(stack: Stack, bucketName: string, distributionId: string): s3.Bucket {
  const bucket = new s3.Bucket(stack, 'Variants', {
    ...PRIVATE_BUCKET,
    bucketName,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    serverAccessLogsBucket: stack.node.findChild('AccessLogs') as s3.Bucket,
    serverAccessLogsPrefix: 'variants/',
    lifecycleRules: variantsLifecycle(),
  });
  allowDistributionRead(bucket, distributionId);
  return bucket;
}

/** Gives every tenant without its own standard variants the schema's, validated against that tenant's breakpoints and formats. */
function applyVariantSchema(tenants: PictorConfig, schema: TenantConfig['variants'] | undefined): PictorConfig {
  if (!schema) return tenants;
  const withSchema = Object.fromEntries(
    Object.entries(tenants.tenants).map(([id, tenant]) => [id, tenant.variants.widths || tenant.variants.formats ? tenant : { ...tenant, variants: schema }]),
  );
  return parseConfig({ tenants: withSchema }, 'ImageDelivery tenants with variantSchema applied');
}

interface ResolvedRegions {
  readonly primaryRegion: string;
  readonly replicaRegions: readonly string[];
  readonly originShieldRegion: string;
  readonly namespace: string;
}

function validateProps(props: ImageDeliveryProps, resolved: ResolvedRegions): void {
  const problems: string[] = [];
  const { primaryRegion, replicaRegions, originShieldRegion, namespace } = resolved;
  for (const [label, region] of [['primaryRegion', primaryRegion], ['originShieldRegion', originShieldRegion], ...replicaRegions.map((r, i) => [`replicaRegions[${i}]`, r])] as const) {
    if (!REGION.test(region)) problems.push(`${label}: "${region}" is not a region name such as eu-west-1.`);
  }
  if (replicaRegions.length === 0) problems.push('replicaRegions: give at least one region; the origin group fails over to the first.');
  if (replicaRegions.includes(primaryRegion)) problems.push(`replicaRegions: ${primaryRegion} is the primary region; a replica must be elsewhere to survive its outage.`);
  if (new Set(replicaRegions).size !== replicaRegions.length) problems.push('replicaRegions: name each region once.');
  if (!(ORIGIN_SHIELD_REGIONS as readonly string[]).includes(originShieldRegion)) {
    problems.push(`originShieldRegion: Origin Shield does not run in ${originShieldRegion}; set originShieldRegion to the nearest of ${ORIGIN_SHIELD_REGIONS.join(', ')}.`);
  }
  if (replicaRegions[0] && !(ORIGIN_SHIELD_REGIONS as readonly string[]).includes(replicaRegions[0])) {
    problems.push(`replicaRegions[0]: the failover origin's Origin Shield runs in its own region, and there is none in ${replicaRegions[0]}; put a replica in one of ${ORIGIN_SHIELD_REGIONS.join(', ')} first.`);
  }
  if (!/^[a-z0-9][a-z0-9-]{1,14}$/.test(namespace)) problems.push(`namespace: "${namespace}" must be 2 to 15 of a-z 0-9 -, starting with a letter or digit (it starts every bucket name).`);
  const rate = props.waf?.requestsPerIpPer5Minutes;
  if (rate !== undefined && (!Number.isInteger(rate) || rate < RATE_LIMIT_RANGE[0] || rate > RATE_LIMIT_RANGE[1])) {
    problems.push(`waf.requestsPerIpPer5Minutes: ${rate} must be a whole number from ${RATE_LIMIT_RANGE[0]} to ${RATE_LIMIT_RANGE[1]}.`);
  }
  if (props.waf?.managedRuleGroups?.length === 0) problems.push('waf.managedRuleGroups: leave it out for the defaults; an empty list turns off the managed protections.');
  const eligible = props.takedownEligibleTenants ?? [];
  for (const tenant of eligible) if (!Object.hasOwn(props.tenants.tenants, tenant)) problems.push(`takedownEligibleTenants: ${tenant} is not one of the tenants.`);
  const own = tenantsWithOwnBehavior(props.tenants, eligible.filter((t) => Object.hasOwn(props.tenants.tenants, t)));
  if (own.length > MAX_EXTRA_BEHAVIORS) {
    problems.push(`takedownEligibleTenants and tenants with signing.required: ${own.length} tenants need a cache behaviour of their own, at most ${MAX_EXTRA_BEHAVIORS} fit (CloudFront's 25 cache behaviours); ask AWS for a higher quota first.`);
  }
  for (const [label, arns] of [['takedownRequesters', props.takedownRequesters], ['rerenderRequesters', props.rerenderRequesters]] as const) {
    if (arns?.length === 0) problems.push(`${label}: leave it out for the default role; an empty list lets no one ask.`);
    for (const arn of arns ?? []) {
      // aws:PrincipalArn is a session's role ARN, so the bus policy names roles. https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn
      if (!Token.isUnresolved(arn) && !/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@\/-]+$/.test(arn)) problems.push(`${label}: "${arn}" is not an IAM role ARN such as arn:aws:iam::123456789012:role/legal.`);
    }
  }
  problems.push(...trailProblems(props.dataEventsTrail));
  problems.push(...controlApiProblems(props.controlApi, primaryRegion));
  if (props.tenantPrincipal !== undefined && typeof props.tenantPrincipal !== 'function') {
    problems.push('tenantPrincipal: give a function from a tenant id to the principal that may assume its role, such as (tenant) => new iam.AccountPrincipal(accounts[tenant]).');
  }
  // Tenants built without parseConfig, or changed since, would otherwise reach CloudFormation unchecked (a 1 KB store value, say).
  try {
    parseConfig(props.tenants, 'tenants');
  } catch (error) {
    problems.push(...(error as Error).message.split('\n').slice(1).map((line) => line.trim()));
  }
  if (props.domain && props.domain.names.length === 0) problems.push('domain.names: name at least one domain the certificate covers, or leave domain out.');
  for (const email of props.alarmSubscribers?.emails ?? []) {
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) problems.push(`alarmSubscribers.emails: "${email}" is not an email address.`);
  }
  for (const arn of props.alarmSubscribers?.topicArns ?? []) {
    const region = topicRegion(arn);
    if (!region) problems.push(`alarmSubscribers.topicArns: "${arn}" is not an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>).`);
    else if (region !== 'us-east-1' && region !== primaryRegion) {
      problems.push(`alarmSubscribers.topicArns: ${arn} is in ${region}, where no alarm is; an alarm notifies topics in its own region: use a topic in us-east-1 (the distribution's alarms) or ${primaryRegion} (the pipeline's).`);
    }
  }
  const logRegions = props.edgeLogs?.regions;
  if (logRegions !== undefined) {
    if (logRegions.length === 0) problems.push('edgeLogs.regions: leave it out for every Region enabled by default; an empty list leaves every regional log group without retention.');
    for (const region of logRegions) if (!REGION.test(region)) problems.push(`edgeLogs.regions: "${region}" is not a region name such as eu-west-1.`);
    if (new Set(logRegions).size !== logRegions.length) problems.push('edgeLogs.regions: name each region once.');
  }
  if (problems.length > 0) throw new PictorError('InvalidConfig', `Invalid ImageDelivery props:\n  ${problems.join('\n  ')}`);
}
