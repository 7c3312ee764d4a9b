import { formatImagePath, isImageId, isTenantId, type ImagePath } from './image-path.ts';
import { SYSTEM_PREFIX, uploadKey } from './object-keys.ts';
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

/** Where each bucket keeps an image's objects, as prefixes to list (an exact key ends without `/`). */
export function originalPrefixes(image: Image): string[] {
  const key = wholeImageKey(image);
  return [key, SYSTEM_PREFIX + 'versions/' + key + '/', SYSTEM_PREFIX + 'quarantine/' + key + '/'];
}

export function variantsPrefix(image: Image): string {
  return wholeImageKey(image) + '/';
}

/** Erasing works on prefixes: an empty or malformed id would reach other images' keys. */
function wholeImageKey(image: Image): string {
  if (!isTenantId(image.tenant) || !isImageId(image.imageId)) throw new Error(`Refusing to erase under '${image.tenant}/${image.imageId}': not a whole image id.`);
  return uploadKey(image);
}

/**
 * The URL a stored variant was served at: path, then the canonical query the
 * edge would have keyed it on. Null for keys outside the variant layout.
 */
export function derivativeUrl(variantKey: string): string | null {
  const parts = variantKey.split('/');
  if (parts.length !== 4) return null;
  const [tenant, imageId, generation, name] = parts as [string, string, string, string];
  const spec = parseVariantName(name);
  const version = /^v[1-9][0-9]*$/.test(generation) ? parseInt(generation.slice(1), 10) : undefined;
  if (!spec || (generation !== 'latest' && version === undefined)) return null;
  return formatImagePath({ tenant, imageId, version }) + '?' + variantQuery(spec);
}

/** The audit record of one image in one takedown batch: written once, never replaced. */
export function auditKey(batchId: string, image: Image): string {
  return 'takedowns/' + uploadKey(image) + '/' + batchId + '.json';
}
