import { EXPLICIT_FORMATS } from './formats.ts';
import { isTenantId } from './image-path.ts';
import type { TenantPolicy } from './tenant-policy.ts';

/**
 * The part of a tenant's policy a front end may know: enough to build the exact
 * URLs the edge serves (breakpoints, qualities, formats) and to know whether they
 * must be signed. Never a secret, never the sites the tenant allows.
 * The client SDK (`pictor/client`) reads it; `publicPolicyOf` derives it.
 */
export interface PublicPolicy extends Pick<TenantPolicy, 'breakpoints' | 'qualities' | 'defaultQuality' | 'formats' | 'signed' | 'maxSignedTtl'> {
  /** The tenant whose images these URLs name: `/img/{tenant}/...`. */
  readonly tenant: string;
  /**
   * Where the distribution answers, such as `https://images.example.com`, with no
   * path and no trailing slash; URLs are root-relative (`/img/...`) without it.
   * @default '' (root-relative)
   */
  readonly baseUrl?: string;
}

/** A tenant's public policy, from the policy the edge holds for it. */
export function publicPolicyOf(tenant: string, policy: TenantPolicy, baseUrl?: string): PublicPolicy {
  return {
    tenant: tenant,
    ...(baseUrl ? { baseUrl: baseUrl.replace(/\/+$/, '') } : {}),
    breakpoints: policy.breakpoints.slice(),
    qualities: policy.qualities.slice(),
    defaultQuality: policy.defaultQuality,
    formats: policy.formats.slice(),
    signed: policy.signed,
    maxSignedTtl: policy.maxSignedTtl,
  };
}

const PUBLIC_KEYS: readonly string[] = ['tenant', 'baseUrl', 'breakpoints', 'qualities', 'defaultQuality', 'formats', 'signed', 'maxSignedTtl'] satisfies (keyof PublicPolicy)[];
const BASE_URL = /^https?:\/\/[^/?#\s]+$/;

/**
 * What is wrong with a value read as a public policy (from a JSON file, say), one
 * line per problem in the "Expected X for Y but received Z" form; empty when it is one.
 */
export function publicPolicyProblems(value: unknown): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [expected('an object', 'the policy', value)];
  const p = value as { [key: string]: unknown };
  const problems: string[] = [];
  // Strict, as the tenants file is: a tenant's whole entry (its keys included) is not a public policy.
  const unknown = Object.keys(p).filter((key) => PUBLIC_KEYS.indexOf(key) < 0);
  if (unknown.length > 0) {
    problems.push('Expected only ' + PUBLIC_KEYS.join(', ') + ' but received also ' + unknown.join(', ') + ': make the policy with publicPolicyFromConfig (pictor/signer) or `pictor tenants policy`, which leave secrets out.');
  }
  if (typeof p.tenant !== 'string' || !isTenantId(p.tenant)) problems.push(expected('a tenant id (3 to 32 of a-z 0-9 -)', 'tenant', p.tenant));
  if (p.baseUrl !== undefined && p.baseUrl !== '' && (typeof p.baseUrl !== 'string' || !BASE_URL.test(p.baseUrl))) {
    problems.push(expected("an origin such as 'https://images.example.com' (no path)", 'baseUrl', p.baseUrl));
  }
  // 8192 is tenant-config's MAX_DIMENSION, not imported: that module brings zod (the tests tie the two).
  if (!isAscending(p.breakpoints, 8192)) problems.push(expected('ascending integers from 1 to 8192', 'breakpoints', p.breakpoints));
  if (!isAscending(p.qualities, 100)) problems.push(expected('ascending integers from 1 to 100', 'qualities', p.qualities));
  else if ((p.qualities as number[]).indexOf(p.defaultQuality as number) < 0) problems.push(expected('one of qualities', 'defaultQuality', p.defaultQuality));
  const formats = p.formats;
  if (!Array.isArray(formats) || formats.length === 0 || formats.some((f) => EXPLICIT_FORMATS.indexOf(f) < 0)) {
    problems.push(expected('a non-empty list of ' + EXPLICIT_FORMATS.join(', '), 'formats', formats));
  }
  if (typeof p.signed !== 'boolean') problems.push(expected('true or false', 'signed', p.signed));
  if (typeof p.maxSignedTtl !== 'number' || !Number.isInteger(p.maxSignedTtl) || p.maxSignedTtl < 1) {
    problems.push(expected('a positive number of seconds', 'maxSignedTtl', p.maxSignedTtl));
  }
  return problems;
}

function isAscending(value: unknown, max: number): boolean {
  if (!Array.isArray(value) || value.length === 0) return false;
  for (let i = 0; i < value.length; i++) {
    const v = value[i];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) return false;
    if (i > 0 && v <= value[i - 1]) return false;
  }
  return true;
}

function expected(what: string, name: string, received: unknown): string {
  let shown: string;
  try {
    shown = JSON.stringify(received) ?? String(received);
  } catch {
    shown = String(received);
  }
  return 'Expected ' + what + ' for ' + name + ' but received ' + (shown.length > 60 ? shown.slice(0, 60) + '...' : shown) + '.';
}
