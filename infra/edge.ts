import { join } from 'node:path';
import { Duration, Names, Stack } from 'aws-cdk-lib';
import type * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { PRIVATE_CACHE_CONTROL } from '../core/cache-control.ts';
import { formatImagePath } from '../core/image-path.ts';
import { VARIANT_PARAMS } from '../core/normalize.ts';
import { HSTS_MAX_AGE, IMAGE_CONTENT_SECURITY_POLICY } from '../core/security-headers.ts';
import { PUBLISHED_PREFIX, SNAPSHOT_PREFIX, STAGING_PREFIX } from '../core/object-keys.ts';
import type { PictorConfig } from '../core/tenant-config.ts';
import { ORIGINALS_ORIGIN_HEADER, originRequestConfig, TENANT_STORE_ORIGIN_HEADER } from '../edge-fallback/origin-request/config.ts';
import { s3OriginDomain } from '../edge-fallback/origin-request/s3-adapters.ts';
import { buildViewerFunction, MODULE_EXTENSION } from '../edge-fallback/viewer-request/build.ts';
import { buildViewerResponseFunction } from '../edge-fallback/viewer-response/build.ts';
import { ACCESS_LOG_RETENTION, PRIVATE_BUCKET } from './buckets.ts';
import { ROOT } from './bundle.ts';
import { acknowledge, acknowledgeWildcards, policyResources } from './nag.ts';
import { bundledCode, sourceMapsWanted } from './lambda-code.ts';
import { PictorError } from '../core/errors.ts';

/** A bucket another stack owns, by the name and region it is created with. */
export interface BucketLocation {
  readonly bucketName: string;
  readonly region: string;
}

/** AWS WAF's limits on viewers. */
export interface WafLimits {
  /**
   * Requests one IP address may make in any 5 minutes before WAF blocks it. A page
   * of product images is tens of requests; this allows about 10 a second, sustained.
   * @default 3000
   */
  readonly requestsPerIpPer5Minutes?: number;
  /**
   * AWS managed rule groups to evaluate, by name.
   * @default ['AWSManagedRulesAmazonIpReputationList', 'AWSManagedRulesCommonRuleSet', 'AWSManagedRulesKnownBadInputsRuleSet']
   */
  readonly managedRuleGroups?: readonly string[];
}

export const DEFAULT_MANAGED_RULE_GROUPS = ['AWSManagedRulesAmazonIpReputationList', 'AWSManagedRulesCommonRuleSet', 'AWSManagedRulesKnownBadInputsRuleSet'] as const;
export const DEFAULT_REQUESTS_PER_IP = 3000;

/** A custom domain for the distribution; without one, CloudFront's own certificate allows TLS 1.0. */
export interface CustomDomain {
  readonly names: readonly string[];
  /** An ACM certificate in us-east-1 covering every name. */
  readonly certificate: acm.ICertificate;
}

/** An origin of the origin group: a variants bucket, which CloudFront reads with Origin Access Control. */
export interface VariantsOrigin {
  readonly variants: BucketLocation;
  /** The Origin Shield region in front of it. */
  readonly originShieldRegion: string;
}

export interface ImageEdgeProps {
  readonly tenants: PictorConfig;
  /**
   * The origin group: the primary's variants bucket, then the one it fails over
   * to, each in its own region. Each holds the published variants; the
   * origin-request function renders the rest into whichever CloudFront asks.
   */
  readonly origins: readonly [VariantsOrigin, VariantsOrigin];
  /** Every copy of the originals: the primary bucket, then its replicas. Renders read the nearest that answers. */
  readonly originals: readonly BucketLocation[];
  /** @default {} (the defaults of each limit) */
  readonly waf?: WafLimits;
  /** @default none: the cloudfront.net domain */
  readonly domain?: CustomDomain;
  /**
   * Tenants whose images may be taken down at short notice (user-generated
   * content): their own behaviour caps the edge TTL at 60 s, so a takedown
   * reaches every edge within a minute even while its invalidation is queued.
   * @default none
   */
  readonly takedownEligible?: readonly string[];
  /** @default PRICE_CLASS_ALL */
  readonly priceClass?: cloudfront.PriceClass;
  /**
   * The origin-request function's package.
   * @default the handler bundled at synth time, with this configuration written into it
   */
  readonly originRequestCode?: lambda.Code;
}

