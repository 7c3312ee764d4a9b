import { z } from 'zod';
import { PictorError } from '../../core/errors.ts';
import { uploadKey } from '../../core/object-keys.ts';
import type { EventPublisher } from '../ports/event-publisher.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import { erasePrefix, replicationPending } from '../shared/store-operations.ts';
import { Upload } from '../shared/upload.ts';

export const DiscardInput = Upload.extend({
  reason: z.string(),
  /** When the id was tombstoned. */
  takenDownAt: z.string(),
});
export type DiscardInput = z.infer<typeof DiscardInput>;

export interface DiscardDeps {
  /** The originals bucket first, then each replica. */
  readonly originals: readonly { readonly store: ObjectStore; readonly region: string }[];
  readonly events: EventPublisher;
}

export interface DiscardResult {
  readonly reason: string;
  /** Object versions erased, in every region. */
  readonly erased: { bucket: string; key: string; versionId: string }[];
}

/**
 * An upload to an id that was taken down is never rendered, and its bytes do not
 * stay: every version of the upload key is erased in the originals bucket and in
 * each replica (deletes that name a version are not replicated, so each region is
 * erased on its own), once replication has delivered it everywhere, and "Upload
 * Discarded" says why. Safe to repeat.
 * @throws {PictorError} ReplicationPending (the state machine waits and retries)
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-what-is-isnot-replicated.html
 */
export async function discardUpload(input: DiscardInput, deps: DiscardDeps): Promise<DiscardResult> {
  const key = uploadKey(input);
  const primary = deps.originals[0]!.store;
  if (await replicationPending(primary, key)) {
    throw new PictorError('ReplicationPending', `${key} is still being replicated; it is erased once every replica has it.`);
  }
  const erased: DiscardResult['erased'] = [];
  // Replicas first: the primary's copy is what replicates to them.
  for (const { store } of [...deps.originals].reverse()) {
    for (const v of await erasePrefix(store, key, { hideFirst: store === primary })) erased.push({ bucket: store.bucket, key: v.key, versionId: v.versionId });
  }
  await deps.events.publish('Upload Discarded', {
    schemaVersion: 1,
    tenant: input.tenant,
    imageId: input.imageId,
    code: 'ImageTakenDown',
    reason: input.reason,
    takenDownAt: input.takenDownAt,
    sequencer: input.sequencer,
  });
  return { reason: input.reason, erased };
}
