import { z } from 'zod';
import { auditKey } from '../../core/takedown.ts';
import type { ObjectStore } from '../shared/object-store.ts';
import { BatchId, Inventory, Invalidation, TakedownItem, Verification } from '../shared/takedown-state.ts';

export const RecordInput = z.object({
  batchId: BatchId,
  requestedAt: z.string(),
  item: TakedownItem,
  inventory: Inventory,
  erase: z.object({ erasedAt: z.string(), stragglers: Inventory.shape.locations }),
  invalidation: Invalidation,
  verification: Verification,
});
export type RecordInput = z.infer<typeof RecordInput>;

export interface RecordDeps {
  readonly audit: ObjectStore;
  readonly now: () => Date;
}

/**
 * Writes the image's audit record: who asked, on what legal basis, every object
 * version deleted (bucket, key, version id: never bytes), the invalidation, the
 * verification and when each step happened. Append-only: a record that exists
 * is never replaced, so a retry or a repeated batch leaves the first one standing.
 */
export async function recordTakedown(input: RecordInput, deps: RecordDeps): Promise<{ auditKey: string; bucket: string; verified: boolean }> {
  const key = auditKey(input.batchId, input.item);
  const verified = 'verifiedAt' in input.verification;
  const deleted = [...input.inventory.locations, ...input.erase.stragglers].flatMap((l) =>
    l.versions.map((v) => ({ bucket: l.bucket, region: l.region, role: l.role, key: v.key, versionId: v.versionId })),
  );
  const record = {
    schemaVersion: 1,
    batchId: input.batchId,
    tenant: input.item.tenant,
    imageId: input.item.imageId,
    requester: input.item.requester,
    legalBasis: input.item.reason,
    requestedAt: input.requestedAt,
    tombstonedAt: input.inventory.tombstonedAt,
    erasedAt: input.erase.erasedAt,
    deleted,
    invalidation: { id: input.invalidation.id, path: input.invalidation.path, status: input.invalidation.status },
    verification: verified
      ? { verified: true, verifiedAt: (input.verification as { verifiedAt: string }).verifiedAt, urls: (input.verification as { urls: string[] }).urls }
      : { verified: false, error: (input.verification as { Error: string }).Error, cause: (input.verification as { Cause?: string }).Cause },
    recordedAt: deps.now().toISOString(),
  };
  await deps.audit.putIfAbsent(key, JSON.stringify(record, null, 2), 'application/json');
  return { auditKey: key, bucket: deps.audit.bucket, verified };
}
