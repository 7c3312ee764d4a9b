import { snapUp } from '../core/normalize.ts';
import type { PublicPolicy } from '../core/public-policy.ts';
import { buildUrl, type ImageOptions } from './build-url.ts';
import { urlError } from './errors.ts';

/**
 * - `fixed`: the image always shows `width` CSS pixels wide; the srcset has density
 *   descriptors (`1x`, `2x`) and `sizes` is not needed.
 * - `responsive`: the image shows as wide as its box (at most `width`, when given); the
 *   srcset has width descriptors (`640w`) and `sizes` tells the browser the box's width.
 */
export type Layout = 'fixed' | 'responsive';

export interface SrcsetOptions extends Omit<ImageOptions, 'width' | 'height' | 'snap'> {
  /** CSS pixels: the width shown (`fixed`) or the widest it is shown (`responsive`). Required for `fixed`. */
  readonly width?: number;
  /** CSS pixels at `width`: each candidate's height keeps this ratio before it snaps. Needs `width`. */
  readonly height?: number;
  /** @default 'responsive' */
  readonly layout?: Layout;
  /**
   * Device pixel ratios to serve. `fixed` writes one candidate per density; `responsive`
   * offers breakpoints up to `width` times the largest.
   * @default [1, 2] (beyond 2x the eye sees no more detail and bytes grow fast)
   */
  readonly densities?: readonly number[];
}

export interface SrcsetCandidate {
  readonly url: string;
  /** The width the URL serves, in pixels: always one of the tenant's breakpoints. */
  readonly width: number;
  /** `2x` or `640w`. */
  readonly descriptor: string;
}

/**
 * A `srcset` from the tenant's breakpoints, every URL canonical (see `buildUrl`).
 * Each candidate's width is a breakpoint, picked by the edge's rule: `fixed` serves
 * density d at the smallest breakpoint at or above width × d (the largest when above
 * them all; a density that lands on the same breakpoint as a smaller one is left
 * out); `responsive` lists every breakpoint up to the one that covers width × the
 * largest density (all of them without a width). A height scales with each
 * candidate's width and snaps up to a breakpoint too, so a candidate may be a little
 * taller than the box: show it with `object-fit: cover`.
 *
 * @example srcset(policy, 'sku-42', { width: 300, layout: 'fixed' }) // '.../sku-42?fmt=auto&q=75&w=320 1x, .../sku-42?fmt=auto&q=75&w=640 2x'
 * @throws {PictorUrlError} as buildUrl does, and InvalidParameter for a layout without the width it needs
 */
export function srcset(policy: PublicPolicy, src: string, options: SrcsetOptions = {}): string {
  return srcsetCandidates(policy, src, options)
    .map((c) => c.url + ' ' + c.descriptor)
    .join(', ');
}

/** The candidates of `srcset`, smallest first, for frameworks that want them apart. */
export function srcsetCandidates(policy: PublicPolicy, src: string, options: SrcsetOptions = {}): SrcsetCandidate[] {
  const layout = options.layout || 'responsive';
  const densities = options.densities || [1, 2];
  const width = options.width;
  if (layout !== 'fixed' && layout !== 'responsive') throw urlError('InvalidParameter', "Expected 'fixed' or 'responsive' for layout but received '" + String(layout) + "'.");
  if (densities.length === 0 || densities.some((d) => typeof d !== 'number' || !(d > 0) || !isFinite(d))) {
    throw urlError('InvalidParameter', 'Expected positive numbers for densities but received [' + densities.join(', ') + '].');
  }
  if (width !== undefined && (!Number.isInteger(width) || width < 1)) throw urlError('InvalidParameter', "Expected a positive integer for width but received '" + String(width) + "'.");
  if (options.height !== undefined && width === undefined) throw urlError('InvalidParameter', 'height needs width: a candidate\'s height follows its width.');
  const ratio = options.height === undefined || width === undefined ? undefined : options.height / width;
  const candidate = (w: number, descriptor: string): SrcsetCandidate => {
    const h = ratio === undefined ? undefined : snapUp(Math.ceil(w * ratio), policy.breakpoints);
    return { url: buildUrl(policy, src, { ...variantOptions(options), width: w, height: h }), width: w, descriptor: descriptor };
  };
  if (layout === 'fixed') {
    if (width === undefined) throw urlError('InvalidParameter', "layout 'fixed' needs width: the CSS pixels the image is shown at.");
    const out: SrcsetCandidate[] = [];
    const sorted = densities.slice().sort((a, b) => a - b);
    for (let i = 0; i < sorted.length; i++) {
      const w = snapUp(Math.ceil(width * (sorted[i] as number)), policy.breakpoints) as number;
      if (out.length > 0 && (out[out.length - 1] as SrcsetCandidate).width === w) continue;
      out.push(candidate(w, sorted[i] + 'x'));
    }
    return out;
  }
  const cap = width === undefined ? Infinity : (snapUp(Math.ceil(width * Math.max.apply(null, densities as number[])), policy.breakpoints) as number);
  return policy.breakpoints.filter((b) => b <= cap).map((b) => candidate(b, b + 'w'));
}

/**
 * The `sizes` attribute that goes with a `srcset`: how wide the image's box is.
 * `fixed`: `{width}px`; `responsive` with a width: `(min-width: {width}px) {width}px, 100vw`
 * (as wide as the viewport until the viewport is wider than width); without: `100vw`.
 * A box narrower than the viewport (a column, a grid cell) deserves a `sizes` of its own,
 * such as `(min-width: 1024px) 33vw, 100vw`: the browser then picks a smaller candidate.
 */
export function sizes(options: Pick<SrcsetOptions, 'width' | 'layout'> = {}): string {
  if (options.layout === 'fixed') {
    if (options.width === undefined) throw urlError('InvalidParameter', "layout 'fixed' needs width: the CSS pixels the image is shown at.");
    return options.width + 'px';
  }
  return options.width === undefined ? '100vw' : '(min-width: ' + options.width + 'px) ' + options.width + 'px, 100vw';
}

function variantOptions(options: SrcsetOptions): ImageOptions {
  return { fit: options.fit, format: options.format, quality: options.quality, version: options.version };
}
