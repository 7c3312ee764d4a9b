import type { PictorConfig } from '../core/tenant-config.ts';
import { fixedPolicies, originRequestConfig, type OriginRequestConfig } from '../edge-fallback/origin-request/handler.ts';

export { ALL_BUCKETS, BUCKETS, REGIONS } from './twin-names.ts';

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
