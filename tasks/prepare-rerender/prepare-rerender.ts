import { z } from 'zod';
import { uploadKey } from '../../core/object-keys.ts';
import { standardVariants, type TenantConfig } from '../../core/tenant-config.ts';
import type { Upload } from '../shared/upload.ts';
import { variantSchema } from '../shared/variant-schema.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import { RerenderJob } from '../shared/rerender-state.ts';
import type { VersionMap } from '../ports/version-map.ts';

export const PrepareInput = z.object({ job: RerenderJob, image: z.object({ tenant: z.string(), imageId: z.string() }) });

export type PrepareResult = ({ action: 'render' } & Upload) | { action: 'skip'; tenant: string; imageId: string; reason: string };

export interface PrepareDeps {
  readonly originals: ObjectStore;
  readonly versions: VersionMap;
  readonly tenant: (tenant: string) => Promise<TenantConfig>;
}

/** The sequencer of an original no upload event has reserved a version for: below every real one. */
const BEFORE_ANY_UPLOAD = '0';

/**
 * Decides what a listed original needs: a render as the next version (the same
 * task and publish step an upload uses, told it is a re-render), or a skip with
 * the reason (taken down, deleted since the listing, already at the schema when
 * only stale ones are wanted).
 */
export async function prepareRerender(input: z.infer<typeof PrepareInput>, deps: PrepareDeps): Promise<PrepareResult> {
  const { tenant, imageId } = input.image;
  const skip = (reason: string): PrepareResult => ({ action: 'skip', tenant, imageId, reason });
  const current = await deps.versions.get(tenant, imageId);
  if (current?.tombstonedAt) return skip('taken down');
  const head = await deps.originals.head(uploadKey(input.image));
  if (!head) return skip('deleted since the listing');
  const config = await deps.tenant(tenant);
  const schema = variantSchema(standardVariants({ ...config, variants: { ...config.variants, ...input.job.variants } }));
  if (input.job.onlyStale && current?.schema === schema && current.etag === head.etag.replace(/"/g, '')) return skip('already rendered at this schema');
  return {
    action: 'render',
    tenant,
    imageId,
    // The upload the version map last reserved for: a newer one arriving meanwhile wins.
    sequencer: current?.reservedSequencer ?? BEFORE_ANY_UPLOAD,
    etag: head.etag.replace(/"/g, ''),
    idempotencyKey: `rerender/${input.job.jobId}/${tenant}/${imageId}`,
    rerender: true,
    ...(input.job.variants ? { variants: input.job.variants } : {}),
  };
}
