import type { ExplicitFormat } from './formats.ts';

/**
 * What the edge and the origin need to know about a tenant to normalize and
 * render a request. Built from the validated tenant configuration; the edge
 * reads it from a CloudFront KeyValueStore in the compact form below.
 */
export interface TenantPolicy {
  /** Ascending sizes that `w` and `h` snap up to; above the largest they clamp to it. */
  readonly breakpoints: readonly number[];
  /** Ascending qualities that `q` snaps up to. */
  readonly qualities: readonly number[];
  /** The quality used when a request names none; one of `qualities`. */
  readonly defaultQuality: number;
  /** Formats a request may name, and that `fmt=auto` may negotiate. Legacy is always allowed. */
  readonly formats: readonly ExplicitFormat[];
  /** Whether every request must carry a valid signature. */
  readonly signed: boolean;
  /** Shared-cache lifetime in seconds of unversioned URLs. */
  readonly ttl: number;
  /** The longest a signed URL may stay valid, in seconds from the time it is checked. */
  readonly maxSignedTtl: number;
  /** Sites whose pages may embed the tenant's images (core/hotlinking.ts). @default [] (any site) */
  readonly referers?: readonly string[];
}

/**
 * The bounding box of a render that names no size, at the edge and on upload:
 * the tenant's largest breakpoint (validated ascending and never empty).
 */
export function largestBreakpoint(policy: Pick<TenantPolicy, 'breakpoints'>): number {
  return policy.breakpoints[policy.breakpoints.length - 1] as number;
}

/** KeyValueStore keys: one entry per tenant, one per signing key. */
export function policyStoreKey(tenant: string): string {
  return 'tenant:' + tenant;
}

export function signingKeyStoreKey(tenant: string, kid: string): string {
  return 'key:' + tenant + ':' + kid;
}

/** The compact JSON stored per tenant; a KeyValueStore value is at most 1 KB. */
export function encodePolicy(policy: TenantPolicy): string {
  return JSON.stringify({
    b: policy.breakpoints,
    q: policy.qualities,
    d: policy.defaultQuality,
    f: policy.formats,
    s: policy.signed ? 1 : 0,
    t: policy.ttl,
    l: policy.maxSignedTtl,
    // Left out when empty: most tenants allow any site, and the value holds 1 KB.
    r: policy.referers && policy.referers.length > 0 ? policy.referers : undefined,
  });
}

/** Reads a stored policy; null when the text is not one (treated as an unknown tenant). */
export function decodePolicy(text: string | null): TenantPolicy | null {
  if (!text) return null;
  let raw;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return null;
  }
  if (!raw || !isAscendingIntegers(raw.b) || !isAscendingIntegers(raw.q) || !(raw.f instanceof Array)) return null;
  if (raw.q.indexOf(raw.d) < 0 || typeof raw.t !== 'number' || typeof raw.l !== 'number') return null;
  if (raw.r !== undefined && !(raw.r instanceof Array)) return null;
  return { breakpoints: raw.b, qualities: raw.q, defaultQuality: raw.d, formats: raw.f, signed: raw.s === 1, ttl: raw.t, maxSignedTtl: raw.l, referers: raw.r || [] };
}

function isAscendingIntegers(value: unknown): value is number[] {
  if (!(value instanceof Array) || value.length === 0) return false;
  for (let i = 0; i < value.length; i++) {
    if (typeof value[i] !== 'number' || value[i] % 1 !== 0 || value[i] < 1) return false;
    if (i > 0 && value[i] <= value[i - 1]) return false;
  }
  return true;
}
