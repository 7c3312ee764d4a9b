import { z } from 'zod';
import { parseUploadKey } from '../../core/object-keys.ts';
import type { ObjectStore } from '../shared/object-store.ts';
import { Cursor, RerenderJob } from '../shared/rerender-state.ts';

export const ListInput = z.object({ job: RerenderJob, cursor: Cursor });

export interface OriginalsPage {
  readonly items: { tenant: string; imageId: string }[];
  /** Absent after the last page of the last tenant. */
  readonly cursor?: z.infer<typeof Cursor>;
}

/**
 * One page of the job's originals: the upload keys directly under a tenant's
 * prefix, at most a page's worth, moving to the next tenant when one runs out.
 * Snapshots and quarantined copies live under `_`, so they are never listed.
 */
export async function listOriginals(input: z.infer<typeof ListInput>, deps: { readonly originals: ObjectStore }): Promise<OriginalsPage> {
  const tenant = input.job.tenants[input.cursor.tenantIndex]!;
  const page = await deps.originals.listPage(`${tenant}/`, input.job.pageSize, input.cursor.token);
  const items = page.keys.flatMap((key) => {
    const parsed = parseUploadKey(key);
    return parsed && parsed.tenant === tenant ? [parsed] : [];
  });
  if (page.next) return { items, cursor: { tenantIndex: input.cursor.tenantIndex, token: page.next } };
  const nextTenant = input.cursor.tenantIndex + 1;
  return { items, cursor: nextTenant < input.job.tenants.length ? { tenantIndex: nextTenant } : undefined };
}
