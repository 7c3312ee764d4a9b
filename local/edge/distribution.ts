import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { PictorConfig } from '../../core/tenant-config.ts';
import { ImageEdge } from '../../infra/edge.ts';
import { arnOf, LOCAL_ACCOUNT, resolveTokens, type CfnResource, type CfnTemplate } from '../pipeline/template.ts';
import { parseS3OriginDomain } from '../../edge-fallback/origin-request/s3-adapters.ts';
import { BUCKETS } from '../topology.ts';
import type { CachePolicyTtls } from './freshness.ts';

/**
 * The twin's CloudFront configuration, read from the synthesized distribution
 * rather than kept by hand: its cache behaviours (path pattern, cache policy,
 * response headers policy), its origin group and the viewer function's code.
 */
export interface DistributionConfig {
  /** In CloudFront's order: the ordered behaviours, then the default (pattern `*`). */
  readonly behaviors: readonly Behavior[];
  readonly originGroup: OriginGroup;
  /** The viewer-request CloudFront Function's code, as deployed. */
  readonly viewerFunctionCode: string;
  /** The viewer-response CloudFront Function's code, as deployed; absent when no behaviour runs one. */
  readonly viewerResponseFunctionCode?: string;
  /** The origin-request Lambda@Edge function's timeout, in ms. */
  readonly originRequestTimeoutMs: number;
  /** The ARN CloudFront invokes the origin-request function by: a numbered version, in the twin's account. */
  readonly originRequestFunctionArn: string;
}

export interface Behavior {
  readonly pathPattern: string;
  /** The path pattern as a regular expression, made once. */
  readonly matches: RegExp;
  readonly cachePolicy: CachePolicy;
  readonly responseHeaders?: ResponseHeadersPolicy;
  /** Whether the behaviour associates the viewer-response function. */
  readonly viewerResponse: boolean;
}

export interface CachePolicy extends CachePolicyTtls {
  /** The query strings in the cache key (an allowlist). */
  readonly queryStrings: readonly string[];
}

/** Headers a response headers policy sets; without `override`, only where the response has none. */
export interface ResponseHeadersPolicy {
  readonly set: readonly { readonly name: string; readonly value: string; readonly override: boolean }[];
  readonly remove: readonly string[];
}

/** An S3 origin as CloudFront reaches it. */
export interface S3Origin {
  readonly id: string;
  /** The bucket's REST domain, e.g. `bucket.s3.us-east-1.amazonaws.com`. */
  readonly domain: string;
  readonly bucket: string;
  readonly region: string;
  /** Headers CloudFront adds to every request to this origin, the origin-request function's event included. */
  readonly customHeaders: Readonly<Record<string, string>>;
  readonly connectionAttempts: number;
  readonly connectionTimeoutMs: number;
  /** How long CloudFront waits for the origin's response once connected. */
  readonly responseTimeoutMs: number;
  readonly originShieldRegion?: string;
}

export interface OriginGroup {
  /** The primary, then the origin it fails over to. */
  readonly members: readonly [S3Origin, S3Origin];
  readonly failoverStatuses: readonly number[];
}

/**
 * CloudFront keeps an error response 10 s unless the distribution says otherwise.
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/custom-error-pages-expiration.html
 */
const DEFAULT_ERROR_CACHING_MIN_TTL = 10;

/** Synthesizes the edge as a deployment does (infra/edge.ts), with the twin's buckets; only the Lambda@Edge package differs. */
export function synthesizeEdge(config: PictorConfig, options: { takedownEligible?: readonly string[] } = {}): CfnTemplate {
  const app = new App({ context: { 'aws:cdk:enable-path-metadata': true }, builtinCloudFormationValidation: false });
  const stack = new Stack(app, 'PictorEdge', { env: { account: LOCAL_ACCOUNT, region: 'us-east-1' } });
  new ImageEdge(stack, 'Edge', {
    tenants: config,
    origins: [
      { variants: { bucketName: BUCKETS.variants.bucket, region: BUCKETS.variants.region }, originShieldRegion: BUCKETS.variants.region },
      { variants: { bucketName: BUCKETS.failoverVariants.bucket, region: BUCKETS.failoverVariants.region }, originShieldRegion: BUCKETS.failoverVariants.region },
    ],
    originals: [BUCKETS.originals, BUCKETS.replica].map((b) => ({ bucketName: b.bucket, region: b.region })),
    takedownEligible: options.takedownEligible,
    // The twin calls the handler in-process.
    originRequestCode: lambda.Code.fromInline('// runs in-process in the twin'),
  });
  return app.synth().getStackByName(stack.stackName).template as CfnTemplate;
}

