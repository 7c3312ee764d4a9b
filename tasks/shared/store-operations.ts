import type { ObjectStore, StoredVersion } from '../ports/object-store.ts';

/**
 * What the tasks do with a bucket in more than one request, written once over
 * the ObjectStore port so that every store (S3's, the unit tests' in memory)
 * behaves alike.
 */

/**
 * Whether the object's current version is still on its way to a replica: S3
 * reports PENDING until every destination has it (COMPLETED then, FAILED if one
 * failed). Erasing it before then would leave the copy that lands afterwards,
 * and a replica read before then still answers with what it had.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-status.html
 */
export async function replicationPending(store: ObjectStore, key: string): Promise<boolean> {
  return (await store.head(key))?.replicationStatus === 'PENDING';
}

/** Deletes every current key under a prefix and returns them. */
export async function deletePrefix(store: ObjectStore, prefix: string): Promise<string[]> {
  const keys = await store.list(prefix);
  await store.delete(keys);
  return keys;
}

/**
 * Every version of the objects under a prefix (or of one key), gone for good.
 * With `hideFirst`, each key gets a plain delete first and its delete marker
 * stays: deletes that name a version are not replicated, delete markers are.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-what-is-isnot-replicated.html
 */
export async function erasePrefix(store: ObjectStore, prefix: string, options: { readonly hideFirst?: boolean } = {}): Promise<StoredVersion[]> {
  if (options.hideFirst) await store.delete((await store.list(prefix)).filter((key) => prefix.endsWith('/') || key === prefix));
  const versions = (await store.listVersions(prefix)).filter((v) => !(options.hideFirst && v.deleteMarker));
  await store.deleteVersions(versions);
  return versions;
}
