import { z } from 'zod';
import { PictorError } from '../../core/errors.ts';
import {
  PUBLISHED_VERSION_METADATA,
  publishedKey,
  snapshotKey,
  stagedKey,
  stagedOriginalKey,
  stagingPrefix,
  variantPrefix,
} from '../../core/object-keys.ts';
import type { EventPublisher } from '../ports/event-publisher.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import { deletePrefix, erasePrefix, replicationPending } from '../shared/store-operations.ts';
import { Upload } from '../shared/upload.ts';
import type { VersionMap } from '../ports/version-map.ts';

export const PublishInput = Upload.extend({
  version: z.number().int().positive(),
  variants: z.array(z.object({ key: z.string(), contentType: z.string(), width: z.number().int(), bytes: z.number().int() })),
  /** The rendered variant set's identity, kept in the version map. */
  schema: z.string().optional(),
});
export type PublishInput = z.infer<typeof PublishInput>;

export type PublishResult =
  | { published: true; version: number; previousVersion: number }
  | { published: false; version: number; reason: string };

export interface PublishDeps {
  /**
   * The primary originals bucket, which S3 replicates to every replica region:
   * the status of each object's replication says when every replica has it.
   */
  readonly originals: ObjectStore;
  /**
   * Every variants bucket the distribution reads from, the primary first: renders
   * stage there, and every version is published into each of them.
   */
  readonly variants: readonly [ObjectStore, ...ObjectStore[]];
  readonly versions: VersionMap;
  readonly events: EventPublisher;
}

type Image = { readonly tenant: string; readonly imageId: string };

/** Writers that keep moving the latest version are retried rather than chased forever. */
const MAX_SETTLE_ROUNDS = 5;

/**
 * Makes a rendered version public, in an order that never serves what is not
 * published, from any origin:
 * 1. the version map records it, over any lower version and never on a tombstone;
 * 2. its staged variants are copied into place in every variants bucket (a
 *    failover origin serves the same standard set), and its snapshot into the
 *    originals, where versioned URLs find them;
 * 3. it waits until the snapshot has reached every replica of the originals: the
 *    edge of a failover origin reads a replica, and must never find a pointer, or
 *    a versioned URL of a published run, naming a snapshot it does not have yet;
 * 4. the published pointer, through which unversioned URLs read, is set to the
 *    version map's latest (left alone when it names it already, so that a retry
 *    starts no new replication), and the `latest` generation the edge renders
 *    them into is emptied in the primary's variants bucket, again until the map
 *    stands still;
 * 5. it waits until the pointer has reached every replica, then empties `latest`
 *    in every variants bucket: until then an edge render could read a replica's
 *    older pointer, store what it rendered from the older version, and find that
 *    pointer unchanged when it checks after storing;
 * 6. "Version Bumped" and "Variants Rendered" go out (at least once).
 * Waiting is throwing ReplicationPending, which the state machine retries with
 * backoff. A retry that finds what an earlier attempt wrote still replicating
 * waits again before redoing anything, so that it does not reach into the
 * failover region (promoting checks its bucket) while replication waits for it.
 * Each step is safe to repeat, so a retry after any failure completes the work.
 * A version that lost (a higher one was published first, or the image was taken
 * down) leaves nothing behind.
 * @throws {PictorError} ReplicationPending while a replica lacks the snapshot or
 *   the pointer; OriginUnavailable when a store fails.
 */
