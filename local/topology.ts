import type { PictorConfig } from '../core/tenant-config.ts';
import { originRequestConfig, VARIANTS_ORIGIN_HEADER, type OriginRequestConfig } from '../edge-fallback/origin-request/handler.ts';
import { s3OriginDomain } from '../edge-fallback/origin-request/s3-adapters.ts';

/**
 * The twin's buckets, named and placed as a deployment would have them: the
 * originals in a primary region, a replica in another, variants beside the primary.
 */
export const BUCKETS = {
  originals: { bucket: 'pictor-originals', region: 'us-east-1' },
  replica: { bucket: 'pictor-originals-replica', region: 'eu-west-1' },
  variants: { bucket: 'pictor-variants', region: 'us-east-1' },
  audit: { bucket: 'pictor-audit', region: 'us-east-1' },
} as const;

export const ALL_BUCKETS = Object.values(BUCKETS).map((b) => b.bucket);

/**
 * The origin group: the primary originals bucket, failing over to its replica.
 * Both origins carry the custom header that names the variants bucket, as the
 * deployment's distribution sets it.
 */
export const ORIGIN_GROUP = {
  primary: s3OriginDomain(BUCKETS.originals.bucket, BUCKETS.originals.region),
  secondary: s3OriginDomain(BUCKETS.replica.bucket, BUCKETS.replica.region),
  customHeaders: { [VARIANTS_ORIGIN_HEADER]: s3OriginDomain(BUCKETS.variants.bucket, BUCKETS.variants.region) },
} as const;

/**
 * The origin-request handler's configuration for the twin: the same shape a
 * deployment injects, with S3 endpoints pointing at the local server (per region,
 * so one region can be made to fail).
 */
export function localOriginRequestConfig(
  config: PictorConfig,
  endpoints: Readonly<Record<string, string>>,
  logLevel: OriginRequestConfig['logLevel'] = 'WARN',
): OriginRequestConfig {
  return originRequestConfig(config, { s3Endpoints: endpoints, logLevel });
}
