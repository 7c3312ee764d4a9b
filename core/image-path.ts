import { fail, type Result } from './error-codes.ts';

/**
 * The URL contract: `/img/{tenant}/{imageId}` or `/img/{tenant}/{imageId}/v{n}`.
 *
 * The version comes after the id so that one invalidation path, `/img/{tenant}/{imageId}*`,
 * covers every URL of an image, versioned or not: CloudFront allows `*` only at a path's end
 * (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/invalidation-specifying-objects.html).
 *
 * Grammar (ASCII only, case-sensitive, no percent-encoding):
 * - tenant: 3 to 32 of `a-z 0-9 -`, starting and ending with a letter or digit;
 * - imageId: 1 to 128 of `A-Z a-z 0-9 _ -`, starting with a letter or digit;
 * - version: `v` then a positive integer without leading zeros (at most 9 digits).
 *
 * Anything else under `/img/` (dot segments, encoded slashes, NUL, non-ASCII,
 * empty segments) is an InvalidPath; anything outside `/img/` is NotFound.
 */
export const PATH_PREFIX = '/img/';

/**
 * Where the viewer function sends a request for a tenant that does not exist,
 * followed by the path asked for, so that the origin answers it exactly as it
 * answers a missing image, and it is cached as one. Outside the grammar: no image
 * can live there.
 */
// A literal, not PATH_PREFIX + '...': bundlers cannot prove a concatenation free of
// side effects, and keep it in every front-end bundle that imports the client SDK.
export const NOT_FOUND_PATH = '/img/_not-found';
const TENANT = /^[a-z0-9][a-z0-9-]{1,30}[a-z0-9]$/;
const IMAGE_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
const VERSION = /^v[1-9][0-9]{0,8}$/;

export interface ImagePath {
  readonly tenant: string;
  readonly imageId: string;
  /** Present for versioned (immutable) URLs. */
  readonly version?: number;
}

export function isTenantId(value: string): boolean {
  return TENANT.test(value);
}

export function isImageId(value: string): boolean {
  return IMAGE_ID.test(value);
}

export function parseImagePath(uri: string): Result<{ path: ImagePath }> {
  if (uri.indexOf(PATH_PREFIX) !== 0) return fail('NotFound', 'No such resource.');
  const segments = uri.slice(PATH_PREFIX.length).split('/');
  if (segments.length < 2 || segments.length > 3) {
    return fail('InvalidPath', 'Expected /img/{tenant}/{imageId} or /img/{tenant}/{imageId}/v{n}.');
  }
  const tenant = segments[0] as string;
  if (!TENANT.test(tenant)) return fail('InvalidPath', 'Invalid tenant in path.');
  const imageId = segments[1] as string;
  if (!IMAGE_ID.test(imageId)) {
    return fail('InvalidPath', 'Invalid image id: use 1 to 128 of A-Z a-z 0-9 _ -, starting with a letter or digit.');
  }
  if (segments.length === 2) return { ok: true, path: { tenant: tenant, imageId: imageId } };
  const version = parseVersion(segments[2] as string);
  if (version === null) return fail('InvalidPath', 'Invalid version in path: expected v1, v2, ...');
  return { ok: true, path: { tenant: tenant, imageId: imageId, version: version } };
}

/** The number of a version segment such as `v3`; null for anything else. */
export function parseVersion(segment: string): number | null {
  return VERSION.test(segment) ? parseInt(segment.slice(1), 10) : null;
}

export function formatImagePath(path: ImagePath): string {
  const version = path.version === undefined ? '' : '/v' + path.version;
  return PATH_PREFIX + path.tenant + '/' + path.imageId + version;
}