export async function publishVersion(input: PublishInput, deps: PublishDeps): Promise<PublishResult> {
  const image = { tenant: input.tenant, imageId: input.imageId };
  const outcome = await deps.versions.publish(input.tenant, input.imageId, input.version, input.sequencer, input.etag, input.schema);
  if (!outcome.published) {
    await withdraw(image, input.version, outcome.reason === 'taken-down', deps);
    const reason = outcome.reason === 'taken-down' ? 'the image was taken down' : 'a higher version was published first';
    return { published: false, version: input.version, reason };
  }
  // A retry waits out what an earlier attempt started replicating before it redoes anything: promoting again
  // reaches into the failover region, which may be the region replication is waiting for.
  if (!outcome.fresh) await awaitReplicas(deps.originals, [snapshotKey(image, input.version), publishedKey(image)]);
  // Each wait for replication is a retry of this task: once an attempt has promoted the version (its staging
  // is gone and its snapshot is in place), the next ones go straight on rather than copy everything again.
  if (outcome.fresh || !(await promoted(image, input.version, deps))) await promote(image, input, deps);
  await awaitReplicas(deps.originals, [snapshotKey(image, input.version)]);
  // After a first publish nothing can be in `latest`: the edge renders there only once a pointer exists, and a
  // replica has one only once this one reached it.
  if (!(await settleLatest(image, input.version, deps, outcome.fresh && outcome.previousVersion === 0 ? input.version : undefined))) {
    await withdraw(image, input.version, true, deps);
    return { published: false, version: input.version, reason: 'the image was taken down while it was published' };
  }
  if (outcome.fresh || outcome.latest) {
    await deps.events.publish('Version Bumped', { schemaVersion: 1, ...image, version: input.version, previousVersion: outcome.previousVersion, sequencer: input.sequencer });
    await deps.events.publish('Variants Rendered', { schemaVersion: 1, ...image, version: input.version, variants: input.variants });
  }
  return { published: true, version: input.version, previousVersion: outcome.previousVersion };
}

/**
 * Copies what the render staged (in the primary variants bucket only) to where
 * the version's URLs read it, in every variants bucket, then drops the staging.
 * The staging goes only once every copy has landed, so a retry after a partial
 * failure still has its sources; what a retry finds no longer staged (an earlier
 * attempt got this far) it checks is in place, with a listing per bucket.
 */
async function promote(image: Image, input: PublishInput, deps: PublishDeps): Promise<void> {
  const [staging] = deps.variants;
  const copies = [
    ...input.variants.flatMap((v) => deps.variants.map((target) => ({ target, key: v.key, staged: stagedKey(v.key) }))),
    { target: deps.originals, key: snapshotKey(image, input.version), staged: stagedOriginalKey(image, input.version) },
  ];
  // CopyObject goes to the destination's region and names the source bucket, wherever that is.
  const copied = await Promise.all(copies.map(({ target, key, staged }) => target.copyFrom(staging.bucket, staged, key)));
  const unconfirmed = copies.filter((_, i) => !copied[i]);
  await Promise.all(
    [...new Set(unconfirmed.map((c) => c.target))].map(async (target) => {
      const expected = unconfirmed.filter((c) => c.target === target);
      const present = new Set(await target.list(commonPrefix(expected.map((c) => c.key))));
      const lost = expected.find((c) => !present.has(c.key));
      if (lost) {
        throw new PictorError('InternalError', `Version ${input.version} of ${image.tenant}/${image.imageId} lost its staged ${lost.staged} before it was copied into ${target.bucket}; send the upload event again to render it anew.`);
      }
    }),
  );
  await staging.delete([...new Set(copies.filter((_, i) => copied[i]).map((c) => c.staged))]);
}

/** Whether an earlier attempt promoted the version: its staging is deleted only once every copy has landed. */
async function promoted(image: Image, version: number, deps: PublishDeps): Promise<boolean> {
  const [staging] = deps.variants;
  const [staged, snapshot] = await Promise.all([staging.head(stagedOriginalKey(image, version)), deps.originals.head(snapshotKey(image, version))]);
  return staged === null && snapshot !== null;
}

function commonPrefix(keys: readonly string[]): string {
  return keys.reduce((prefix, key) => {
    let i = 0;
    while (i < prefix.length && prefix[i] === key[i]) i++;
    return prefix.slice(0, i);
  });
}

/**
 * Points unversioned URLs at the version map's latest version, in every region.
 * Each round points the pointer at what the map says, then empties the primary's
 * `latest` generation, whose renders came from an older version; once the map
 * stands still, it waits for the pointer to reach every replica and empties
 * `latest` in every variants bucket. An edge render checks the pointer it read,
 * in the copy it read it from, after storing, and withdraws itself if the pointer
 * moved: so a render stored before an emptying goes with it, and one stored after
 * finds the new pointer, in the primary after the write and in a replica after
 * the wait. The primary's bucket is emptied again at the end for a render there
 * that read a replica (the primary's originals did not answer). Concurrent
 * publishers each settle to what the map says after their own writes, so the
 * last writer always writes the map's final version. False when the image was
 * taken down meanwhile.
 */
