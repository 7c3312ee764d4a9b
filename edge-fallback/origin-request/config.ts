import type { CloudFrontRequest } from 'aws-lambda';
import type { TenantPolicy } from '../../core/tenant-policy.ts';
import type { RenderLimits } from '../../imaging/render.ts';

// What the distribution and the handler agree on, apart from the handler itself:
// infra reads this module at synth, and importing the handler would load sharp.

/**
 * A tenant's policy as the origin knows it: `fresh` reads past any cache (the
 * viewer function's store disagreed with it). Null when there is no such tenant.
 */
export type TenantPolicies = (tenant: string, request: CloudFrontRequest, fresh: boolean) => Promise<TenantPolicy | null>;

/**
 * The handler's configuration. Lambda@Edge has no environment variables, so the
 * deployment injects this at build time; it names no tenant.
 */
export interface OriginRequestConfig {
  /**
   * Where tenants' policies come from.
   * @default the KeyValueStore the origin's x-pictor-tenant-store header names, read through its API with a short cache
   */
  readonly tenantPolicies?: TenantPolicies;
  /** The KeyValueStore API's endpoint, outside AWS. @default AWS's own */
  readonly keyValueStoreEndpoint?: string;
  readonly limits?: Partial<Omit<RenderLimits, 'maxDimension'>>;
  /** S3-compatible endpoints by region, for S3 outside AWS. @default AWS's own */
  readonly s3Endpoints?: Readonly<Record<string, string>>;
  /** @default 'INFO' */
  readonly logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';
}

/** The handler's configuration as a deployment bundles it: no tenant, no secret. */
export function originRequestConfig(options: OriginRequestConfig = {}): OriginRequestConfig {
  return { ...options };
}

/**
 * The origin custom header naming the tenant store (the KeyValueStore's ARN), set
 * by the distribution per origin: the ARN exists only once the stack deploys, after
 * this bundle is built.
 */
export const TENANT_STORE_ORIGIN_HEADER = 'x-pictor-tenant-store';

/**
 * The origin custom header listing where this origin's renders read originals:
 * the S3 REST domain of every copy, its own region's first, comma-separated.
 * The distribution sets it per origin; CloudFormation names the buckets at
 * deploy time, after this bundle is built; viewers cannot set origin custom headers.
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/add-origin-custom-headers.html
 */
export const ORIGINALS_ORIGIN_HEADER = 'x-pictor-originals';
