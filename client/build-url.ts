import { FORMAT_ALIASES, type ExplicitFormat } from '../core/formats.ts';
import { formatImagePath, isImageId, parseImagePath, PATH_PREFIX, type ImagePath } from '../core/image-path.ts';
import { normalizeQuery, snapUp } from '../core/normalize.ts';
import { publicPolicyProblems, type PublicPolicy } from '../core/public-policy.ts';
import { FITS, type Fit } from '../core/variant.ts';
import { urlError } from './errors.ts';

export type { Fit } from '../core/variant.ts';

/** `auto` lets the edge pick AVIF, WebP or `legacy` (JPEG, or PNG with transparency) from the browser's Accept. */
export type Format = 'auto' | 'legacy' | ExplicitFormat;

export interface ImageOptions {
  /** Width in pixels: one of the tenant's breakpoints (or any positive integer with `snap`). */
  readonly width?: number;
  /** Height in pixels: one of the tenant's breakpoints (or any positive integer with `snap`). */
  readonly height?: number;
  /** How a width and a height both given are met; only with both. @default 'cover' when both are given */
  readonly fit?: Fit;
  /** @default 'auto' */
  readonly format?: Format;
  /** One of the tenant's qualities (or 1 to 100 with `snap`); not with `png`. @default the tenant's defaultQuality */
  readonly quality?: number;
  /** The published version to name (`/v{n}`): an immutable URL. @default the version in `src`, else unversioned */
  readonly version?: number;
  /**
   * What to do with a width, height or quality the tenant does not list.
   * `false` throws, naming the value the edge would serve instead; `true` applies
   * the edge's own rule (the smallest listed value at or above it, the largest when
   * above them all) and writes the result into the URL, so the URL says what is served.
   * @default false
   */
  readonly snap?: boolean;
}

/**
 * The URL of a variant, with exactly the canonical query the edge forwards, so
 * that nothing is snapped or dropped behind the app's back: with an explicit
 * format the viewer function forwards this query unchanged; with `auto` it only
 * replaces `fmt=auto` by the format it negotiates.
 *
 * `src` is an image id (`sku-42`, under `policy.tenant`), a path
 * (`/img/shop/sku-42`, `/img/shop/sku-42/v3`) or an absolute URL whose path is one.
 * The result starts with the URL's own origin, else `policy.baseUrl`, else `/img/`.
 *
 * @example buildUrl(policy, 'sku-42', { width: 640, format: 'webp' }) // 'https://images.example.com/img/shop/sku-42?fmt=webp&q=75&w=640'
 * @throws {PictorUrlError} InvalidParameter for a value the edge would refuse or change
 *   (the message names what it would serve), FormatNotAllowed for a format the tenant
 *   does not enable, InvalidPath for a src that names no image of this tenant.
 */
export function buildUrl(policy: PublicPolicy, src: string, options: ImageOptions = {}): string {
  const target = parseSrc(policy, src, options.version);
  return target.prefix + formatImagePath(target.path) + '?' + canonicalQuery(policy, options);
}

/**
 * The canonical query of a variant, as `buildUrl` writes it (`fmt=auto&q=75&w=640`).
 * @throws {PictorUrlError} as buildUrl does
 */
export function canonicalQuery(policy: PublicPolicy, options: ImageOptions = {}): string {
  const pairs: [string, string][] = [];
  const width = dimension('width', options.width);
  const height = dimension('height', options.height);
  const quality = dimension('quality', options.quality);
  if (quality !== undefined && quality > 100) throw invalid('an integer from 1 to 100', 'quality', quality);
  if (width !== undefined) pairs.push(['w', String(width)]);
  if (height !== undefined) pairs.push(['h', String(height)]);
  if (quality !== undefined) pairs.push(['q', String(quality)]);
  if (options.fit !== undefined) {
    if (width === undefined || height === undefined) {
      throw urlError('InvalidParameter', 'fit applies only when both width and height are given; the edge drops it otherwise. Remove fit, or give both.');
    }
    if (FITS.indexOf(options.fit) < 0) throw invalid('one of ' + FITS.join(', '), 'fit', options.fit);
    pairs.push(['fit', options.fit]);
  }
  if (options.format !== undefined) {
    // Only canonical spellings: the URL then says exactly what the edge keys on.
    if (typeof options.format !== 'string' || FORMAT_ALIASES[options.format] !== options.format) {
      throw invalid('one of auto, legacy, avif, webp, jpeg, png', 'format', options.format);
    }
    pairs.push(['fmt', options.format]);
  }
  if (options.format === 'png' && quality !== undefined) {
    throw urlError('InvalidParameter', 'PNG is lossless: the edge drops quality for it. Remove quality, or choose another format.');
  }
  const result = normalizeQuery(pairs, policy, undefined);
  if (!result.ok) {
    const hint = result.code === 'FormatNotAllowed' ? ' Tenant ' + policy.tenant + ' enables ' + policy.formats.join(', ') + ' (and auto, legacy).' : '';
    throw urlError(result.code, result.message + hint);
  }
  const spec = result.normalized.spec;
  if (!options.snap) {
    // What the edge would serve instead, found by the edge's own normalizer.
    notSnapped('width', width, spec.w, policy.breakpoints, 'breakpoints');
    notSnapped('height', height, spec.h, policy.breakpoints, 'breakpoints');
    notSnapped('quality', quality, spec.q, policy.qualities, 'qualities');
  }
  return result.normalized.signedQuery;
}

