import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { EdgeCache, matchesInvalidationPath, staleness, type CachedResponse } from './edge-cache.ts';
import { DEFAULT_TTLS, freshnessOf } from './freshness.ts';

function entry(bytes: number, storedAt = 0, cacheControl = 'max-age=60'): CachedResponse {
  return { status: 200, headers: {}, body: Buffer.alloc(bytes), freshness: freshnessOf(200, cacheControl, DEFAULT_TTLS), storedAt };
}

describe('EdgeCache', () => {
  it('evicts the least recently used entries to stay within its byte bound', () => {
    const cache = new EdgeCache(1000);
    cache.set('/a', entry(400));
    cache.set('/b', entry(400));
    cache.get('/a'); // touch: /b is now the oldest
    cache.set('/c', entry(400));
    assert.deepEqual([cache.get('/a') !== undefined, cache.get('/b') !== undefined, cache.get('/c') !== undefined], [true, false, true]);
    assert.ok(cache.bytes <= 1000);
    cache.set('/huge', entry(5000));
    assert.equal(cache.get('/huge'), undefined, 'an object larger than the cache is not stored');
  });

  it('invalidates exact paths and wildcard prefixes', () => {
    const cache = new EdgeCache(1e6);
    for (const key of ['/img/t/a?w=1', '/img/t/a?w=2', '/img/t/ab?w=1', '/img/t/b']) cache.set(key, entry(1));
    assert.equal(cache.invalidate('/img/t/b'), 1);
    assert.equal(cache.invalidate('/img/t/a?w=1'), 1);
    assert.equal(cache.invalidate('/img/t/a*'), 2);
    assert.equal(cache.size, 0);
  });

  it('removes only what an invalidation path names, query strings included', () => {
    const keys = [
      '/img/t/photo',
      '/img/t/photo?w=640&f=webp',
      '/img/t/photo?w=640&f=avif',
      '/img/t/photo?f=webp&w=640',
      '/img/t/photo/v2',
      '/img/t/photo/v2?w=640&f=webp',
      '/img/t/photo2',
      '/img/t/photo2?w=640&f=webp',
      '/img/t/Photo?w=640&f=webp',
      '/img/t/caf%C3%A9?w=1',
      '/img/t/a*b',
    ];
    const cases: [path: string, removed: string[]][] = [
      // Exact: the one entry with exactly that query string, in that order.
      ['/img/t/photo?w=640&f=webp', ['/img/t/photo?w=640&f=webp']],
      // No query string: only the entry without one.
      ['/img/t/photo', ['/img/t/photo']],
      // Trailing *: every key with the prefix, across `?` and into neighbours.
      ['/img/t/photo*', keys.filter((k) => k.startsWith('/img/t/photo'))],
      // `?*`: the query-string variants of this path alone.
      ['/img/t/photo?*', ['/img/t/photo?w=640&f=webp', '/img/t/photo?w=640&f=avif', '/img/t/photo?f=webp&w=640']],
      ['/img/t/photo/*', ['/img/t/photo/v2', '/img/t/photo/v2?w=640&f=webp']],
      ['/img/t/photo?w=640*', ['/img/t/photo?w=640&f=webp', '/img/t/photo?w=640&f=avif']],
      // Case-sensitive.
      ['/img/t/PHOTO*', []],
      ['/img/t/Photo?w=640&f=webp', ['/img/t/Photo?w=640&f=webp']],
      // Raw comparison: the encoding the URL used, and no other.
      ['/img/t/caf%C3%A9?w=1', ['/img/t/caf%C3%A9?w=1']],
      ['/img/t/caf%c3%a9?w=1', []],
      // `*` before the end is a literal character.
      ['/img/t/a*b', ['/img/t/a*b']],
      ['/img/t/*/v2', []],
      ['/*', keys],
    ];
    for (const [path, removed] of cases) {
      const cache = new EdgeCache(1e6);
      for (const key of keys) cache.set(key, entry(1));
      assert.equal(cache.invalidate(path), removed.length, path);
      assert.deepEqual(
        keys.filter((k) => cache.get(k) === undefined),
        removed.sort((a, b) => keys.indexOf(a) - keys.indexOf(b)),
        path,
      );
    }
  });

  it('a path ending in * names exactly the keys that start with the rest; any other path names only itself', () => {
    const key = fc.stringMatching(/^\/[A-Za-z0-9/_?=&%*-]{0,24}$/);
    fc.assert(
      fc.property(key, key, (path, other) => {
        assert.equal(matchesInvalidationPath(path + '*', other), other.startsWith(path));
        if (!path.endsWith('*')) assert.equal(matchesInvalidationPath(path, other), other === path);
      }),
    );
  });
});

describe('freshness', () => {
  it('prefers s-maxage, honours no-store, and defaults to the policy TTL', () => {
    assert.equal(freshnessOf(200, 'max-age=60, s-maxage=600', DEFAULT_TTLS).ttl, 600);
    assert.equal(freshnessOf(200, 'no-store', DEFAULT_TTLS).ttl, 0);
    assert.equal(freshnessOf(200, undefined, DEFAULT_TTLS).ttl, 86400);
    assert.equal(freshnessOf(200, 'max-age=999999999', DEFAULT_TTLS).ttl, DEFAULT_TTLS.maxTtl);
  });

  it('caches errors as CloudFront does', () => {
    assert.equal(freshnessOf(404, undefined, DEFAULT_TTLS).ttl, 10, '404 is always cached for the error-caching TTL');
    assert.equal(freshnessOf(503, 'no-store', DEFAULT_TTLS).ttl, 10);
    assert.equal(freshnessOf(400, undefined, DEFAULT_TTLS).ttl, 0, '400 only with a max-age');
    assert.equal(freshnessOf(403, 'max-age=30', DEFAULT_TTLS).ttl, 30, '403 with a max-age');
    assert.equal(freshnessOf(422, 'public, max-age=10', DEFAULT_TTLS).ttl, 0, 'CloudFront never caches a 422');
  });

  it('tells fresh from stale-while-revalidate from stale-if-error from expired', () => {
    const e = entry(1, 0, 'max-age=10, stale-while-revalidate=10, stale-if-error=100');
    assert.deepEqual([5, 15, 50, 200].map((s) => staleness(e, s * 1000)), ['fresh', 'stale-while-revalidate', 'stale-if-error', 'expired']);
  });
});
