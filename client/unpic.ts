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
  /** A Pictor format, or `jpg`; unpic sets it from a `<Source type>`. */
  format?: Format | 'jpg';
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
 * A quality snaps up to the tenant's qualities.
 *
 * @throws {PictorUrlError} SignatureRequired when the tenant requires signed URLs (sign on
 *   the server), and as buildUrl does for a src or format the tenant does not have
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
      fit: operations.fit,
      format: operations.format === 'jpg' ? 'jpeg' : operations.format,
      quality: integer('quality', operations.quality),
      version: options ? options.version : undefined,
      snap: true,
    });
  };
}

/** unpic hands widths as numbers or numeric strings, and heights as width / aspect ratio, rounded. */
function integer(name: string, value: number | string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = typeof value === 'number' ? value : Number(value);
  if (!isFinite(n) || n <= 0) throw urlError('InvalidParameter', 'Expected a positive number for ' + name + " but received '" + String(value) + "'.");
  return Math.ceil(n);
}
