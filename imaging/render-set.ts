import sharp, { type Metadata } from 'sharp';
import { PictorError } from '../core/errors.ts';
import type { VariantSpec } from '../core/variant.ts';
import { encode, inspectOriginal, outputFormat, primaryPage, renderedVariant, renderVariant, vectorDensity, type RenderLimits, type RenderedVariant } from './render.ts';

export interface RenderedSpec {
  readonly spec: VariantSpec;
  readonly variant: RenderedVariant;
}

interface RawLevel {
  readonly data: Buffer;
  readonly info: { width: number; height: number; channels: 1 | 2 | 3 | 4 };
}

/**
 * Renders a set of width-only variants from one decode: the original is decoded
 * once, oriented and converted to sRGB at the largest width, and each smaller
 * width is resized from the level above it (a cascade), then encoded per format.
 * Decoding dominates a photo's cost, so this beats one pipeline per variant.
 * Animated originals keep their frames through the per-variant path instead; a
 * multi-item HEIF/AVIF is a still (see animationFrames) and takes this path.
 * @throws {PictorError} ImageTooLarge or UnprocessableImage, as renderVariant does
 */
export async function renderVariantSet(original: Buffer, specs: readonly VariantSpec[], limits: RenderLimits): Promise<RenderedSpec[]> {
  const { metadata, frames } = await inspectOriginal(original, limits, specs.some((s) => s.fmt === 'webp'));
  if (frames > 1 || specs.some((s) => s.w === undefined || s.h !== undefined)) {
    const out: RenderedSpec[] = [];
    for (const spec of specs) out.push({ spec, variant: await renderVariant(original, spec, limits) });
    return out;
  }
  const widths = [...new Set(specs.map((s) => s.w as number))].sort((a, b) => b - a);
  const rendered: RenderedSpec[] = [];
  try {
    let level = await decodeOnce(original, widths[0]!, limits, metadata);
    // Heights come from the original's aspect, not the level above, so a cascaded
    // variant has exactly the size a direct render would.
    const oriented = metadata.autoOrient ?? { width: metadata.width!, height: metadata.height! };
    for (const width of widths) {
      if (width < level.info.width) level = await downscale(level, width, Math.max(1, Math.round((oriented.height * width) / oriented.width)));
      const atWidth = specs.filter((s) => s.w === width);
      const encoded = await Promise.all(atWidth.map((spec) => encodeLevel(level, spec, limits.avifEffort)));
      atWidth.forEach((spec, i) => rendered.push({ spec, variant: encoded[i]! }));
    }
  } catch (error) {
    if (error instanceof PictorError) throw error;
    throw new PictorError('UnprocessableImage', 'The original could not be decoded.', { cause: error });
  }
  return rendered;
}

async function decodeOnce(original: Buffer, width: number, limits: RenderLimits, metadata: Metadata): Promise<RawLevel> {
  const svg = metadata.format === 'svg';
  const density = svg ? vectorDensity(metadata, { w: width }, limits.maxDimension) : undefined;
  const { data, info } = await sharp(original, { failOn: 'error', limitInputPixels: limits.maxInputPixels, density, page: primaryPage(metadata) })
    .autoOrient()
    .resize({ width, withoutEnlargement: !svg })
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, info: { width: info.width, height: info.height, channels: info.channels } };
}

async function downscale(level: RawLevel, width: number, height: number): Promise<RawLevel> {
  const { data, info } = await sharp(level.data, { raw: level.info }).resize({ width, height, fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
  return { data, info: { width: info.width, height: info.height, channels: info.channels } };
}

async function encodeLevel(level: RawLevel, spec: VariantSpec, avifEffort: number): Promise<RenderedVariant> {
  const format = outputFormat(spec, level.info.channels === 2 || level.info.channels === 4);
  const pipeline = sharp(level.data, { raw: level.info });
  encode(pipeline, format, spec.q, avifEffort);
  const { data, info } = await pipeline.toBuffer({ resolveWithObject: true });
  return renderedVariant(data, format, info.width, info.height);
}
