import { PictorError } from './errors.ts';
import { formatImagePath, isImageId, isTenantId, parseVersion, type ImagePath } from './image-path.ts';
import { publishedKey, quarantinePrefix, snapshotPrefix, stagedKey, uploadKey } from './object-keys.ts';
import { parseVariantName, variantQuery } from './variant.ts';

type Image = Pick<ImagePath, 'tenant' | 'imageId'>;

/** Why an image is taken down: the legal basis the audit record names. */
export const TAKEDOWN_REASONS = ['dmca', 'gdpr', 'other'] as const;
export type TakedownReason = (typeof TAKEDOWN_REASONS)[number];

/**
 * The wildcard paths that reach every cached URL of an image, versioned or not,
 * and nothing of another image: its bare URL, its query strings (`photo?*`, never
 * `photo2`) and its versions (`photo/*`). Two of CloudFront's 15 wildcard paths
 * in progress. https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/invalidation-specifying-objects.html
 */
export function wildcardPaths(image: Image): string[] {
  const path = formatImagePath(image);
  return [path, path + '?*', path + '/*'];
}

/**
 * CloudFront allows 3,000 exact paths in progress per distribution against 15
 * wildcard ones: one image's exact paths, up to a fifteenth of that, leave room
 * for fifteen images at once, as the wildcards would.
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-limits.html#limits-invalidations
 */
export const MAX_EXACT_PATHS_PER_IMAGE = 200;

/** How an image's cached copies are invalidated, and why so. */
export interface InvalidationPlan {
  readonly paths: string[];
  readonly wildcard: boolean;
  readonly reason: 'exact' | 'recently-republished' | 'too-many-urls';
}

/**
 * Exact paths where they reach every copy the edge may hold, wildcards where
 * they may not. The edge serves only stored objects (the origin-request function
 * rewrites the URI, S3 answers), so the URLs of the objects the inventory found
 * are every URL cached, except for `latest` objects a publish replaced while
 * their unversioned URLs could still be served: a re-publish within that
 * lifetime needs the wildcard. So does an image with more URLs than its share.
 */
export function planInvalidation(
  image: Image,
  urls: readonly string[],
  history: { readonly publishedVersions: readonly number[]; readonly lastPublishedAt?: string },
  unversionedLifetimeSeconds: number,
  now: Date,
): InvalidationPlan {
  const republished = history.publishedVersions.length > 1 && (!history.lastPublishedAt || now.getTime() - Date.parse(history.lastPublishedAt) < unversionedLifetimeSeconds * 1000);
  if (republished) return { paths: wildcardPaths(image), wildcard: true, reason: 'recently-republished' };
  if (urls.length > MAX_EXACT_PATHS_PER_IMAGE) return { paths: wildcardPaths(image), wildcard: true, reason: 'too-many-urls' };
  return { paths: [...urls].sort(), wildcard: false, reason: 'exact' };
}

/**
 * Every URL the edge may have served an image at: the bare URL of the image and
 * of each published version, and both URLs of each variant key (its version's
 * and the unversioned one). What verification checks and exact invalidation names.
 */
export function servedUrls(image: Image, publishedVersion: number, variantKeys: Iterable<string>): string[] {
  const urls = new Set<string>([formatImagePath(image)]);
  for (let version = 1; version <= publishedVersion; version++) urls.add(formatImagePath({ ...image, version }));
  for (const key of variantKeys) for (const url of derivativeUrls(key)) urls.add(url);
  return [...urls].sort();
}

/**
 * Where the originals bucket keeps an image's objects, as prefixes to list (an
 * exact key ends without `/`): the upload, the published pointer, the snapshots
 * and the quarantined copies.
 */
export function originalPrefixes(image: Image): string[] {
  return [wholeImageKey(image), publishedKey(image), snapshotPrefix(image), quarantinePrefix(image)];
}

/** Where the variants bucket keeps an image's objects: its variants, and what a render staged. */
export function variantPrefixes(image: Image): string[] {
  const key = wholeImageKey(image) + '/';
  return [key, stagedKey(key)];
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
