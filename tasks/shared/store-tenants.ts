import { PictorError } from '../../core/errors.ts';
import type { TenantConfig } from '../../core/tenant-config.ts';
import { keyValueStoreClient } from '../../tenant-store/clients.ts';
import { TenantStoreReader } from '../../tenant-store/store-reader.ts';
import type { TenantDirectory } from '../ports/tenants.ts';
import type { TaskConfig } from './task-config.ts';

/**
 * The tenants of a running deployment: read from the edge KeyValueStore through
 * its API (cached a minute; an unknown tenant is read again before it is refused),
 * so a tenant put through the registry is known without a deploy. `cacheMs` 0 reads
 * every time, for the control API, whose admins change tenants and expect to see it.
 */
export function storeTenants(config: TaskConfig, options: { cacheMs?: number } = {}): TenantDirectory {
  const reader = new TenantStoreReader(keyValueStoreClient({ endpoint: config.endpoints.keyvaluestore, region: config.region, credentials: config.credentials }), config.tenantStoreArn, options);
  const find = async (tenant: string) => (await reader.taskConfig(tenant)) ?? (await reader.taskConfig(tenant, true));
  return {
    lookup: async (tenant) => {
      const found = await find(tenant);
      if (!found) throw new PictorError('InvalidEvent', `No tenant '${tenant}' is configured.`);
      return found;
    },
    exists: async (tenant) => (await find(tenant)) !== null,
    all: async () => {
      const out: Record<string, TenantConfig> = {};
      for (const id of await reader.tenantIds()) {
        const found = await reader.taskConfig(id, true);
        if (found) out[id] = found;
      }
      return out;
    },
  };
}
