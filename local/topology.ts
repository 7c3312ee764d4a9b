import type { PictorConfig } from '../core/tenant-config.ts';
import { fixedPolicies, originRequestConfig, type OriginRequestConfig } from '../edge-fallback/origin-request/handler.ts';

/**
 * The twin's buckets, named and placed as a deployment would have them: the
 * originals in a primary region with a replica in another, and a variants bucket
 * in each of the two regions, the origins of the distribution's origin group.
 */
export const BUCKETS = {
  originals: { bucket: 'pictor-originals', region: 'us-east-1' },
  replica: { bucket: 'pictor-originals-replica', region: 'eu-west-1' },
  variants: { bucket: 'pictor-variants', region: 'us-east-1' },
  failoverVariants: { bucket: 'pictor-variants-failover', region: 'eu-west-1' },
  audit: { bucket: 'pictor-audit', region: 'us-east-1' },
  reports: { bucket: 'pictor-reports', region: 'us-east-1' },
} as const;

export const ALL_BUCKETS = Object.values(BUCKETS).map((b) => b.bucket);

/** The twin's regions, each with the buckets that live in it. */
export const REGIONS: Readonly<Record<string, readonly string[]>> = Object.values(BUCKETS).reduce<Record<string, string[]>>((regions, b) => {
  (regions[b.region] ??= []).push(b.bucket);
  return regions;
}, {});

/**
 * The origin-request handler's configuration for tests of the handler alone: the
 * same shape a deployment injects, with S3 endpoints pointing at the local server
 * (per region, so one region can be made to fail) and these tenants' policies fixed.
 * The twin itself reads policies from its KeyValueStore API, as a deployment does.
 */
export function localOriginRequestConfig(
  config: PictorConfig,
  endpoints: Readonly<Record<string, string>>,
  logLevel: OriginRequestConfig['logLevel'] = 'WARN',
): OriginRequestConfig {
  return originRequestConfig({ s3Endpoints: endpoints, logLevel, tenantPolicies: fixedPolicies(config) });
}
