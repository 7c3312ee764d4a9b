import { fail, type Failure, type Result } from './error-codes.ts';
import { FORMAT_ALIASES, negotiateFormat, type ExplicitFormat, type RequestedFormat } from './formats.ts';
import type { TenantPolicy } from './tenant-policy.ts';
import { FITS, variantQuery, type Fit, type RequestedSpec, type VariantSpec } from './variant.ts';

/** Query parameters as received: names and values, in order, not decoded. */
export type QueryPairs = ReadonlyArray<readonly [string, string]>;

/** One query parameter as CloudFront passes it; the shape of a CloudFront Functions `CfValue`. */
export interface QueryValue {
  readonly value: string;
  /** Present when a name repeats; `value` then holds the first one. */
  readonly multiValue?: ReadonlyArray<{ readonly value: string }>;
}

/** A query as a CloudFront Function receives it: values by name. */
export type QueryValues = { readonly [name: string]: QueryValue };

/** Flattens CloudFront's query object into pairs, keeping every repeated value. */
export function queryPairs(querystring: QueryValues | string): QueryPairs {
  const pairs: [string, string][] = [];
  if (typeof querystring === 'string') {
    const parts = querystring ? querystring.split('&') : [];
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i] as string;
      const eq = part.indexOf('=');
      pairs.push(eq < 0 ? [part, ''] : [part.slice(0, eq), part.slice(eq + 1)]);
    }
    return pairs;
  }
  const names = Object.keys(querystring);
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as string;
    const entry = querystring[name] as QueryValue;
    const values = entry.multiValue;
    if (!values) {
      pairs.push([name, entry.value]);
      continue;
    }
    for (let j = 0; j < values.length; j++) pairs.push([name, (values[j] as { value: string }).value]);
  }
  return pairs;
}

export interface SignatureParams {
  /** Expiry, in seconds since the epoch. */
  readonly exp: number;
  readonly kid: string;
  readonly sig: string;
}

export interface NormalizedQuery {
  /** The variant to serve, with the format resolved. */
  readonly spec: VariantSpec;
  /** Canonical query of `spec`: the only query string that reaches the cache key. */
  readonly query: string;
  /** Canonical query before `fmt=auto` is resolved: what a signature covers. */
  readonly signedQuery: string;
  readonly signature?: SignatureParams;
}

/** Parameters that shape a variant, in canonical (alphabetical) order. */
export const VARIANT_PARAMS = ['fit', 'fmt', 'h', 'q', 'w'] as const;
export const SIGNATURE_PARAMS = ['exp', 'kid', 'sig'] as const;

const POSITIVE_INT = /^[0-9]{1,9}$/;
const EXPIRY = /^[0-9]{1,12}$/;
/** A signing key's id: in a signed URL's `kid`, the tenants file and the key stores alike. */
export const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
const SIGNATURE = /^[A-Za-z0-9_-]{16,128}$/;
const MAX_QUALITY = 100;

type Collected = { [name: string]: string | number };

/** What normalizing a query reads of a tenant's policy: the client SDK holds no more than this. */
export type NormalizingPolicy = Pick<TenantPolicy, 'breakpoints' | 'qualities' | 'defaultQuality' | 'formats'>;

/**
 * Turns a request's query into its canonical variant. Unknown parameters are
 * dropped; known ones are validated, snapped to the tenant's allowed values and
 * written back in canonical order. Normalizing a normalized query changes nothing.
 */
export function normalizeQuery(
  pairs: QueryPairs,
  policy: NormalizingPolicy,
  accept: string | undefined,
): Result<{ normalized: NormalizedQuery }> {
  const seen: Collected = {};
  for (let i = 0; i < pairs.length; i++) {
    const pair = pairs[i] as readonly [string, string];
    const name = pair[0].toLowerCase();
    const parsed = parseParam(name, pair[1]);
    if (parsed === undefined) continue;
    if (typeof parsed === 'object') return parsed;
    const previous = seen[name];
    if (previous !== undefined && previous !== parsed) {
      return fail('ConflictingParameter', 'Parameter ' + name + ' is repeated with different values.');
    }
    seen[name] = parsed;
  }

  const requested = resolveSpec(seen, policy);
  if (!requested.ok) return requested;
  const spec = requested.spec;
  const fmt = spec.fmt === 'auto' ? negotiateFormat(accept, policy.formats) : spec.fmt;
  const resolved: VariantSpec = {
    w: spec.w,
    h: spec.h,
    fit: spec.fit,
    fmt: fmt,
    q: fmt === 'png' ? undefined : spec.q,
  };
  const normalized: NormalizedQuery = {
    spec: withoutUndefined(resolved),
    query: variantQuery(resolved),
    signedQuery: variantQuery(spec),
    signature: signatureOf(seen),
  };
  return { ok: true, normalized: normalized };
}

