import { z } from 'zod';
import { auditKey } from '../../core/takedown.ts';
import type { ObjectStore } from '../shared/object-store.ts';
import { BatchId, Inventory, Invalidation, StepFailure, TakedownItem, Verification } from '../shared/takedown-state.ts';

export const RecordInput = z.object({
  batchId: BatchId,
  requestedAt: z.string(),
  item: TakedownItem,
  inventory: Inventory,
  // Each step after the inventory may be missing: the step that failed, and those after it.
  erase: z.object({ erasedAt: z.string(), stragglers: Inventory.shape.locations }).optional(),
  /** The second pass, after the invalidation: what was written after the erase. */
  sweep: z.object({ erasedAt: z.string(), stragglers: Inventory.shape.locations }).optional(),
  invalidation: Invalidation.optional(),
  verification: Verification.optional(),
  failure: StepFailure.optional(),
});
export type RecordInput = z.infer<typeof RecordInput>;

export interface RecordDeps {
  readonly audit: ObjectStore;
  readonly now: () => Date;
}

/**
 * Writes the image's audit record: who asked, on what legal basis, every object
 * version deleted (bucket, key, version id: never bytes), the invalidation, the
 * verification and when each step happened. A step that failed after the
 * inventory is recorded too, with the objects listed for deletion, so no erasure
 * goes unrecorded. Append-only: a record that exists is never replaced, so a
 * retry or a repeated batch leaves the first one standing.
 */
export async function recordTakedown(
  input: RecordInput,
  deps: RecordDeps,
): Promise<{ auditKey: string; bucket: string; verified: boolean; invalidationId: string | null; failure: string | null }> {
  const key = auditKey(input.batchId, input.item);
  const verified = input.verification !== undefined && input.failure === undefined;
  const versions = (locations: RecordInput['inventory']['locations']) =>
    locations.flatMap((l) => l.versions.map((v) => ({ bucket: l.bucket, region: l.region, role: l.role, key: v.key, versionId: v.versionId })));
  const record = {
    schemaVersion: 1,
    batchId: input.batchId,
    tenant: input.item.tenant,
    imageId: input.item.imageId,
    requester: input.item.requester,
    legalBasis: input.item.reason,
    requestedAt: input.requestedAt,
    tombstonedAt: input.inventory.tombstonedAt,
    erasedAt: input.erase?.erasedAt ?? null,
    deleted: input.erase ? versions([...input.inventory.locations, ...input.erase.stragglers, ...(input.sweep?.stragglers ?? [])]) : [],
    ...(input.erase ? {} : { listedForDeletion: versions(input.inventory.locations) }),
    invalidation: input.invalidation ? { id: input.invalidation.id, path: input.invalidation.path, status: input.invalidation.status } : null,
    verification: verified ? { verified: true, verifiedAt: input.verification!.verifiedAt, urls: input.verification!.urls } : { verified: false },
    ...(input.failure ? { failure: { error: input.failure.Error, cause: input.failure.Cause ?? '' } } : {}),
    recordedAt: deps.now().toISOString(),
  };
  await deps.audit.putIfAbsent(key, JSON.stringify(record, null, 2), 'application/json');
  const failure = input.failure ? `${input.failure.Error}: ${input.failure.Cause ?? ''}`.trim() : null;
  return { auditKey: key, bucket: deps.audit.bucket, verified, invalidationId: input.invalidation?.id ?? null, failure };
}