/** The distribution's configuration, as the twin's edge follows it. */
export function readDistribution(template: CfnTemplate): DistributionConfig {
  const resolve = (value: unknown) => resolveTokens(value, template, {});
  const entries = Object.entries(template.Resources);
  const distribution = entries.find(([, r]) => r.Type === 'AWS::CloudFront::Distribution')?.[1];
  if (!distribution) throw new Error('The edge template has no distribution.');
  const config = distribution.Properties!.DistributionConfig;
  const byRef = (ref: { Ref: string } | undefined, type: string): CfnResource | undefined => {
    if (!ref) return undefined;
    const resource = template.Resources[ref.Ref];
    if (resource?.Type !== type) throw new Error(`The distribution refers to ${ref.Ref}, which is not a ${type}.`);
    return resource;
  };
  const behavior = (b: any, pathPattern: string): Behavior => ({
    pathPattern,
    matches: patternToRegExp(pathPattern),
    cachePolicy: cachePolicyOf(byRef(b.CachePolicyId, 'AWS::CloudFront::CachePolicy')),
    responseHeaders: responseHeadersOf(byRef(b.ResponseHeadersPolicyId, 'AWS::CloudFront::ResponseHeadersPolicy')),
    viewerResponse: functionsOf(b)['viewer-response'] !== undefined,
  });
  // Each behaviour's CloudFront Functions, by event type, as its associations name them.
  const functionsOf = (b: any): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const association of b.FunctionAssociations ?? []) {
      const id = association.FunctionARN?.['Fn::GetAtt']?.[0];
      const fn = template.Resources[id];
      if (fn?.Type !== 'AWS::CloudFront::Function') throw new Error(`A ${association.EventType} association names ${id}, which is not a CloudFront Function of the template.`);
      out[association.EventType] = String(resolve(fn.Properties!.FunctionCode));
    }
    return out;
  };

  // Without custom error responses, CloudFront keeps an error for the 10 s default, which the cache policies here carry.
  if ((config.CustomErrorResponses ?? []).length > 0) throw new Error('The twin does not model custom error responses.');
  const groups = config.OriginGroups?.Items ?? [];
  if (groups.length !== 1) throw new Error(`The twin's edge models one origin group; the distribution has ${groups.length}.`);
  const group = groups[0];
  const members = group.Members.Items.map((m: { OriginId: string }) => {
    const origin = config.Origins.find((o: { Id: string }) => o.Id === m.OriginId);
    if (!origin) throw new Error(`The origin group names ${m.OriginId}, which is not an origin.`);
    return s3OriginOf(origin, resolve);
  });
  if (members.length !== 2) throw new Error(`An origin group has two origins; this one has ${members.length}.`);
  for (const b of [config.DefaultCacheBehavior, ...(config.CacheBehaviors ?? [])]) {
    if (b.TargetOriginId !== group.Id) throw new Error(`The twin's edge models behaviours that use the origin group; ${b.PathPattern ?? 'the default'} uses ${b.TargetOriginId}.`);
  }

  // The twin runs one viewer-request and one viewer-response function for the whole distribution, so every
  // behaviour must associate the same ones (or none of the latter).
  const allBehaviors = [config.DefaultCacheBehavior, ...(config.CacheBehaviors ?? [])];
  const codes = (eventType: string) => new Set(allBehaviors.map((b) => functionsOf(b)[eventType]).filter((code) => code !== undefined));
  const viewerRequestCodes = codes('viewer-request');
  if (viewerRequestCodes.size !== 1 || allBehaviors.some((b) => functionsOf(b)['viewer-request'] === undefined)) {
    throw new Error("The twin's edge models one viewer-request function, associated with every behaviour.");
  }
  const viewerResponseCodes = codes('viewer-response');
  if (viewerResponseCodes.size > 1) throw new Error("The twin's edge models one viewer-response function; the behaviours associate different ones.");
  return {
    behaviors: [...(config.CacheBehaviors ?? []).map((b: any) => behavior(b, b.PathPattern)), behavior(config.DefaultCacheBehavior, '*')],
    originGroup: { members: [members[0], members[1]], failoverStatuses: group.FailoverCriteria.StatusCodes.Items },
    viewerFunctionCode: [...viewerRequestCodes][0]!,
    viewerResponseFunctionCode: [...viewerResponseCodes][0],
    ...originRequestFunction(template, config.DefaultCacheBehavior),
  };
}