async function settleLatest(image: Image, replicated: number, deps: PublishDeps, firstPublished?: number): Promise<boolean> {
  const [primary] = deps.variants;
  // Each round reads the map first: a pointer written from anything else could move back past a higher
  // version, and stay there if this run then ended before its check.
  for (let round = 0; round < MAX_SETTLE_ROUNDS; round++) {
    const record = await deps.versions.get(image.tenant, image.imageId);
    if (!record || record.tombstonedAt) return false;
    await pointAt(deps.originals, image, record.version, replicated);
    if (record.version !== firstPublished) await deletePrefix(primary, variantPrefix(image));
    const after = await deps.versions.get(image.tenant, image.imageId);
    if (!after || after.tombstonedAt) return false;
    if (after.version !== record.version) continue;
    await awaitReplicas(deps.originals, [publishedKey(image)]);
    if (record.version !== firstPublished) await Promise.all(deps.variants.map((store) => deletePrefix(store, variantPrefix(image))));
    return true;
  }
  throw new PictorError('OriginUnavailable', `The latest version of ${image.tenant}/${image.imageId} kept changing while it was published; trying again.`);
}

/**
 * Sets the pointer to a version, unless it names that version already: writing
 * it again would start another replication to wait for. Only once the version's
 * snapshot is in every replica (`replicated` is known to be), or a replica's
 * edge would find the pointer before the bytes it names. A version whose
 * snapshot is not in place yet is another run's, still promoting it: that run
 * points at it itself, once its snapshot has replicated.
 */
async function pointAt(originals: ObjectStore, image: Image, version: number, replicated: number): Promise<void> {
  const pointer = await originals.head(publishedKey(image));
  if (pointer?.metadata[PUBLISHED_VERSION_METADATA] === String(version)) return;
  if (version !== replicated) {
    const snapshot = await originals.head(snapshotKey(image, version));
    if (!snapshot) return;
    if (snapshot.replicationStatus === 'PENDING') throw stillReplicating(originals, snapshotKey(image, version));
  }
  await writePublishedPointer(originals, image, version);
}

/** Points the image's unversioned URLs at a version: the number is in the pointer's metadata, which a HEAD returns. */
export async function writePublishedPointer(originals: ObjectStore, image: Image, version: number): Promise<void> {
  await originals.put(publishedKey(image), '', { contentType: 'text/plain', metadata: { [PUBLISHED_VERSION_METADATA]: String(version) } });
}

/**
 * Goes on only once every replica has the objects' current versions: throws
 * ReplicationPending, for the state machine to wait and retry, while S3 still
 * reports one PENDING. Absent objects, and buckets without replication, have
 * nothing pending.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-status.html
 */
async function awaitReplicas(originals: ObjectStore, keys: readonly string[]): Promise<void> {
  const pending = await Promise.all(keys.map((key) => replicationPending(originals, key)));
  const key = keys.find((_, i) => pending[i]);
  if (key !== undefined) throw stillReplicating(originals, key);
}

function stillReplicating(originals: ObjectStore, key: string): PictorError {
  return new PictorError('ReplicationPending', `${key} in ${originals.bucket} is still on its way to a replica; publishing goes on once every replica has it.`);
}

/**
 * Removes what this version left: its staging always; once the image is taken
 * down, also everything a late attempt may have put in place after the takedown
 * erased it, in every variants bucket (the copies this attempt made, and what the
 * edge rendered into `latest` in any origin's bucket). The originals go before the
 * variants, as a takedown erases them, so that an edge render which stores a
 * variant in between sees its source gone and withdraws it. A plain delete comes
 * first on the originals bucket, so that the delete marker reaches the replicas;
 * then every version goes.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/delete-marker-replication.html
 */
async function withdraw(image: Image, version: number, takenDown: boolean, deps: PublishDeps): Promise<void> {
  // The variants buckets keep no versions: a plain delete is the end of an object there, and this
  // task needs no DeleteObjectVersion on them.
  await deletePrefix(deps.variants[0], stagingPrefix(image, version));
  if (!takenDown) return;
  for (const key of [publishedKey(image), snapshotKey(image, version)]) await erasePrefix(deps.originals, key, { hideFirst: true });
  await Promise.all(deps.variants.flatMap((store) => [deletePrefix(store, variantPrefix({ ...image, version })), deletePrefix(store, variantPrefix(image))]));
}