/** Statuses that make the origin group try the replica. https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/high_availability_origin_failover.html */
export const FAILOVER_STATUSES = [500, 502, 503, 504];

/**
 * How fast CloudFront gives up on an origin and fails over. By default it tries
 * 3 connections of 10 s each and waits 30 s for a response: a hung region would
 * hold a viewer over a minute. S3 answers its own region's Origin Shield in
 * milliseconds, so one 2 s connection attempt and 4 s for the response are ample;
 * past them the replica answers. Connection timeout 1-10 s, attempts 1-3, S3
 * response timeout 1-120 s: https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_Origin.html
 * https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_S3OriginConfig.html
 */
export const ORIGIN_CONNECTION_ATTEMPTS = 1;
export const ORIGIN_CONNECTION_TIMEOUT = Duration.seconds(2);
export const ORIGIN_RESPONSE_TIMEOUT = Duration.seconds(4);

/** The edge TTL cap for takedown-eligible tenants. */
export const TAKEDOWN_MAX_TTL = Duration.seconds(60);

/**
 * Origin-request functions may run 30 s. https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-limits.html#limits-lambda-at-edge
 * Memory buys CPU: at 1,769 MB a function has one full vCPU, and a 12 MP decode
 * wants more than that. https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html
 */
export const ORIGIN_REQUEST_TIMEOUT = Duration.seconds(30);
export const ORIGIN_REQUEST_MEMORY = 3008;

/**
 * The delivery edge (us-east-1, where Lambda@Edge and CloudFront-scoped WAF
 * live): the distribution, the viewer-request function and its KeyValueStore,
 * the origin-request Lambda@Edge, the WAF web ACL and the standard logs.
 */
export class ImageEdge extends Construct {
  readonly distribution: cloudfront.Distribution;
  readonly viewerRequest: cloudfront.Function;
  /** Sets the viewer's Cache-Control of tenants that require signed URLs, from the same store, per response. */
  readonly viewerResponse: cloudfront.Function;
  /** The viewer function's store: tenants' policies and signing keys. */
  readonly keyValueStore: cloudfront.KeyValueStore;
  /** The origin's and the pipeline's store: tenants' policies and configurations, no secret. */
  readonly configStore: cloudfront.KeyValueStore;
  readonly originRequest: lambda.Function;
  readonly webAcl: wafv2.CfnWebACL;
  readonly logs: s3.Bucket;
  readonly cachePolicy: cloudfront.CachePolicy;
  /** The security headers on every response CloudFront serves. */
  readonly responseHeadersPolicy: cloudfront.ResponseHeadersPolicy;
  /** The same, plus a Cache-Control no shared cache may store, for tenants that require signed URLs. */
  readonly privateResponseHeadersPolicy: cloudfront.ResponseHeadersPolicy;
  /** How CloudFront signs its requests to the variants buckets, which grant this distribution s3:GetObject. */
  readonly originAccessControl: cloudfront.S3OriginAccessControl;

