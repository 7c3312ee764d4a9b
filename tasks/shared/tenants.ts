import { PictorError } from '../../core/errors.ts';
import type { TenantConfig } from '../../core/tenant-config.ts';
import type { TenantLookup } from '../ports/tenants.ts';

/** Looks tenants up in fixed configuration (unit tests, benchmarks); an unknown one is a bad event. */
export function tenantLookup(tenants: Readonly<Record<string, TenantConfig>>): TenantLookup {
  return async (tenant) => {
    if (!Object.hasOwn(tenants, tenant)) throw new PictorError('InvalidEvent', `No tenant '${tenant}' is configured.`);
    return tenants[tenant]!;
  };
}
