import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { normalizeQuery, queryPairs } from '../core/normalize.ts';
import { verifySignature } from '../core/signing.ts';
import { buildUrl, srcset } from '../client/index.ts';
import { bucketedExpiry, hmacSha256, publicPolicyFromConfig, signImageUrl, signSrcset } from './index.ts';

const key = { kid: 'k1', secret: 'k1-secret-0123456789abcdefghijklmnopqrstuvwxyz' };
const policy = publicPolicyFromConfig('shop', { breakpoints: [160, 320, 640, 1280], signing: { required: true, maxTtl: 86400 } }, 'https://images.example.com');
const at = (iso: string) => new Date(iso);

/** What the viewer function concludes of a signed URL at `now`: null when it passes. */
function verify(url: string, now: Date) {
  const path = url.replace(/^https?:\/\/[^/]+/, '');
  const [uri, query] = path.split('?') as [string, string];
  const normalized = normalizeQuery(queryPairs(query), policy, undefined);
  assert.ok(normalized.ok);
  return verifySignature(
    { path: uri, signedQuery: normalized.normalized.signedQuery, signature: normalized.normalized.signature, secret: key.secret, now: Math.floor(now.getTime() / 1000), maxTtl: policy.maxSignedTtl },
    hmacSha256,
  );
}

describe('signImageUrl', () => {
  const url = buildUrl(policy, 'sku-42', { width: 640 });

  it('signs a builder URL, keeping its origin and its canonical query', () => {
    const signed = signImageUrl(url, key, policy, { now: at('2026-12-02T10:20:00Z'), ttl: 7200, bucket: 3600 });
    assert.match(signed, /^https:\/\/images\.example\.com\/img\/shop\/sku-42\?fmt=auto&q=75&w=640&exp=\d+&kid=k1&sig=[\w-]+$/);
    assert.equal(new URL(signed).searchParams.get('exp'), String(Date.parse('2026-12-02T12:00:00Z') / 1000), 'the bucket starts at 10:00; plus two hours');
    assert.equal(verify(signed, at('2026-12-02T10:20:00Z')), null);
    const relative = signImageUrl('/img/shop/sku-42?fmt=auto&q=75&w=640', key, policy, { now: at('2026-12-02T10:20:00Z'), ttl: 7200, bucket: 3600 });
    assert.equal(relative, signed.replace('https://images.example.com', ''));
    assert.ok(signImageUrl('//cdn.example.com/img/shop/sku-42', key, policy).startsWith('//cdn.example.com/img/shop/sku-42?fmt=auto&q=75&exp='));
  });

  it('gives one URL within a time bucket, and another in the next', () => {
    const sign = (iso: string) => signImageUrl(url, key, policy, { now: at(iso), ttl: 7200, bucket: 3600 });
    assert.equal(sign('2026-12-02T10:00:00Z'), sign('2026-12-02T10:59:59Z'));
    assert.notEqual(sign('2026-12-02T10:59:59Z'), sign('2026-12-02T11:00:00Z'));
  });

  it('a URL lives more than ttl - bucket and at most ttl seconds, and verifies at the edge meanwhile', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1_700_000_000, max: 2_000_000_000 }), fc.integer({ min: 2, max: 86400 }), fc.nat(), (now, ttl, b) => {
        const bucket = 1 + (b % (ttl - 1));
        const exp = bucketedExpiry(now, ttl, bucket);
        assert.ok(exp - now > ttl - bucket && exp - now <= ttl, `${exp - now}`);
        const signed = signImageUrl(url, key, policy, { now: new Date(now * 1000), ttl, bucket });
        assert.equal(verify(signed, new Date(now * 1000)), null);
        assert.equal(verify(signed, new Date(exp * 1000))?.code, 'SignatureExpired');
      }),
      { numRuns: 100 },
    );
  });

  it('defaults to the tenant\'s maxTtl in buckets of an hour', () => {
    const signed = signImageUrl(url, key, policy, { now: at('2026-12-02T10:20:00Z') });
    assert.equal(new URL(signed).searchParams.get('exp'), String(Date.parse('2026-12-03T10:00:00Z') / 1000));
  });

  it('refuses a lifetime the tenant does not allow and a bucket that is not shorter than the ttl', () => {
    assert.throws(() => signImageUrl(url, key, policy, { ttl: 86401 }), (e: Error & { code?: string }) => e.code === 'SignatureLifetimeExceeded' && /signing\.maxTtl, 86400 s/.test(e.message));
    assert.throws(() => signImageUrl(url, key, policy, { ttl: 3600, bucket: 3600 }), /from 1 to 3599 \(less than ttl\) for bucket but received 3600/);
    assert.throws(() => signImageUrl(url, key, policy, { ttl: 0 }), /positive number of seconds for ttl/);
  });
});

describe('signSrcset', () => {
  it('signs every candidate and keeps its descriptor', () => {
    const now = at('2026-12-02T10:20:00Z');
    const signed = signSrcset(srcset(policy, 'sku-42', { width: 300, layout: 'fixed' }), key, policy, { now });
    const candidates = signed.split(', ').map((c) => c.split(' ') as [string, string]);
    assert.deepEqual(candidates.map(([u, d]) => [new URL(u).searchParams.get('w'), d]), [['320', '1x'], ['640', '2x']]);
    for (const [u] of candidates) assert.equal(verify(u, now), null);
  });
});

describe('publicPolicyFromConfig', () => {
  it('reads a tenants-file entry by the deployment\'s rules, and keeps its secrets out', () => {
    const pub = publicPolicyFromConfig('vault', { signing: { required: true, keys: { k1: key.secret } }, referers: ['vault.example'] });
    assert.equal(pub.signed, true);
    assert.deepEqual(pub.breakpoints, [160, 320, 480, 640, 768, 1024, 1280, 1600, 1920, 2560]);
    assert.doesNotMatch(JSON.stringify(pub), /secret|vault\.example/);
    assert.throws(() => publicPolicyFromConfig('shop', { breakpoints: [320, 160] }), /breakpoints must be strictly ascending/);
  });
});