  constructor(scope: Construct, id: string, props: ImageEdgeProps) {
    super(scope, id);
    if (Stack.of(this).region !== 'us-east-1') {
      throw new PictorError('InvalidConfig', `ImageEdge must be in a us-east-1 stack (Lambda@Edge and CloudFront-scoped WAF live there); this stack is in ${Stack.of(this).region}.`);
    }

    // What the viewer function reads per request: each tenant's policy and signing keys. Created empty,
    // with a stable name: the tenant registry (tenant-store/registry.ts, `pictor tenants put`) fills and
    // changes it through the KeyValueStore API, so no tenant and no secret is in a template or an asset,
    // and a change needs no deploy. https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/kvs-with-functions-kvp.html
    this.keyValueStore = new cloudfront.KeyValueStore(this, 'TenantStore', {
      keyValueStoreName: Names.uniqueResourceName(this, { maxLength: 64 }),
      comment: 'Pictor: tenant policies and signing keys, for the viewer function; written by the tenant registry',
    });
    // What the origin-request function and the tasks read through the API: each tenant's policy and
    // configuration, never a key. A store of its own because KeyValueStore permissions are per store,
    // not per key: a role that may GetKey here cannot read the signing keys.
    // https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudfrontkeyvaluestore.html
    this.configStore = new cloudfront.KeyValueStore(this, 'TenantConfigStore', {
      keyValueStoreName: `${Names.uniqueResourceName(this, { maxLength: 57 })}-config`,
      comment: 'Pictor: tenant policies and configurations, for the origin and the pipeline; written by the tenant registry',
    });
    // The very file the tests and the local twin run.
    this.viewerRequest = new cloudfront.Function(this, 'ViewerRequest', {
      comment: 'Pictor: canonical cache keys and signed URLs',
      code: cloudfront.FunctionCode.fromInline(buildViewerFunction().code),
      runtime: cloudfront.FunctionRuntime.JS_2_0,
      keyValueStore: this.keyValueStore,
    });
    // A tenant put or switched to signed at run time is private to viewers at once: its policy, read
    // per response from the viewer's store, decides, not a behaviour made at synth. A store may be
    // associated with several functions, each function with one store.
    // https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/kvs-with-functions-associate.html
    // CloudFront runs it on what it serves from its cache or the origin, below status 400, and never on
    // a response the viewer-request function generated; after the response headers policy.
    // https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/function-code-choose-purpose.html
    // https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/edge-function-restrictions-all.html
    // https://aws.amazon.com/blogs/networking-and-content-delivery/amazon-cloudfront-introduces-response-headers-policies/
    this.viewerResponse = new cloudfront.Function(this, 'ViewerResponse', {
      comment: "Pictor: the private viewer Cache-Control of tenants that require signed URLs",
      code: cloudfront.FunctionCode.fromInline(buildViewerResponseFunction().code),
      runtime: cloudfront.FunctionRuntime.JS_2_0,
      keyValueStore: this.keyValueStore,
    });

    this.originRequest = new lambda.Function(this, 'OriginRequest', {
      description: 'Pictor: serve the stored variant, or render and store it',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.X86_64,
      handler: 'index.handler',
      // No tenant in the bundle: the function reads policies from the store, whose ARN the origin's header carries.
      code: props.originRequestCode ?? bundledCode(join(ROOT, 'edge-fallback', 'origin-request', `lambda${MODULE_EXTENSION}`), { define: { PICTOR_ORIGIN_REQUEST_CONFIG: originRequestConfig() }, sourceMap: sourceMapsWanted(this) }),
      memorySize: ORIGIN_REQUEST_MEMORY,
      timeout: ORIGIN_REQUEST_TIMEOUT,
      role: edgeRole(this, props, this.configStore.keyValueStoreArn),
    });
    allowEdgeLogs(this, this.originRequest.role!, this.originRequest);

    this.cachePolicy = cachePolicy(this, 'ImageCachePolicy', 'Pictor: canonical variant parameters only', Duration.days(365));
    const shortCache = cachePolicy(this, 'TakedownCachePolicy', 'Pictor: takedown-eligible tenants, at most 60 s at the edge', TAKEDOWN_MAX_TTL);
    // The origin sees exactly what keys the cache: the canonical query and nothing else.
    const originRequestPolicy = new cloudfront.OriginRequestPolicy(this, 'ImageOriginRequestPolicy', {
      comment: 'Pictor: nothing beyond the cache key',
      headerBehavior: cloudfront.OriginRequestHeaderBehavior.none(),
      queryStringBehavior: cloudfront.OriginRequestQueryStringBehavior.none(),
      cookieBehavior: cloudfront.OriginRequestCookieBehavior.none(),
    });

    // CloudFront fetches every response itself, from the variants bucket of the origin it chose,
    // signed with Origin Access Control; the function only rewrites the URI to the variant's key.
    // https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-restricting-access-to-s3.html
    this.originAccessControl = new cloudfront.S3OriginAccessControl(this, 'VariantsAccess', {
      description: 'Pictor: CloudFront reads variants',
      signing: cloudfront.Signing.SIGV4_ALWAYS,
    });
    const bucketOrigin = (id: string, origin: VariantsOrigin) =>
      origins.S3BucketOrigin.withOriginAccessControl(s3.Bucket.fromBucketAttributes(this, id, { bucketName: origin.variants.bucketName, region: origin.variants.region }), {
        originAccessControl: this.originAccessControl,
        originShieldRegion: origin.originShieldRegion,
        connectionAttempts: ORIGIN_CONNECTION_ATTEMPTS,
        connectionTimeout: ORIGIN_CONNECTION_TIMEOUT,
        // Where this origin's renders read originals: its own region's copy first.
        customHeaders: {
          [ORIGINALS_ORIGIN_HEADER]: nearestFirst(props.originals, origin.variants.region).map((o) => s3OriginDomain(o.bucketName, o.region)).join(','),
          [TENANT_STORE_ORIGIN_HEADER]: this.configStore.keyValueStoreArn,
        },
      });
    const originGroup = new origins.OriginGroup({
      primaryOrigin: bucketOrigin('PrimaryVariants', props.origins[0]),
      fallbackOrigin: bucketOrigin('FailoverVariants', props.origins[1]),
      fallbackStatusCodes: FAILOVER_STATUSES,
    });
    // AWS documents that a response headers policy covers what CloudFront serves from its cache and from the
    // origin; the edge functions' own responses carry the same headers (core/security-headers.ts).
    // https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/modifying-response-headers.html
    const securityHeadersBehavior: cloudfront.ResponseSecurityHeadersBehavior = {
      contentTypeOptions: { override: true },
      contentSecurityPolicy: { contentSecurityPolicy: IMAGE_CONTENT_SECURITY_POLICY, override: true },
      strictTransportSecurity: { accessControlMaxAge: Duration.seconds(HSTS_MAX_AGE), includeSubdomains: false, override: true },
    };
    this.responseHeadersPolicy = new cloudfront.ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'Pictor: security headers on every response',
      securityHeadersBehavior,
    });
    // The viewer's Cache-Control only: CloudFront itself still caches by the origin's. The viewer-response
    // function does the same for every signed tenant, deployed or put later; this policy, for the tenants
    // of the deploy, also covers the origin's errors (status 400 and up), on which no viewer-response runs.
    this.privateResponseHeadersPolicy = new cloudfront.ResponseHeadersPolicy(this, 'PrivateTenantHeaders', {
      comment: 'Pictor: tenants with signed URLs; no shared cache between CloudFront and the viewer may store a response',
      securityHeadersBehavior,
      customHeadersBehavior: { customHeaders: [{ header: 'Cache-Control', value: PRIVATE_CACHE_CONTROL, override: true }] },
    });
    const behavior = (policy: cloudfront.ICachePolicy, headers: cloudfront.IResponseHeadersPolicy): cloudfront.BehaviorOptions => ({
      origin: originGroup,
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
      cachedMethods: cloudfront.CachedMethods.CACHE_GET_HEAD,
      cachePolicy: policy,
      originRequestPolicy,
      responseHeadersPolicy: headers,
      // Images are compressed already.
      compress: false,
      functionAssociations: [
        { function: this.viewerRequest, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST },
        { function: this.viewerResponse, eventType: cloudfront.FunctionEventType.VIEWER_RESPONSE },
      ],
      edgeLambdas: [{ functionVersion: this.originRequest.currentVersion, eventType: cloudfront.LambdaEdgeEventType.ORIGIN_REQUEST }],
    });
    // A behaviour of its own for each tenant that is takedown-eligible (a short edge TTL) or private (private viewer headers).
    const eligible = new Set(props.takedownEligible ?? []);
    const tenantBehaviors = Object.fromEntries(
      tenantsWithOwnBehavior(props.tenants, props.takedownEligible).map((tenant) => [
        `${formatImagePath({ tenant, imageId: '' })}*`,
        behavior(eligible.has(tenant) ? shortCache : this.cachePolicy, props.tenants.tenants[tenant]!.signing.required ? this.privateResponseHeadersPolicy : this.responseHeadersPolicy),
      ]),
    );

    this.webAcl = webAcl(this, props);
    this.logs = new s3.Bucket(this, 'Logs', {
      ...PRIVATE_BUCKET,
      // CloudFront's standard logs are delivered with an ACL. https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logging-legacy-s3.html
      objectOwnership: s3.ObjectOwnership.OBJECT_WRITER,
      lifecycleRules: [ACCESS_LOG_RETENTION],
    });

    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'Pictor image delivery',
      defaultBehavior: behavior(this.cachePolicy, this.responseHeadersPolicy),
      additionalBehaviors: tenantBehaviors,
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      // A TLS policy applies to a custom certificate only; CloudFront's own is fixed.
      minimumProtocolVersion: props.domain ? cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 : undefined,
      domainNames: props.domain ? [...props.domain.names] : undefined,
      certificate: props.domain?.certificate,
      enableIpv6: true,
      enableLogging: true,
      logBucket: this.logs,
      logFilePrefix: 'cloudfront/',
      webAclId: this.webAcl.attrArn,
      // CacheHitRate and the error-rate breakdown, which the alarms and the dashboard read.
      publishAdditionalMetrics: true,
      priceClass: props.priceClass ?? cloudfront.PriceClass.PRICE_CLASS_ALL,
    });
    // CDK's S3 origins do not expose the response timeout; both origins are S3 buckets, in group order.
    const cfn = this.distribution.node.defaultChild as cloudfront.CfnDistribution;
    props.origins.forEach((_, index) => cfn.addPropertyOverride(`DistributionConfig.Origins.${index}.S3OriginConfig.OriginReadTimeout`, ORIGIN_RESPONSE_TIMEOUT.toSeconds()));

    acknowledge(this, {
      'AwsSolutions-CFR1': "Images are delivered worldwide; a tenant that must restrict countries adds WAF's geo match to this web ACL.",
      'AwsSolutions-L1': 'Pinned to nodejs22.x, which the bundle targets (esbuild node22) and is tested on; a runtime upgrade is a tested change of its own.',
      'AwsSolutions-S1': "This is the log bucket; logging its own access would log the logging.",
      'Annotation::@aws-cdk/aws-cloudfront-origins:updateImportedBucketPolicyOac':
        "The variants buckets' own stacks grant this distribution s3:GetObject (infra/pipeline-stack.ts, infra/image-delivery.ts); a policy cannot be changed from another stack.",
      ...(props.domain
        ? {}
        : { 'AwsSolutions-CFR4': "Without `domain`, viewers use CloudFront's certificate, whose TLS policy CloudFront fixes; pass `domain` for TLS 1.2 or later." }),
    });
  }
}