/**
 * An origin of the distribution, with CloudFront's defaults where the template
 * leaves them out: 3 connection attempts of 10 s, 30 s for the response.
 * https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_Origin.html
 * https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_S3OriginConfig.html
 */
function s3OriginOf(origin: any, resolve: (value: unknown) => unknown): S3Origin {
  if (!origin.S3OriginConfig) throw new Error(`The twin's edge models S3 origins only; ${origin.Id} is not one.`);
  if (origin.S3OriginConfig.OriginAccessIdentity) throw new Error(`${origin.Id} uses an origin access identity; the twin follows Origin Access Control only.`);
  if (!origin.OriginAccessControlId) throw new Error(`${origin.Id} has no Origin Access Control: CloudFront could not read a private bucket.`);
  const domain = String(resolve(origin.DomainName));
  const parsed = parseS3OriginDomain(domain);
  if (!parsed) throw new Error(`${origin.Id}'s domain ${domain} is not an S3 bucket's regional REST domain.`);
  return {
    id: origin.Id,
    domain,
    bucket: parsed.bucket,
    region: parsed.region,
    customHeaders: Object.fromEntries((origin.OriginCustomHeaders ?? []).map((h: { HeaderName: string; HeaderValue: unknown }) => [h.HeaderName, String(resolve(h.HeaderValue))])),
    connectionAttempts: origin.ConnectionAttempts ?? 3,
    connectionTimeoutMs: (origin.ConnectionTimeout ?? 10) * 1000,
    responseTimeoutMs: (origin.S3OriginConfig.OriginReadTimeout ?? 30) * 1000,
    originShieldRegion: origin.OriginShield?.Enabled ? origin.OriginShield.OriginShieldRegion : undefined,
  };
}

/**
 * The Lambda@Edge function the default behaviour runs on origin requests: its
 * timeout, which may be at most 30 s, and the ARN of the version CloudFront
 * invokes, which Lambda passes to it as its context's invokedFunctionArn.
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-limits.html#limits-lambda-at-edge
 * https://docs.aws.amazon.com/lambda/latest/dg/nodejs-context.html
 */
function originRequestFunction(template: CfnTemplate, behavior: any): { originRequestTimeoutMs: number; originRequestFunctionArn: string } {
  const association = (behavior.LambdaFunctionAssociations ?? []).find((a: { EventType: string }) => a.EventType === 'origin-request');
  if (!association) throw new Error('The distribution runs no origin-request function; the twin models one.');
  const version = template.Resources[association.LambdaFunctionARN?.Ref];
  const fn = version?.Type === 'AWS::Lambda::Version' ? template.Resources[version.Properties!.FunctionName?.Ref] : undefined;
  if (fn?.Type !== 'AWS::Lambda::Function') throw new Error('The origin-request association does not name a version of a function in the template.');
  const seconds = Number(fn.Properties!.Timeout ?? 3);
  if (seconds > 30) throw new Error(`An origin-request function may run at most 30 s; this one is set to ${seconds}.`);
  return { originRequestTimeoutMs: seconds * 1000, originRequestFunctionArn: `${arnOf('AWS::Lambda::Function', version!.Properties!.FunctionName.Ref)}:1` };
}

