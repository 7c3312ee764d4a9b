import type { TenantPolicy } from './tenant-policy.ts';

/**
 * The Cache-Control of what Pictor serves. CloudFront's own caching follows it
 * (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/Expiration.html),
 * and so does every cache between CloudFront and the viewer, unless the
 * distribution's response headers policy says otherwise for the viewer.
 */

/** Versioned URLs never change. */
export const IMMUTABLE_CACHE_CONTROL = 'public, max-age=31536000, immutable';

/** A 404 is cached as long as CloudFront's default error-caching TTL, no longer. */
export const NOT_FOUND_CACHE_CONTROL = 'public, max-age=10';

/**
 * What viewers of a tenant that requires signed URLs are told: no shared cache
 * (a proxy between CloudFront and the viewer) may keep the response, and the
 * viewer's own copy is checked with CloudFront before each use, where the viewer
 * function verifies the signature, expiry included. With a minimum TTL of 0,
 * CloudFront does not cache it either.
 */
export const PRIVATE_CACHE_CONTROL = 'private, no-cache';

/** How long past its expiry a cached unversioned response may still be served while the origin fails. */
export const STALE_IF_ERROR_SECONDS = 86400;

/**
 * The longest an unversioned response can be served after its object is gone:
 * its max-age, then as long again while revalidating, then while the origin errs.
 */
export function unversionedLifetimeSeconds(policy: Pick<TenantPolicy, 'ttl'>): number {
  return 2 * policy.ttl + STALE_IF_ERROR_SECONDS;
}

/** Versioned URLs are immutable; unversioned ones live the tenant's `ttl` at the edge. */
export function cacheControlFor(path: { readonly version?: number }, policy: Pick<TenantPolicy, 'ttl'>): string {
  if (path.version !== undefined) return IMMUTABLE_CACHE_CONTROL;
  return 'public, max-age=' + policy.ttl + ', stale-while-revalidate=' + policy.ttl + ', stale-if-error=' + STALE_IF_ERROR_SECONDS;
}

/**
 * The Cache-Control the viewer is told for a tenant's response: private for a
 * tenant that requires signed URLs, whatever the cached object carries; null to
 * leave the response's own. Applied at the edge per response (the viewer-response
 * function), so a tenant put or switched to signed at run time is private at once.
 */
export function viewerCacheControl(policy: Pick<TenantPolicy, 'signed'> | null): string | null {
  return policy !== null && policy.signed ? PRIVATE_CACHE_CONTROL : null;
}
