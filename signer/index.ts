/**
 * Pictor's server-side signer (`pictor/signer`): signs the URLs `pictor/client`
 * builds, for tenants that require signed URLs. Run it on a server (an API route,
 * a server component, a build step) and send browsers the signed URLs, never the
 * key: whoever holds a tenant's key can sign any URL of the tenant.
 * Guide: docs/SDK.md#signed-tenants.
 */
import { PictorError } from '../core/errors.ts';
import { publicPolicyOf, type PublicPolicy } from '../core/public-policy.ts';
import { parseTenant, policyOf } from '../core/tenant-config.ts';
import { signUrl, type SigningPolicy } from './sign-url.ts';

export { hmacSha256, signUrl, signWithNewestKey, type SigningPolicy, type SignUrlInput } from './sign-url.ts';
export type { PublicPolicy } from '../core/public-policy.ts';

/** One of a tenant's active signing keys, as its tenants file or Secrets Manager holds it. */
export interface SigningKey {
  readonly kid: string;
  readonly secret: string;
}

export interface BucketOptions {
  /** The longest a URL lives, in seconds; at most the tenant's maxSignedTtl. @default the tenant's maxSignedTtl */
  readonly ttl?: number;
  /**
   * Seconds per time bucket: every signing of one URL within a bucket gives the same
   * signed URL, so a browser that saw it reuses what it cached. A URL lives from
   * ttl - bucket to ttl seconds after it is signed.
   * @default the smaller of an hour and a quarter of ttl
   */
  readonly bucket?: number;
  /** @default the current time */
  readonly now?: Date;
}

/**
 * The expiry of a URL signed at `nowSeconds`: the start of its time bucket (buckets
 * are aligned to the epoch, so every server agrees) plus `ttl`. Always in the
 * future, by more than ttl - bucket and at most ttl seconds.
 * @throws {PictorError} InvalidParameter unless ttl and bucket are positive integers with bucket < ttl
 */
export function bucketedExpiry(nowSeconds: number, ttl: number, bucket: number): number {
  if (!Number.isInteger(ttl) || ttl < 1) throw new PictorError('InvalidParameter', `Expected a positive number of seconds for ttl but received ${ttl}.`);
  if (!Number.isInteger(bucket) || bucket < 1 || bucket >= ttl) {
    throw new PictorError('InvalidParameter', `Expected a whole number of seconds from 1 to ${ttl - 1} (less than ttl) for bucket but received ${bucket}: a URL lives at least ttl - bucket seconds.`);
  }
  return Math.floor(nowSeconds / bucket) * bucket + ttl;
}

/**
 * Signs a URL that `buildUrl` (pictor/client) made, absolute or root-relative, with
 * an expiry rounded to a time bucket: the same URL, signed again within the bucket,
 * is the same string, and browsers keep one cached copy instead of one per render.
 *
 * @example signImageUrl(buildUrl(policy, 'sku-42', { width: 640 }), { kid: 'k1', secret }, policy)
 * @throws {PictorError} as signUrl does (an invalid URL or parameter, a lifetime over the
 *   tenant's maxSignedTtl), and InvalidParameter for a ttl or bucket that is not one
 */
export function signImageUrl(url: string, key: SigningKey, policy: SigningPolicy, options: BucketOptions = {}): string {
  const ttl = options.ttl ?? policy.maxSignedTtl;
  const bucket = options.bucket ?? Math.max(1, Math.min(3600, Math.floor(ttl / 4)));
  if (ttl > policy.maxSignedTtl) {
    // Refused whatever the clock says, not only when the bucket falls badly.
    throw new PictorError('SignatureLifetimeExceeded', `ttl ${ttl} s is longer than the tenant allows (signing.maxTtl, ${policy.maxSignedTtl} s).`);
  }
  const now = options.now ?? new Date();
  const exp = bucketedExpiry(Math.floor(now.getTime() / 1000), ttl, bucket);
  const origin = /^([a-z][a-z0-9+.-]*:)?\/\/[^/?#]*/i.exec(url);
  const prefix = origin ? origin[0] : '';
  return prefix + signUrl({ url: url.slice(prefix.length), policy, kid: key.kid, secret: key.secret, expiresAt: new Date(exp * 1000), now });
}

/**
 * Signs every URL of a `srcset` (from pictor/client's `srcset`), keeping each descriptor.
 * @throws {PictorError} as signImageUrl does
 */
export function signSrcset(srcset: string, key: SigningKey, policy: SigningPolicy, options: BucketOptions = {}): string {
  // The builder's URLs hold no comma or space, so candidates split on ", ".
  return srcset
    .split(/,\s+/)
    .map((candidate) => {
      const [url = '', ...descriptor] = candidate.trim().split(/\s+/);
      return [signImageUrl(url, key, policy, options), ...descriptor].join(' ');
    })
    .join(', ');
}

/**
 * A tenant's public policy from its entry in a tenants file (the JSON `pictor
 * tenants put` takes), checked by the same rules as the deployment: for a build
 * step that writes the JSON a front end imports. The result holds no secret, but
 * the tenants file may: read it on the server, never in browser code.
 * @example publicPolicyFromConfig('shop', tenants.tenants.shop, 'https://images.example.com')
 * @throws {PictorError} InvalidConfig, listing every problem of the entry
 */
export function publicPolicyFromConfig(tenant: string, config: unknown, baseUrl?: string): PublicPolicy {
  return publicPolicyOf(tenant, policyOf(parseTenant(tenant, config)), baseUrl);
}
