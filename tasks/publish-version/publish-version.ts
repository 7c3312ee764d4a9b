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
import type { EventPublisher } from '../../events/publish.ts';
import type { ObjectStore } from '../shared/object-store.ts';
import { Upload } from '../shared/upload.ts';
import type { VersionMap } from '../shared/version-map.ts';

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
 * published:
 * 1. the version map records it, over any lower version and never on a tombstone;
 * 2. its staged variants are copied into place in every variants bucket (a
 *    failover origin serves the same standard set), and its snapshot into the
 *    originals, where versioned URLs find them;
 * 3. the published pointer, through which unversioned URLs read, is set to the
 *    version map's latest, and the `latest` generation the edge renders them into
 *    is emptied in every variants bucket, again until the map stands still;
 * 4. "Version Bumped" and "Variants Rendered" go out (at least once).
 * Each step is safe to repeat, so a retry after any failure completes the work.
 * A version that lost (a higher one was published first, or the image was taken
 * down) leaves nothing behind.
 */
export async function publishVersion(input: PublishInput, deps: PublishDeps): Promise<PublishResult> {
  const image = { tenant: input.tenant, imageId: input.imageId };
  const outcome = await deps.versions.publish(input.tenant, input.imageId, input.version, input.sequencer, input.etag, input.schema);
  if (!outcome.published) {
    await withdraw(image, input.version, outcome.reason === 'taken-down', deps);
    const reason = outcome.reason === 'taken-down' ? 'the image was taken down' : 'a higher version was published first';
    return { published: false, version: input.version, reason };
  }
  await promote(image, input, deps);
  // After a first publish nothing can be in `latest`: the edge renders there only once a pointer exists.
  if (!(await settleLatest(image, deps, outcome.fresh && outcome.previousVersion === 0 ? input.version : undefined))) {
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
 * failure still has its sources; a retry that finds them gone (an earlier
 * attempt got this far) checks that each destination holds its copy.
 */
async function promote(image: Image, input: PublishInput, deps: PublishDeps): Promise<void> {
  const [staging] = deps.variants;
  const copies = [
    ...input.variants.flatMap((v) => deps.variants.map((target) => ({ target, key: v.key, staged: stagedKey(v.key) }))),
    { target: deps.originals, key: snapshotKey(image, input.version), staged: stagedOriginalKey(image, input.version) },
  ];
  await Promise.all(
    copies.map(async ({ target, key, staged }) => {
      // CopyObject goes to the destination's region and names the source bucket, wherever that is.
      if (await target.copyFrom(staging.bucket, staged, key)) return;
      if (!(await target.head(key))) {
        throw new PictorError('InternalError', `Version ${input.version} of ${image.tenant}/${image.imageId} lost its staged ${staged} before it was copied into ${target.bucket}; send the upload event again to render it anew.`);
      }
    }),
  );
  await staging.delete([...new Set(copies.map((c) => c.staged))]);
}

/**
 * Points unversioned URLs at the version map's latest version: the pointer first,
 * then the `latest` generation is emptied in every variants bucket, since what the
 * edge rendered there (in whichever origin's bucket) came from an older version.
 * Concurrent publishers each settle to what the map says after their own writes,
 * so the last writer always writes the map's final version. An edge render that
 * lands in `latest` meanwhile checks the pointer after storing and withdraws
 * itself if the pointer moved. False when the image was taken down meanwhile.
 */
async function settleLatest(image: Image, deps: PublishDeps, firstPublished?: number): Promise<boolean> {
  // Each round reads the map first: a pointer written from anything else could move back past a higher
  // version, and stay there if this run then ended before its check.
  for (let round = 0; round < MAX_SETTLE_ROUNDS; round++) {
    const record = await deps.versions.get(image.tenant, image.imageId);
    if (!record || record.tombstonedAt) return false;
    await writePublishedPointer(deps.originals, image, record.version);
    if (record.version !== firstPublished) await Promise.all(deps.variants.map((store) => store.deletePrefix(variantPrefix(image))));
    const after = await deps.versions.get(image.tenant, image.imageId);
    if (!after || after.tombstonedAt) return false;
    if (after.version === record.version) return true;
  }
  throw new PictorError('OriginUnavailable', `The latest version of ${image.tenant}/${image.imageId} kept changing while it was published; trying again.`);
}

/** Points the image's unversioned URLs at a version: the number is in the pointer's metadata, which a HEAD returns. */
export async function writePublishedPointer(originals: ObjectStore, image: Image, version: number): Promise<void> {
  await originals.put(publishedKey(image), '', { contentType: 'text/plain', metadata: { [PUBLISHED_VERSION_METADATA]: String(version) } });
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
  await deps.variants[0].erase(stagingPrefix(image, version));
  if (!takenDown) return;
  for (const key of [publishedKey(image), snapshotKey(image, version)]) await deps.originals.erase(key, { hideFirst: true });
  await Promise.all(deps.variants.flatMap((store) => [store.erase(variantPrefix({ ...image, version })), store.erase(variantPrefix(image))]));
}
