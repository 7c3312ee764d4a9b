import { PictorError } from './errors.ts';
import { formatImagePath, isImageId, isTenantId, parseVersion, type ImagePath } from './image-path.ts';
import { publishedKey, QUARANTINE_PREFIX, SNAPSHOT_PREFIX, STAGING_PREFIX, uploadKey } from './object-keys.ts';
import { parseVariantName, variantQuery } from './variant.ts';

type Image = Pick<ImagePath, 'tenant' | 'imageId'>;

/** Why an image is taken down: the legal basis the audit record names. */
export const TAKEDOWN_REASONS = ['dmca', 'gdpr', 'other'] as const;
export type TakedownReason = (typeof TAKEDOWN_REASONS)[number];

/**
 * The one invalidation path that reaches every cached URL of an image, versioned
 * or not. It also matches ids that merely start with this one (`photo*` covers
 * `photo2`): those neighbours lose their cached copies and are fetched again,
 * which costs a miss and nothing else.
 */
export function invalidationPath(image: Image): string {
  return formatImagePath(image) + '*';
}

/**
 * Where the originals bucket keeps an image's objects, as prefixes to list (an
 * exact key ends without `/`): the upload, the published pointer, the snapshots
 * and the quarantined copies.
 */
export function originalPrefixes(image: Image): string[] {
  const key = wholeImageKey(image);
  return [key, publishedKey(image), SNAPSHOT_PREFIX + key + '/', QUARANTINE_PREFIX + key + '/'];
}

/** Where the variants bucket keeps an image's objects: its variants, and what a render staged. */
export function variantPrefixes(image: Image): string[] {
  const key = wholeImageKey(image) + '/';
  return [key, STAGING_PREFIX + key];
}

/** Erasing works on prefixes: an empty or malformed id would reach other images' keys. */
function wholeImageKey(image: Image): string {
  if (!isTenantId(image.tenant) || !isImageId(image.imageId)) {
    throw new PictorError('InvalidEvent', `Refusing to erase under '${image.tenant}/${image.imageId}': not a whole image id.`);
  }
  return uploadKey(image);
}

/**
 * The URLs a stored variant was served at: its version's URL, and the
 * unversioned one, which serves each version while it is the latest. Empty for
 * keys outside the variant layout (staged objects were never served).
 */
export function derivativeUrls(variantKey: string): string[] {
  const parts = variantKey.split('/');
  if (parts.length !== 4) return [];
  const [tenant, imageId, generation, name] = parts as [string, string, string, string];
  const spec = parseVariantName(name);
  const version = parseVersion(generation);
  if (!spec || !isTenantId(tenant) || !isImageId(imageId) || (generation !== 'latest' && version === null)) return [];
  const query = '?' + variantQuery(spec);
  const latest = formatImagePath({ tenant, imageId }) + query;
  return version === null ? [latest] : [formatImagePath({ tenant, imageId, version }) + query, latest];
}

/** The audit record of one image in one takedown batch: written once, never replaced. */
export function auditKey(batchId: string, image: Image): string {
  return 'takedowns/' + uploadKey(image) + '/' + batchId + '.json';
}
