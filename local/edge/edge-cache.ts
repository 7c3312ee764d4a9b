import type { Freshness } from './freshness.ts';

export interface CachedResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  readonly freshness: Freshness;
  /** When the response was stored or last revalidated, in ms. */
  readonly storedAt: number;
}

export type Staleness = 'fresh' | 'stale-while-revalidate' | 'stale-if-error' | 'expired';

/**
 * The edge cache: a least-recently-used map bounded by bytes (body plus headers),
 * so a burst of large variants evicts old ones instead of growing the process.
 */
export class EdgeCache {
  private readonly entries = new Map<string, CachedResponse>();
  private used = 0;

  constructor(readonly maxBytes: number) {}

  get bytes(): number {
    return this.used;
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string): CachedResponse | undefined {
    const entry = this.entries.get(key);
    if (entry) {
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    return entry;
  }

  set(key: string, entry: CachedResponse): void {
    this.delete(key);
    const size = sizeOf(key, entry);
    if (size > this.maxBytes) return;
    this.entries.set(key, entry);
    this.used += size;
    for (const [oldest, value] of this.entries) {
      if (this.used <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.used -= sizeOf(oldest, value);
    }
  }

  delete(key: string): boolean {
    const entry = this.entries.get(key);
    if (!entry) return false;
    this.entries.delete(key);
    this.used -= sizeOf(key, entry);
    return true;
  }

  /**
   * Removes every entry the invalidation path names (see {@link matchesInvalidationPath}).
   * @returns how many entries were removed
   */
  invalidate(path: string): number {
    let removed = 0;
    for (const key of [...this.entries.keys()]) {
      if (matchesInvalidationPath(path, key)) removed += this.delete(key) ? 1 : 0;
    }
    return removed;
  }
}

/**
 * Whether a CloudFront invalidation path names a cache key, the key being the
 * path plus the cache policy's query string (`/img/t/photo?w=640&f=webp`), as
 * {@link EdgeCache} stores them. Comparison is on the raw characters, so it is
 * case-sensitive and a percent-encoded character matches only the same encoding.
 * - A path whose last character is `*` matches every key that starts with what
 *   precedes it, `?` and the query string included: `/img/t/photo*` also reaches
 *   `/img/t/photo2?w=1`. A `*` anywhere else is a literal character.
 * - Any other path matches one key exactly: with a query string, only the entry
 *   with exactly that query string; without one, only the entry without one, as
 *   CloudFront asks for the query strings in the path when they are in the cache key.
 * - `/img/t/photo?*` is a valid wildcard (the `*` is last): every query-string
 *   variant of `/img/t/photo`, but neither the bare `/img/t/photo`, nor
 *   `/img/t/photo/v2`, nor `/img/t/photo2`. So one image's URLs, and none of a
 *   neighbour's, take three paths: `/img/t/photo`, `/img/t/photo?*` and `/img/t/photo/*`.
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/invalidation-specifying-objects.html
 * (A re:Post article says an invalidation removes every query-string version of
 * an object; the guide says otherwise, and the twin follows the narrower purge, so
 * nothing comes to rely on a plain path reaching them.
 * https://repost.aws/knowledge-center/cloudfront-clear-cache)
 */
export function matchesInvalidationPath(path: string, key: string): boolean {
  return path.endsWith('*') ? key.startsWith(path.slice(0, -1)) : key === path;
}

export function staleness(entry: CachedResponse, now: number): Staleness {
  const age = (now - entry.storedAt) / 1000;
  const f = entry.freshness;
  if (age < f.ttl) return 'fresh';
  if (age < f.ttl + f.staleWhileRevalidate) return 'stale-while-revalidate';
  if (age < f.ttl + f.staleIfError) return 'stale-if-error';
  return 'expired';
}

function sizeOf(key: string, entry: CachedResponse): number {
  let size = key.length + entry.body.length;
  for (const name in entry.headers) size += name.length + (entry.headers[name]?.length ?? 0);
  return size;
}