/** The copies of the originals, those in `region` first, the rest in the order given. */
export function nearestFirst(originals: readonly BucketLocation[], region: string): BucketLocation[] {
  return [...originals.filter((o) => o.region === region), ...originals.filter((o) => o.region !== region)];
}

/** The tenants that need a cache behaviour of their own: takedown-eligible ones, and those that require signed URLs. */
export function tenantsWithOwnBehavior(tenants: PictorConfig, takedownEligible: readonly string[] = []): string[] {
  const signed = Object.keys(tenants.tenants).filter((tenant) => tenants.tenants[tenant]!.signing.required);
  return [...new Set([...takedownEligible, ...signed])].sort();
}

function cachePolicy(scope: Construct, id: string, comment: string, maxTtl: Duration): cloudfront.CachePolicy {
  return new cloudfront.CachePolicy(scope, id, {
    comment,
    // The viewer function has put the canonical parameters, the negotiated format
    // among them, into the query: they are the whole key. No header, no cookie.
    queryStringBehavior: cloudfront.CacheQueryStringBehavior.allowList(...VARIANT_PARAMS),
    headerBehavior: cloudfront.CacheHeaderBehavior.none(),
    cookieBehavior: cloudfront.CacheCookieBehavior.none(),
    minTtl: Duration.seconds(0),
    defaultTtl: maxTtl.toSeconds() < 86400 ? maxTtl : Duration.days(1),
    maxTtl,
    enableAcceptEncodingGzip: false,
    enableAcceptEncodingBrotli: false,
  });
}