/**
 * The behaviour a request follows: the first whose path pattern matches the path
 * the viewer asked for (before any function changed it), else the default. `*`
 * matches any characters, `?` one; patterns are case-sensitive.
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/DownloadDistValuesCacheBehavior.html#DownloadDistValuesPathPattern
 */
export function behaviorFor(distribution: DistributionConfig, path: string): Behavior {
  return distribution.behaviors.find((b) => b.matches.test(path)) ?? distribution.behaviors[distribution.behaviors.length - 1]!;
}

function patternToRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body.startsWith('/') || body.startsWith('.*') ? '' : '/'}${body}$`);
}

function cachePolicyOf(resource: CfnResource | undefined): CachePolicy {
  if (!resource) throw new Error('The twin models cache policies only, not legacy cache settings.');
  const config = resource.Properties!.CachePolicyConfig;
  const queries = config.ParametersInCacheKeyAndForwardedToOrigin.QueryStringsConfig;
  if (queries.QueryStringBehavior !== 'whitelist' && queries.QueryStringBehavior !== 'none') {
    throw new Error(`The twin models query-string allowlists only, not '${queries.QueryStringBehavior}'.`);
  }
  return {
    minTtl: Number(config.MinTTL),
    defaultTtl: Number(config.DefaultTTL),
    maxTtl: Number(config.MaxTTL),
    errorCachingMinTtl: DEFAULT_ERROR_CACHING_MIN_TTL,
    queryStrings: queries.QueryStrings ?? [],
  };
}

/**
 * The headers a response headers policy adds, as CloudFront writes them. A part
 * of a policy the twin does not model fails here rather than being ignored.
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/understanding-response-headers-policies.html
 */
function responseHeadersOf(resource: CfnResource | undefined): ResponseHeadersPolicy | undefined {
  if (!resource) return undefined;
  const { SecurityHeadersConfig: security = {}, CustomHeadersConfig: custom, RemoveHeadersConfig: remove, Name: _, Comment: __, ...rest } = resource.Properties!.ResponseHeadersPolicyConfig;
  if (Object.keys(rest).length > 0) throw new Error(`The twin does not model ${Object.keys(rest).join(', ')} in response headers policies.`);
  const set: { name: string; value: string; override: boolean }[] = [];
  for (const [kind, header] of Object.entries<any>(security)) {
    switch (kind) {
      case 'ContentTypeOptions':
        set.push({ name: 'x-content-type-options', value: 'nosniff', override: header.Override });
        break;
      case 'ContentSecurityPolicy':
        set.push({ name: 'content-security-policy', value: header.ContentSecurityPolicy, override: header.Override });
        break;
      case 'StrictTransportSecurity':
        set.push({
          name: 'strict-transport-security',
          value: `max-age=${header.AccessControlMaxAgeSec}${header.IncludeSubdomains ? '; includeSubDomains' : ''}${header.Preload ? '; preload' : ''}`,
          override: header.Override,
        });
        break;
      case 'FrameOptions':
        set.push({ name: 'x-frame-options', value: header.FrameOption, override: header.Override });
        break;
      case 'ReferrerPolicy':
        set.push({ name: 'referrer-policy', value: header.ReferrerPolicy, override: header.Override });
        break;
      default:
        throw new Error(`The twin does not model the security header ${kind}.`);
    }
  }
  for (const header of custom?.Items ?? []) set.push({ name: String(header.Header).toLowerCase(), value: header.Value, override: header.Override });
  return { set, remove: (remove?.Items ?? []).map((h: { Header: string }) => h.Header.toLowerCase()) };
}

/** A response's headers as CloudFront sends them to the viewer under a response headers policy. */
export function withResponseHeaders(headers: Readonly<Record<string, string>>, policy: ResponseHeadersPolicy | undefined): Record<string, string> {
  const out: Record<string, string> = { ...headers };
  if (!policy) return out;
  for (const name of policy.remove) delete out[name];
  for (const { name, value, override } of policy.set) if (override || out[name] === undefined) out[name] = value;
  return out;
}
