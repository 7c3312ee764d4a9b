/**
 * How long CloudFront keeps a response, from its Cache-Control and the cache
 * policy's TTLs. https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/Expiration.html
 * - s-maxage wins over max-age; with neither, the policy's default TTL applies;
 * - the result is clamped to [minTtl, maxTtl]; with minTtl 0, no-store, no-cache
 *   and private are honoured;
 * - stale-while-revalidate and stale-if-error extend use, capped at maxTtl.
 */
export interface CachePolicyTtls {
  /** @default 0 */
  readonly minTtl: number;
  /** @default 86400 (CloudFront's default TTL) */
  readonly defaultTtl: number;
  /** @default 31536000 */
  readonly maxTtl: number;
  /** How long an error CloudFront always caches is kept. @default 10 */
  readonly errorCachingMinTtl: number;
}

export const DEFAULT_TTLS: CachePolicyTtls = { minTtl: 0, defaultTtl: 86400, maxTtl: 31536000, errorCachingMinTtl: 10 };

/** Always cached, for the error-caching TTL at least. https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/HTTPStatusCodes.html */
const ALWAYS_CACHED_ERRORS = new Set([404, 414, 500, 501, 502, 503, 504]);
/** Cached only when the origin sends max-age or s-maxage; other errors never are. */
const CACHED_WITH_MAX_AGE = new Set([200, 203, 206, 300, 301, 308, 400, 403, 405, 410, 412, 415]);

export interface Freshness {
  /** Seconds the response is fresh; 0 means not stored. */
  readonly ttl: number;
  readonly staleWhileRevalidate: number;
  readonly staleIfError: number;
}

export function parseCacheControl(header: string | undefined): Map<string, number | true> {
  const directives = new Map<string, number | true>();
  for (const part of (header ?? '').split(',')) {
    const [name, value] = part.trim().toLowerCase().split('=') as [string, string?];
    if (!name) continue;
    const seconds = value === undefined ? NaN : Number.parseInt(value.replace(/"/g, ''), 10);
    directives.set(name, Number.isFinite(seconds) ? seconds : true);
  }
  return directives;
}

export function freshnessOf(status: number, cacheControl: string | undefined, ttls: CachePolicyTtls): Freshness {
  const cc = parseCacheControl(cacheControl);
  const seconds = (name: string) => {
    const value = cc.get(name);
    return typeof value === 'number' ? value : undefined;
  };
  const declared = seconds('s-maxage') ?? seconds('max-age');
  const refused = cc.has('no-store') || cc.has('no-cache') || cc.has('private');
  let ttl: number;
  if (ALWAYS_CACHED_ERRORS.has(status)) {
    ttl = Math.max(ttls.errorCachingMinTtl, refused ? 0 : (declared ?? 0));
  } else if (status === 200 || (declared !== undefined && CACHED_WITH_MAX_AGE.has(status))) {
    ttl = refused && ttls.minTtl === 0 ? 0 : Math.min(Math.max(declared ?? ttls.defaultTtl, ttls.minTtl), ttls.maxTtl);
  } else {
    ttl = 0;
  }
  return {
    ttl,
    staleWhileRevalidate: Math.min(seconds('stale-while-revalidate') ?? 0, ttls.maxTtl),
    staleIfError: Math.min(seconds('stale-if-error') ?? 0, ttls.maxTtl),
  };
}
