import { z } from 'zod';
import { auditKey, type InvalidationPlan } from '../../core/takedown.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import type { Reports } from '../shared/reports.ts';
import { BatchId, Erased, Inventory, InventoryManifest, Invalidation, StepFailure, Stragglers, TakedownItem, Verification, type ObjectVersions } from '../shared/takedown-state.ts';
import { imageUrls } from '../shared/takedown-urls.ts';

export const RecordInput = z.object({
  batchId: BatchId,
  requestedAt: z.string(),
  item: TakedownItem,
  inventory: Inventory,
  // Each step after the inventory may be missing: the step that failed, and those after it.
  erase: Erased.optional(),
  /** The second pass, after the late-write window: what was written after the erase. */
  sweep: Erased.optional(),
  invalidation: Invalidation.optional(),
  verification: Verification.optional(),
  failure: StepFailure.optional(),
});
export type RecordInput = z.infer<typeof RecordInput>;

export interface RecordDeps {
  /** The audit bucket: append-only (Object Lock), so only putIfAbsent is used on it. */
  readonly audit: Pick<ObjectStore, 'bucket' | 'putIfAbsent'>;
  readonly reports: Reports;
  /** The paths the image's invalidation named, planned again from the same inventory. */
  readonly invalidationPlan: (image: { tenant: string; imageId: string }, inventory: InventoryManifest, late: readonly { locations: ObjectVersions[] }[]) => Promise<InvalidationPlan>;
  readonly now: () => Date;
}

/**
 * Writes the image's audit record: who asked, on what legal basis, every object
 * version deleted (bucket, key, version id: never bytes), the invalidation and
 * its paths, the verification and the URLs it checked, and when each step
 * happened. A step that failed after the inventory is recorded too, with the
 * objects listed for deletion, so no erasure goes unrecorded. Append-only: a
 * record that exists is never replaced, so a retry or a repeated batch leaves
 * the first one standing.
 */
export async function recordTakedown(
  input: RecordInput,
  deps: RecordDeps,
): Promise<{ auditKey: string; bucket: string; verified: boolean; invalidationId: string | null; failure: string | null }> {
  const key = auditKey(input.batchId, input.item);
  const image = { tenant: input.item.tenant, imageId: input.item.imageId };
  const verified = input.verification !== undefined && input.failure === undefined;
  const inventory = await deps.reports.get(input.inventory.manifest, InventoryManifest);
  const late = await Promise.all([input.erase, input.sweep].flatMap((pass) => (pass?.manifest ? [deps.reports.get(pass.manifest, Stragglers)] : [])));
  const versions = (locations: readonly ObjectVersions[]) =>
    locations.flatMap((l) => l.versions.map((v) => ({ bucket: l.bucket, region: l.region, role: l.role, key: v.key, versionId: v.versionId, ...(v.deleteMarker ? { deleteMarker: true } : {}) })));
  const invalidation = input.invalidation ? { id: input.invalidation.id, status: input.invalidation.status, wildcard: input.invalidation.wildcard, paths: (await deps.invalidationPlan(image, inventory, late)).paths } : null;
  const record = {
    schemaVersion: 2,
    batchId: input.batchId,
    tenant: input.item.tenant,
    imageId: input.item.imageId,
    requester: input.item.requester,
    legalBasis: input.item.reason,
    requestedAt: input.requestedAt,
    tombstonedAt: input.inventory.tombstonedAt,
    erasedAt: input.erase?.erasedAt ?? null,
    deleted: input.erase ? versions([...inventory.locations, ...late.flatMap((l) => l.locations)]) : [],
    ...(input.erase ? {} : { listedForDeletion: versions(inventory.locations) }),
    invalidation,
    verification: verified ? { verified: true, verifiedAt: input.verification!.verifiedAt, urls: imageUrls(image, inventory, late) } : { verified: false },
    ...(input.failure ? { failure: { error: input.failure.Error, cause: input.failure.Cause ?? '' } } : {}),
    recordedAt: deps.now().toISOString(),
  };
  await deps.audit.putIfAbsent(key, JSON.stringify(record, null, 2), 'application/json');
  const failure = input.failure ? `${input.failure.Error}: ${input.failure.Cause ?? ''}`.trim() : null;
  return { auditKey: key, bucket: deps.audit.bucket, verified, invalidationId: input.invalidation?.id ?? null, failure };
}
