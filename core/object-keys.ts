import { isImageId, isTenantId, type ImagePath } from './image-path.ts';
import { variantName, type VariantSpec } from './variant.ts';

/**
 * Object keys, derived only from validated ids: never from a URL, a header or
 * anything else a client sends. Every key carries the tenant as a whole segment,
 * so IAM can scope a role to one tenant's prefix.
 *
 * Originals bucket:
 * - `{tenant}/{imageId}`: where a tenant uploads (and re-uploads) an original;
 * - `_versions/{tenant}/{imageId}/v{n}`: the snapshot published as version n;
 * - `_quarantine/{tenant}/{imageId}/{sequencer}`: an upload that was rejected.
 * The `_` prefix cannot start a tenant id, so system keys never look like uploads.
 *
 * Variants bucket: `{tenant}/{imageId}/{v{n} | latest}/{variant name}`.
 */
export const SYSTEM_PREFIX = '_';
export const SNAPSHOT_PREFIX = SYSTEM_PREFIX + 'versions/';
export const QUARANTINE_PREFIX = SYSTEM_PREFIX + 'quarantine/';

/**
 * The object tag on a version's variants and snapshot from render until publish.
 * A version that is never published keeps it, and a lifecycle rule expires it.
 */
export const UNPUBLISHED_TAG: { readonly [key: string]: string } = { 'pictor-state': 'unpublished' };
export const PUBLISHED_TAG: { readonly [key: string]: string } = { 'pictor-state': 'published' };

export function uploadKey(path: Pick<ImagePath, 'tenant' | 'imageId'>): string {
  return path.tenant + '/' + path.imageId;
}

/** The tenant and image an upload key names; null for system keys and anything else. */
export function parseUploadKey(key: string): { tenant: string; imageId: string } | null {
  const parts = key.split('/');
  if (parts.length !== 2 || !isTenantId(parts[0] as string) || !isImageId(parts[1] as string)) return null;
  return { tenant: parts[0] as string, imageId: parts[1] as string };
}

export function snapshotKey(path: Pick<ImagePath, 'tenant' | 'imageId'>, version: number): string {
  return SNAPSHOT_PREFIX + uploadKey(path) + '/v' + version;
}

export function quarantineKey(path: Pick<ImagePath, 'tenant' | 'imageId'>, sequencer: string): string {
  return QUARANTINE_PREFIX + uploadKey(path) + '/' + sequencer;
}

/**
 * The original a URL renders from: the upload itself for unversioned URLs, the
 * published snapshot for versioned ones. An unpublished version is simply absent
 * (a 404), never today's bytes marked immutable.
 */
export function originalKey(path: ImagePath): string {
  return path.version === undefined ? uploadKey(path) : snapshotKey(path, path.version);
}

/** Unversioned requests read and write the `latest` generation. */
export function variantKey(path: ImagePath, spec: VariantSpec): string {
  return variantPrefix(path) + variantName(spec);
}

/** Every variant of one generation, for listing and deleting. */
export function variantPrefix(path: ImagePath): string {
  return uploadKey(path) + '/' + (path.version === undefined ? 'latest' : 'v' + path.version) + '/';
}
