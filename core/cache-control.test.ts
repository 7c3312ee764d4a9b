import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  cacheControlFor,
  IMMUTABLE_CACHE_CONTROL,
  NOT_FOUND_CACHE_CONTROL,
  PRIVATE_CACHE_CONTROL,
  STALE_IF_ERROR_SECONDS,
  unversionedLifetimeSeconds,
  viewerCacheControl,
} from './cache-control.ts';
import { HSTS_MAX_AGE, IMAGE_CONTENT_SECURITY_POLICY, SECURITY_HEADERS } from './security-headers.ts';

describe('Cache-Control', () => {
  it('serves versioned URLs as immutable for a year, unversioned ones for the tenant ttl, as the README says', () => {
    assert.equal(cacheControlFor({ version: 3 }, { ttl: 60 }), 'public, max-age=31536000, immutable');
    assert.equal(cacheControlFor({ version: 3 }, { ttl: 60 }), IMMUTABLE_CACHE_CONTROL);
    assert.equal(cacheControlFor({}, { ttl: 60 }), 'public, max-age=60, stale-while-revalidate=60, stale-if-error=86400');
    assert.equal(cacheControlFor({ version: undefined }, { ttl: 0 }), 'public, max-age=0, stale-while-revalidate=0, stale-if-error=86400');
  });

  it('bounds how long an unversioned response outlives its object: max-age, as long again revalidating, then a day of errors', () => {
    assert.equal(STALE_IF_ERROR_SECONDS, 86400);
    assert.equal(unversionedLifetimeSeconds({ ttl: 60 }), 60 + 60 + 86400);
    assert.equal(unversionedLifetimeSeconds({ ttl: 0 }), 86400);
  });

  it('tells viewers of a signed tenant to keep nothing in shared caches and to revalidate, and leaves others alone', () => {
    assert.equal(PRIVATE_CACHE_CONTROL, 'private, no-cache');
    assert.equal(viewerCacheControl({ signed: true }), 'private, no-cache');
    assert.equal(viewerCacheControl({ signed: false }), null);
    assert.equal(viewerCacheControl(null), null);
  });

  it("caches a 404 no longer than CloudFront's default error-caching TTL", () => {
    assert.equal(NOT_FOUND_CACHE_CONTROL, 'public, max-age=10');
  });
});

describe('security headers', () => {
  it('sends HSTS for a year, nosniff, and a policy under which an image runs nothing and loads nothing', () => {
    assert.equal(HSTS_MAX_AGE, 31536000);
    assert.deepEqual(SECURITY_HEADERS, {
      'strict-transport-security': 'max-age=31536000',
      'x-content-type-options': 'nosniff',
      'content-security-policy': IMAGE_CONTENT_SECURITY_POLICY,
    });
    const directives = IMAGE_CONTENT_SECURITY_POLICY.split(';').map((d) => d.trim());
    assert.deepEqual(directives, ["default-src 'none'", "img-src 'self'", "style-src 'unsafe-inline'", 'sandbox']);
  });
});
