import { isImageId, isTenantId, type ImagePath } from './image-path.ts';
import { variantName, type VariantSpec } from './variant.ts';

/**
 * Object keys, derived only from validated ids: never from a URL, a header or
 * anything else a client sends. Every key carries the tenant as a whole segment,
 * so IAM can scope a role to one tenant's prefix.
 *
 * Originals bucket (replicated):
 * - `{tenant}/{imageId}`: where a tenant uploads (and re-uploads) an original. Nothing
 *   is ever served from it: an upload is only a candidate until RenderOnUpload publishes it;
 * - `_versions/{tenant}/{imageId}/v{n}`: the bytes published as version n;
 * - `_published/{tenant}/{imageId}`: the pointer to the latest published version,
 *   which unversioned URLs resolve through (its number is in the object's metadata);
 * - `_quarantine/{tenant}/{imageId}/{sequencer}`: an upload that was rejected.
 *
 * Variants bucket:
 * - `{tenant}/{imageId}/v{n}/{variant name}`: variants of published version n;
 * - `{tenant}/{imageId}/latest/{variant name}`: what the edge rendered for unversioned URLs,
 *   from the version the pointer named; publishing a newer version empties it;
 * - `_staging/{tenant}/{imageId}/v{n}/…`: what a render wrote before publishing decided
 *   on it. Nothing is served from here; publishing copies it into place.
 *
 * The `_` prefix cannot start a tenant id, so system keys never look like uploads.
 */
export const SYSTEM_PREFIX = '_';
export const SNAPSHOT_PREFIX = SYSTEM_PREFIX + 'versions/';
export const PUBLISHED_PREFIX = SYSTEM_PREFIX + 'published/';
export const QUARANTINE_PREFIX = SYSTEM_PREFIX + 'quarantine/';
export const STAGING_PREFIX = SYSTEM_PREFIX + 'staging/';

/**
 * The user metadata on the published pointer that holds its version number; S3
 * answers a HEAD with it as the `x-amz-meta-pictor-version` header.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingMetadata.html#UserMetadata
 */
export const PUBLISHED_VERSION_METADATA = 'pictor-version';

type Image = Pick<ImagePath, 'tenant' | 'imageId'>;

export function uploadKey(path: Image): string {
  return path.tenant + '/' + path.imageId;
}

/** The tenant and image an upload key names; null for system keys and anything else. */
export function parseUploadKey(key: string): { tenant: string; imageId: string } | null {
  const parts = key.split('/');
  if (parts.length !== 2 || !isTenantId(parts[0] as string) || !isImageId(parts[1] as string)) return null;
  return { tenant: parts[0] as string, imageId: parts[1] as string };
}

/** Every snapshot of one image. */
export function snapshotPrefix(path: Image): string {
  return SNAPSHOT_PREFIX + uploadKey(path) + '/';
}

/** The bytes a published version renders from. */
export function snapshotKey(path: Image, version: number): string {
  return snapshotPrefix(path) + 'v' + version;
}

/** The pointer to the latest published version. */
export function publishedKey(path: Image): string {
  return PUBLISHED_PREFIX + uploadKey(path);
}

/** Every quarantined upload of one image. */
export function quarantinePrefix(path: Image): string {
  return QUARANTINE_PREFIX + uploadKey(path) + '/';
}

/** A rejected upload, kept under the sequencer of the event that brought it. */
export function quarantineKey(path: Image, sequencer: string): string {
  return quarantinePrefix(path) + sequencer;
}

/** Unversioned requests read and write the `latest` generation; versioned ones their version's. */
export function variantKey(path: ImagePath, spec: VariantSpec): string {
  return variantPrefix(path) + variantName(spec);
}

/** Every variant of one generation, for listing and deleting. */
export function variantPrefix(path: ImagePath): string {
  return uploadKey(path) + '/' + (path.version === undefined ? 'latest' : 'v' + path.version) + '/';
}

/** Where a render stages a variant of a version that is not published yet: the final key, under `_staging/`. */
export function stagedKey(key: string): string {
  return STAGING_PREFIX + key;
}

/** Everything staged for one version, in the variants bucket. */
export function stagingPrefix(path: Image, version: number): string {
  return stagedKey(variantPrefix({ tenant: path.tenant, imageId: path.imageId, version: version }));
}

/** The staged copy of the bytes a version was rendered from (no variant name lacks a dot). */
export function stagedOriginalKey(path: Image, version: number): string {
  return stagingPrefix(path, version) + 'original';
}
