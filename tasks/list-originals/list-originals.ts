import { z } from 'zod';
import { PictorError } from '../../core/errors.ts';
import { parseUploadKey } from '../../core/object-keys.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import { Cursor, RerenderJob, STATE_LIMIT_BYTES, stateBytes } from '../shared/rerender-state.ts';

/** The whole state: the job and cursor it lists from, and the rest, whose size counts. */
export const ListInput = z.object({ job: RerenderJob, cursor: Cursor }).passthrough();

export interface OriginalsPage {
  readonly items: { tenant: string; imageId: string }[];
  /** Absent after the last page of the last tenant. */
  readonly cursor?: z.infer<typeof Cursor>;
}

/**
 * Room the page's state keeps beside the items for what the Distributed Map
 * adds ({MapRunArn, ResultWriterDetails}: a few hundred bytes) and Tally's output.
 */
const MAP_RESULT_ROOM = 2 * 1024;

/**
 * One page of the job's originals: the upload keys directly under a tenant's
 * prefix, at most a page's worth, moving to the next tenant when one runs out.
 * Snapshots and quarantined copies live under `_`, so they are never listed.
 * A page whose state would pass Step Functions' 256 KiB is refused here, before
 * any of it renders (plan-rerender sizes pages so that this cannot happen).
 * @throws {PictorError} StateTooLarge
 */
export async function listOriginals(input: z.infer<typeof ListInput>, deps: { readonly originals: ObjectStore }): Promise<OriginalsPage> {
  const tenant = input.job.tenants[input.cursor.tenantIndex]!;
  const listed = await deps.originals.listPage(`${tenant}/`, input.job.pageSize, input.cursor.token);
  const items = listed.keys.flatMap((key) => {
    const parsed = parseUploadKey(key);
    return parsed && parsed.tenant === tenant ? [parsed] : [];
  });
  const nextTenant = input.cursor.tenantIndex + 1;
  const cursor = listed.next ? { tenantIndex: input.cursor.tenantIndex, token: listed.next } : nextTenant < input.job.tenants.length ? { tenantIndex: nextTenant } : undefined;
  const page: OriginalsPage = { items, cursor };
  const bytes = stateBytes({ ...input, page }) + MAP_RESULT_ROOM;
  if (bytes > STATE_LIMIT_BYTES) {
    throw new PictorError('StateTooLarge', `A page of ${items.length} originals makes ${bytes} bytes of state, over Step Functions' ${STATE_LIMIT_BYTES}: lower the page size.`);
  }
  return page;
}
