import { createHmac } from 'node:crypto';
import { PictorError } from '../core/errors.ts';
import { formatImagePath, parseImagePath } from '../core/image-path.ts';
import { normalizeQuery, type NormalizingPolicy, type QueryPairs } from '../core/normalize.ts';
import { stringToSign, type HmacSha256 } from '../core/signing.ts';
import type { TenantPolicy } from '../core/tenant-policy.ts';
import { policyOf, type TenantConfig } from '../core/tenant-config.ts';

/** base64url(HMAC-SHA256), as the viewer function computes it. */
export const hmacSha256: HmacSha256 = (secret, data) => createHmac('sha256', secret).update(data).digest('base64url');

/** What signing reads of a tenant's policy: a `PublicPolicy` (pictor/client) is one. */
export type SigningPolicy = NormalizingPolicy & Pick<TenantPolicy, 'maxSignedTtl'>;

export interface SignUrlInput {
  /** `/img/{tenant}/{imageId}` or `/img/{tenant}/{imageId}/v{n}`, optionally with a query. */
  readonly url: string;
  /** The policy of the URL's tenant (the one its keys belong to). */
  readonly policy: SigningPolicy;
  readonly kid: string;
  readonly secret: string;
  /** When the URL stops working: at most the tenant's `signing.maxTtl` from `now`. */
  readonly expiresAt: Date;
  /** @default the current time */
  readonly now?: Date;
}

/**
 * Signs a Pictor URL for a server that hands URLs to browsers. The result carries
 * the canonical query (so `fmt=auto` stays negotiable) plus `exp`, `kid` and `sig`.
 * @throws {PictorError} when the path or a parameter is invalid, or SignatureLifetimeExceeded
 *   when the URL would live longer than the tenant allows (the edge would refuse it).
 * @example signUrl({ url: '/img/shop/sku-42?w=640', policy, kid: 'k1', secret, expiresAt: new Date(Date.now() + 3600e3) })
 */
export function signUrl(input: SignUrlInput): string {
  const q = input.url.indexOf('?');
  const path = parseImagePath(q < 0 ? input.url : input.url.slice(0, q));
  if (!path.ok) throw new PictorError(path.code, path.message);
  const pairs: QueryPairs = q < 0 ? [] : Array.from(new URLSearchParams(input.url.slice(q + 1)));
  const normalized = normalizeQuery(pairs, input.policy, undefined);
  if (!normalized.ok) throw new PictorError(normalized.code, normalized.message);
  const canonicalPath = formatImagePath(path.path);
  const exp = Math.floor(input.expiresAt.getTime() / 1000);
  const lifetime = exp - Math.floor((input.now ?? new Date()).getTime() / 1000);
  if (lifetime > input.policy.maxSignedTtl) {
    throw new PictorError('SignatureLifetimeExceeded', `The URL would be valid for ${lifetime} s; its tenant allows at most ${input.policy.maxSignedTtl} s (signing.maxTtl).`);
  }
  const query = normalized.normalized.signedQuery;
  const sig = hmacSha256(input.secret, stringToSign(canonicalPath, query, exp, input.kid));
  return `${canonicalPath}?${query}&exp=${exp}&kid=${encodeURIComponent(input.kid)}&sig=${sig}`;
}

/**
 * Signs a URL with the tenant's newest key: the last one listed, since keys
 * rotate by appending the next and later dropping the oldest.
 * @throws {PictorError} InvalidConfig when the tenant has no such key, and as signUrl does
 */
export function signWithNewestKey(url: string, tenantId: string, tenant: TenantConfig, expiresAt: Date, kid?: string, now?: Date): string {
  const keys = Object.entries(tenant.signing.keys);
  const key = kid === undefined ? keys.at(-1) : keys.find(([id]) => id === kid);
  if (!key) throw new PictorError('InvalidConfig', kid === undefined ? `Tenant '${tenantId}' has no signing keys.` : `Tenant '${tenantId}' has no key '${kid}'.`);
  return signUrl({ url, policy: policyOf(tenant), kid: key[0], secret: key[1], expiresAt, now });
}