/** The edge's rule for a width or height: the smallest breakpoint at or above `px`, the largest when above them all. */
export function snapToBreakpoint(policy: Pick<PublicPolicy, 'breakpoints'>, px: number): number {
  return snapUp(px, policy.breakpoints) as number;
}

/** The edge's rule for a quality: the smallest listed quality at or above `quality`, the largest when above them all. */
export function snapToQuality(policy: Pick<PublicPolicy, 'qualities'>, quality: number): number {
  return snapUp(quality, policy.qualities) as number;
}

/**
 * Checks a value read as a public policy (from JSON, say) and returns it typed.
 * @throws {PictorUrlError} InvalidPolicy, one line per problem
 */
export function readPublicPolicy(value: unknown): PublicPolicy {
  const problems = publicPolicyProblems(value);
  if (problems.length > 0) throw urlError('InvalidPolicy', 'Not a Pictor public policy:\n  ' + problems.join('\n  '));
  return value as PublicPolicy;
}

/** A URL's scheme and host (`https://images.example.com`), or a protocol-relative `//images.example.com`. */
const ORIGIN = /^([a-z][a-z0-9+.-]*:)?\/\/[^/?#]*/i;

/** Where the URL goes and which image it names. */
function parseSrc(policy: PublicPolicy, src: string, version?: number): { prefix: string; path: ImagePath } {
  if (typeof src !== 'string' || src === '') throw urlError('InvalidPath', "Expected an image id, /img/{tenant}/{id} or a URL for src but received '" + String(src) + "'.");
  if (src.indexOf('?') >= 0 || src.indexOf('#') >= 0) {
    throw urlError('InvalidPath', "src '" + src + "' carries a query: pass width, format and the rest as options, so that the URL carries the canonical query.");
  }
  let prefix = policy.baseUrl || '';
  let path = src;
  if (isImageId(src)) {
    path = PATH_PREFIX + policy.tenant + '/' + src;
  } else {
    const origin = ORIGIN.exec(src);
    if (origin) {
      prefix = origin[0];
      path = src.slice(prefix.length);
    }
  }
  const parsed = parseImagePath(path);
  if (!parsed.ok) {
    const why = parsed.code === 'NotFound' ? 'Expected /img/{tenant}/{id} or /img/{tenant}/{id}/v{n}.' : parsed.message;
    throw urlError('InvalidPath', "src '" + src + "' names no Pictor image: " + why);
  }
  if (parsed.path.tenant !== policy.tenant) {
    throw urlError('InvalidPath', "src '" + src + "' is an image of tenant " + parsed.path.tenant + ', but this policy is tenant ' + policy.tenant + "'s: use that tenant's policy.");
  }
  if (version === undefined) return { prefix: prefix, path: parsed.path };
  if (!Number.isInteger(version) || version < 1 || version > 999999999) throw invalid('a positive integer', 'version', version);
  if (parsed.path.version !== undefined && parsed.path.version !== version) {
    throw urlError('InvalidPath', "src '" + src + "' names version " + parsed.path.version + ' and the options version ' + version + ': give one.');
  }
  return { prefix: prefix, path: { tenant: parsed.path.tenant, imageId: parsed.path.imageId, version: version } };
}

function dimension(name: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 999999999) throw invalid('a positive integer', name, value);
  return value;
}

function notSnapped(name: string, asked: number | undefined, served: number | undefined, allowed: readonly number[], list: string): void {
  if (asked === undefined || asked === served) return;
  throw urlError(
    'InvalidParameter',
    name + ' ' + asked + ' is not one of the tenant\'s ' + list + ' (' + allowed.join(', ') + '): the edge would serve ' + served + '. Ask for ' + served + ', or pass snap: true to get it in the URL.',
  );
}

function invalid(expected: string, name: string, received: unknown): Error {
  return urlError('InvalidParameter', 'Expected ' + expected + ' for ' + name + " but received '" + String(received) + "'.");
}