/** Parses one parameter: undefined for unknown names, a Failure for bad values. */
function parseParam(name: string, raw: string): string | number | Failure | undefined {
  switch (name) {
    case 'w':
    case 'h':
    case 'q':
      if (!POSITIVE_INT.test(raw) || parseInt(raw, 10) === 0) {
        return invalid(name, 'a positive integer', raw);
      }
      return parseInt(raw, 10);
    case 'fit': {
      const fit = raw.toLowerCase();
      return FITS.indexOf(fit as Fit) >= 0 ? fit : invalid(name, 'one of ' + FITS.join(', '), raw);
    }
    case 'fmt': {
      const fmt = FORMAT_ALIASES.hasOwnProperty(raw.toLowerCase()) ? FORMAT_ALIASES[raw.toLowerCase()] : undefined;
      return fmt !== undefined ? fmt : invalid(name, 'one of ' + Object.keys(FORMAT_ALIASES).join(', '), raw);
    }
    case 'exp':
      return EXPIRY.test(raw) ? parseInt(raw, 10) : invalid(name, 'a time in epoch seconds', raw);
    case 'kid':
      return KEY_ID_PATTERN.test(raw) ? raw : invalid(name, 'a key id', raw);
    case 'sig':
      return SIGNATURE.test(raw) ? raw : invalid(name, 'a base64url signature', raw);
    default:
      return undefined;
  }
}

function resolveSpec(seen: Collected, policy: NormalizingPolicy): Result<{ spec: RequestedSpec }> {
  const fmt = (seen.fmt as RequestedFormat | undefined) || 'auto';
  if (fmt !== 'auto' && fmt !== 'legacy' && policy.formats.indexOf(fmt as ExplicitFormat) < 0) {
    return fail('FormatNotAllowed', 'Format ' + fmt + ' is not enabled for this tenant.');
  }
  const q = seen.q as number | undefined;
  if (q !== undefined && q > MAX_QUALITY) return invalid('q', 'an integer from 1 to 100', String(q));
  const w = snapUp(seen.w as number | undefined, policy.breakpoints);
  const h = snapUp(seen.h as number | undefined, policy.breakpoints);
  const both = w !== undefined && h !== undefined;
  const spec: RequestedSpec = {
    w: w,
    h: h,
    fit: both ? ((seen.fit as Fit | undefined) || 'cover') : undefined,
    fmt: fmt,
    q: fmt === 'png' ? undefined : snapUp(q, policy.qualities) || policy.defaultQuality,
  };
  return { ok: true, spec: withoutUndefined(spec) };
}

function signatureOf(seen: Collected): SignatureParams | undefined {
  if (seen.exp === undefined || seen.kid === undefined || seen.sig === undefined) return undefined;
  return { exp: seen.exp as number, kid: seen.kid as string, sig: seen.sig as string };
}

/** The smallest allowed value at or above `value`; the largest when above them all. */
export function snapUp(value: number | undefined, allowed: readonly number[]): number | undefined {
  if (value === undefined) return undefined;
  for (let i = 0; i < allowed.length; i++) {
    if ((allowed[i] as number) >= value) return allowed[i];
  }
  return allowed[allowed.length - 1];
}

function invalid(name: string, expected: string, raw: string): Failure {
  const shown = raw.length > 32 ? raw.slice(0, 32) + '...' : raw;
  return fail('InvalidParameter', 'Expected ' + expected + ' for ' + name + " but received '" + shown + "'.");
}

function withoutUndefined<T extends object>(value: T): T {
  const out: { [key: string]: unknown } = {};
  const keys = Object.keys(value);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    const item = (value as { [key: string]: unknown })[key];
    if (item !== undefined) out[key] = item;
  }
  return out as T;
}
