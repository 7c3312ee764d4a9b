import type { SigningKey } from '../../core/signing-keys.ts';
import type { TenantConfig } from '../../core/tenant-config.ts';

/**
 * A tenant's configuration by id, as a task reads it at run time (the edge
 * KeyValueStore in a deployment: tasks/shared/store-tenants.ts).
 * @throws {PictorError} InvalidEvent for a tenant that is not configured
 */
export type TenantLookup = (tenant: string) => Promise<TenantConfig>;

/** Every tenant, as a task that needs more than one at a time sees them. */
export interface TenantDirectory {
  readonly lookup: TenantLookup;
  readonly exists: (tenant: string) => Promise<boolean>;
  readonly all: () => Promise<Record<string, TenantConfig>>;
}

/**
 * A tenant's newest signing key, read at run time (Secrets Manager in a deployment).
 * @throws {PictorError} InvalidConfig when the tenant has none
 */
export type SigningKeyLookup = (tenant: string) => Promise<SigningKey>;
