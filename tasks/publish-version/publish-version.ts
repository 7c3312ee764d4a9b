import { z } from 'zod';
import { PUBLISHED_TAG, snapshotKey, variantPrefix } from '../../core/object-keys.ts';
import type { EventPublisher } from '../../events/publish.ts';
import { Upload } from '../shared/upload.ts';
import type { ObjectStore } from '../shared/object-store.ts';
import type { VersionMap } from '../shared/version-map.ts';

export const PublishInput = Upload.extend({
  version: z.number().int().positive(),
  variants: z.array(z.object({ key: z.string(), contentType: z.string(), width: z.number().int(), bytes: z.number().int() })),
  /** The rendered variant set's identity, kept in the version map. */
  schema: z.string().optional(),
});
export type PublishInput = z.infer<typeof PublishInput>;

export type PublishResult = { published: true; version: number; previousVersion: number } | { published: false; version: number; reason: string };

export interface PublishDeps {
  readonly originals: ObjectStore;
  readonly variants: ObjectStore;
  readonly versions: VersionMap;
  readonly events: EventPublisher;
}

/**
 * Makes a rendered version the current one with a conditional write, so a lower
 * version never replaces a higher one. On success the `latest` generation (served
 * to unversioned URLs) is cleared, to re-render from the new original, the version's
 * objects are tagged published, so the lifecycle rule for orphans spares them, and
 * "Version Bumped" and "Variants Rendered" go out. When a higher version won,
 * this version's objects are orphans and are deleted.
 */
export async function publishVersion(input: PublishInput, deps: PublishDeps): Promise<PublishResult> {
  const image = { tenant: input.tenant, imageId: input.imageId };
  const published = await deps.versions.publish(input.tenant, input.imageId, input.version, input.sequencer, input.etag, input.schema);
  if (!published) {
    await deps.variants.delete(input.variants.map((v) => v.key));
    // Every version of the snapshot: on a versioned bucket a plain delete leaves the bytes behind.
    await deps.originals.deleteVersions(await deps.originals.listVersions(snapshotKey(image, input.version)));
    return { published: false, version: input.version, reason: 'a higher version is published, or the image was taken down' };
  }
  // Published objects are no longer orphans: the lifecycle rule for unpublished ones must pass them by.
  await Promise.all([...input.variants.map((v) => deps.variants.tag(v.key, PUBLISHED_TAG)), deps.originals.tag(snapshotKey(image, input.version), PUBLISHED_TAG)]);
  await deps.variants.deletePrefix(variantPrefix(image));
  await deps.events.publish('Version Bumped', {
    schemaVersion: 1,
    ...image,
    version: input.version,
    previousVersion: published.previousVersion,
    sequencer: input.sequencer,
  });
  await deps.events.publish('Variants Rendered', { schemaVersion: 1, ...image, version: input.version, variants: input.variants });
  return { published: true, version: input.version, previousVersion: published.previousVersion };
}
