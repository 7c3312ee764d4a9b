import { FORMAT_ALIASES } from '../core/formats.ts';
import { snapUp } from '../core/normalize.ts';
import type { PublicPolicy } from '../core/public-policy.ts';
import { buildUrl, type Fit, type Format } from './build-url.ts';
import { urlError } from './errors.ts';

/**
 * The operations an unpic component passes a transformer (unpic's `Operations`:
 * width, height, format, quality, as numbers or strings), plus Pictor's `fit`.
 */
export interface PictorOperations {
  width?: number | string;
  height?: number | string;
  /**
   * A Pictor format, or `jpg`; unpic sets it from a `<Source type>`. One the tenant does
   * not serve (`gif`, or a format not in `policy.formats`) asks for `auto` instead.
   */
  format?: Format | 'jpg' | (string & {});
  quality?: number | string;
  fit?: Fit;
}

/** The `options` prop of an unpic component that uses this transformer. */
export interface PictorUnpicOptions {
  /** The published version to name (`/v{n}`). */
  version?: number;
}

/** Fits @unpic/core's `TransformerFunction<PictorOperations, PictorUnpicOptions>`. */
export type PictorTransformer = (src: string | URL, operations: PictorOperations, options?: PictorUnpicOptions) => string;

/**
 * A transformer for unpic's components (`@unpic/react/base`, vue, svelte, solid,
 * astro): `<Image transformer={transformer} breakpoints={policy.breakpoints} .../>`.
 *
 * unpic writes each srcset descriptor from the width it asks for: pass the tenant's
 * breakpoints as `breakpoints` and every URL serves exactly that width. Without them
 * unpic asks for its own widths (and for fixed layouts 1x and 2x of the width); the
 * transformer then snaps each by the edge's rule (the smallest breakpoint at or above
 * it), written into the URL, so the image shows right but descriptors understate it.
 * A height first scales with the width's snap (keeping width:height), then snaps up to a
 * breakpoint too: the variant can be a little taller than the box, which unpic's
 * `object-fit: cover` trims (the framing then tightens by at most one breakpoint step).
 * A quality snaps up to the tenant's qualities. `fit` applies only with both a width and
 * a height, and is dropped otherwise, as the edge drops it (`layout: 'fullWidth'` gives no
 * height). A format the tenant does not serve (a `<Source type="image/gif">`) asks for `auto`.
 *
 * @throws {PictorUrlError} SignatureRequired when the tenant requires signed URLs (sign on
 *   the server); the transformer throws as buildUrl does for a src that is not this
 *   tenant's image, and InvalidParameter for a width, height or quality that is no number
 */
export function unpicTransformer(policy: PublicPolicy): PictorTransformer {
  if (policy.signed) {
    throw urlError('SignatureRequired', 'Tenant ' + policy.tenant + ' requires signed URLs, and an unpic component also renders in the browser, where no signing key may be. Sign the URLs on the server (pictor/signer).');
  }
  return function transformPictorImage(src: string | URL, operations: PictorOperations, options?: PictorUnpicOptions): string {
    const asked = integer('width', operations.width);
    const width = asked === undefined ? undefined : snapUp(asked, policy.breakpoints);
    let height = integer('height', operations.height);
    // The height follows the width's snap, so the variant keeps the box's proportions as near as breakpoints allow.
    if (height !== undefined && asked !== undefined) height = Math.ceil(((width as number) * height) / asked);
    return buildUrl(policy, String(src), {
      width: width,
      height: height,
      // As the edge does: fit means nothing without both sides (unpic's fullWidth layout gives no height).
      fit: width !== undefined && height !== undefined ? operations.fit : undefined,
      format: offeredFormat(policy, operations.format),
      quality: integer('quality', operations.quality),
      version: options ? options.version : undefined,
      snap: true,
    });
  };
}

/**
 * The format to ask for: unpic sets one from `<Source type>`, which may be one the tenant
 * does not serve (`image/gif`, or `image/avif` for a tenant without AVIF). A throw there
 * would break the page's render, so such a source asks for `auto` instead: the edge then
 * picks the best of the tenant's formats that the browser accepts, and the image shows.
 */
function offeredFormat(policy: PublicPolicy, format: string | undefined): Format | undefined {
  if (format === undefined || format === '') return undefined;
  const name = FORMAT_ALIASES[String(format).toLowerCase()];
  if (name === undefined) return 'auto';
  if (name === 'auto' || name === 'legacy') return name;
  return policy.formats.indexOf(name) >= 0 ? name : 'auto';
}

/** unpic hands widths as numbers or numeric strings, and heights as width / aspect ratio, rounded. */
function integer(name: string, value: number | string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = typeof value === 'number' ? value : Number(value);
  if (!isFinite(n) || n <= 0) throw urlError('InvalidParameter', 'Expected a positive number for ' + name + " but received '" + String(value) + "'.");
  return Math.ceil(n);
}
