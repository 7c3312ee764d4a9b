import { PictorError } from '../../core/errors.ts';
import type { TenantConfig } from '../../core/tenant-config.ts';
import { variantName, type VariantSpec } from '../../core/variant.ts';

/** A tenant's configuration by id; an unknown one is a bad event. */
export function tenantLookup(tenants: Readonly<Record<string, TenantConfig>>): (tenant: string) => TenantConfig {
  return (tenant) => {
    if (!Object.hasOwn(tenants, tenant)) throw new PictorError('InvalidEvent', `No tenant '${tenant}' is configured.`);
    return tenants[tenant]!;
  };
}

/** A variant set's identity: its names, sorted. Equal schemas render equal sets. */
export function variantSchema(specs: readonly VariantSpec[]): string {
  return specs.map(variantName).sort().join(',');
}