/**
 * The transform role: read published originals (snapshots and the published
 * pointers; never an upload that was not published, nor a quarantined one) in the
 * primary and the replica, read, write and withdraw variants (never staged ones);
 * its logs are allowed beside it (allowEdgeLogs). No ListBucket, so a
 * missing key is a 403 (handled as absent).
 */
function edgeRole(scope: Construct, props: ImageEdgeProps, tenantStoreArn: string): iam.Role {
  const partition = Stack.of(scope).partition;
  const objects = (location: BucketLocation, pattern: string) => `arn:${partition}:s3:::${location.bucketName}/${pattern}`;
  const variants = props.origins.map((o) => o.variants);
  const transform = new iam.PolicyDocument({
    statements: [
      new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: props.originals.flatMap((o) => [objects(o, `${SNAPSHOT_PREFIX}*`), objects(o, `${PUBLISHED_PREFIX}*`)]) }),
      new iam.PolicyStatement({ actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], resources: variants.map((v) => objects(v, '*')) }),
      new iam.PolicyStatement({ effect: iam.Effect.DENY, actions: ['s3:*'], resources: variants.map((v) => objects(v, `${STAGING_PREFIX}*`)) }),
      // Tenant policies, read at run time. https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudfrontkeyvaluestore.html
      new iam.PolicyStatement({ actions: ['cloudfront-keyvaluestore:GetKey'], resources: [tenantStoreArn] }),
    ],
  });
  const role = new iam.Role(scope, 'OriginRequestRole', {
    description: 'Pictor Lambda@Edge: published originals read, variants read and write',
    assumedBy: new iam.CompositePrincipal(new iam.ServicePrincipal('lambda.amazonaws.com'), new iam.ServicePrincipal('edgelambda.amazonaws.com')),
    inlinePolicies: { transform },
  });
  acknowledgeWildcards(role, policyResources(role, transform), 'Keys are derived per request from the validated path (core/object-keys.ts), in every tenant.');
  return role;
}

