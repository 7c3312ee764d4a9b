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
   * Removes what an invalidation path names: a path ending in `*` matches every
   * key with that prefix (query included); any other path matches one key exactly.
   * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/invalidation-specifying-objects.html
   */
  invalidate(path: string): number {
    const prefix = path.endsWith('*') ? path.slice(0, -1) : undefined;
    let removed = 0;
    for (const key of [...this.entries.keys()]) {
      if (prefix !== undefined ? key.startsWith(prefix) : key === path) removed += this.delete(key) ? 1 : 0;
    }
    return removed;
  }
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
