import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { PictorConfig } from '../../core/tenant-config.ts';
import { ImageEdge } from '../../infra/edge.ts';
import { LOCAL_ACCOUNT, resolveTokens, type CfnResource, type CfnTemplate } from '../pipeline/template.ts';
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
}

export interface Behavior {
  readonly pathPattern: string;
  /** The path pattern as a regular expression, made once. */
  readonly matches: RegExp;
  readonly cachePolicy: CachePolicy;
  readonly responseHeaders?: ResponseHeadersPolicy;
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

export interface OriginGroup {
  readonly primary: string;
  readonly secondary: string;
  /** Custom headers of the origins (the same on both, as Pictor configures them). */
  readonly customHeaders: Readonly<Record<string, string>>;
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
    originals: { bucketName: BUCKETS.originals.bucket, region: BUCKETS.originals.region },
    failover: { bucketName: BUCKETS.replica.bucket, region: BUCKETS.replica.region },
    variants: { bucketName: BUCKETS.variants.bucket, region: BUCKETS.variants.region },
    originShieldRegion: BUCKETS.originals.region,
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
  });

  const groups = config.OriginGroups?.Items ?? [];
  if (groups.length !== 1) throw new Error(`The twin's edge models one origin group; the distribution has ${groups.length}.`);
  const group = groups[0];
  const members = group.Members.Items.map((m: { OriginId: string }) => config.Origins.find((o: { Id: string }) => o.Id === m.OriginId));
  const domains = members.map((o: { DomainName: unknown }) => resolve(o.DomainName) as string);
  const customHeaders = Object.fromEntries((members[0].OriginCustomHeaders ?? []).map((h: { HeaderName: string; HeaderValue: unknown }) => [h.HeaderName, resolve(h.HeaderValue)]));

  const viewerFunction = entries.find(([, r]) => r.Type === 'AWS::CloudFront::Function')?.[1];
  return {
    behaviors: [...(config.CacheBehaviors ?? []).map((b: any) => behavior(b, b.PathPattern)), behavior(config.DefaultCacheBehavior, '*')],
    originGroup: { primary: domains[0], secondary: domains[1], customHeaders, failoverStatuses: group.FailoverCriteria.StatusCodes.Items },
    viewerFunctionCode: resolve(viewerFunction?.Properties?.FunctionCode),
  };
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