/**
 * The origin-request function's own logs: Lambda@Edge creates a log group in each
 * region that runs it, named /aws/lambda/us-east-1.{function}, and writes there.
 * A policy of its own, beside the role, since it names the function the role runs.
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/edge-functions-logs.html
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-edge-permissions.html
 */
function allowEdgeLogs(scope: Construct, role: iam.IRole, fn: lambda.IFunction): iam.Policy {
  const policy = new iam.Policy(scope, 'OriginRequestLogs', {
    roles: [role],
    statements: [
      new iam.PolicyStatement({
        actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [edgeLogGroupArn(Stack.of(scope), '*', fn.functionName), `${edgeLogGroupArn(Stack.of(scope), '*', fn.functionName)}:*`],
      }),
    ],
  });
  acknowledgeWildcards(policy, policyResources(policy, policy.document), "The function's own log group in whichever region runs it (any region with a regional edge cache), and its streams.");
  return policy;
}

/** The log group Lambda@Edge writes a function's logs to in a region. */
export function edgeLogGroupName(functionName: string): string {
  return `/aws/lambda/us-east-1.${functionName}`;
}

function edgeLogGroupArn(stack: Stack, region: string, functionName: string): string {
  return `arn:${stack.partition}:logs:${region}:${stack.account}:log-group:${edgeLogGroupName(functionName)}`;
}

function webAcl(scope: Construct, props: ImageEdgeProps): wafv2.CfnWebACL {
  const visibility = (metricName: string) => ({ cloudWatchMetricsEnabled: true, metricName, sampledRequestsEnabled: true });
  const rules: wafv2.CfnWebACL.RuleProperty[] = [];
  for (const name of props.waf?.managedRuleGroups ?? DEFAULT_MANAGED_RULE_GROUPS) {
    rules.push({
      name,
      priority: rules.length,
      overrideAction: { none: {} },
      statement: { managedRuleGroupStatement: { vendorName: 'AWS', name } },
      visibilityConfig: visibility(name),
    });
  }
  rules.push({
    name: 'RatePerIp',
    priority: rules.length,
    action: { block: { customResponse: { responseCode: 429 } } },
    statement: { rateBasedStatement: { limit: props.waf?.requestsPerIpPer5Minutes ?? DEFAULT_REQUESTS_PER_IP, aggregateKeyType: 'IP', evaluationWindowSec: 300 } },
    visibilityConfig: visibility('RatePerIp'),
  });
  // Hotlinking is the viewer function's to refuse, from each tenant's policy in the
  // KeyValueStore (core/hotlinking.ts): WAF would need a regex pattern set per tenant,
  // 10 per account by default, and a deploy for every change of a tenant's sites.
  // https://docs.aws.amazon.com/waf/latest/developerguide/limits.html
  return new wafv2.CfnWebACL(scope, 'WebAcl', {
    scope: 'CLOUDFRONT',
    defaultAction: { allow: {} },
    // WAF descriptions allow no apostrophe.
    description: 'Pictor: managed rules and a rate limit per IP',
    rules,
    visibilityConfig: visibility('PictorWebAcl'),
  });
}
