/** The sharp renderer, shared by the origin-request function and the pipeline's tasks. */
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import sharp, { type Metadata, type ResizeOptions, type Sharp } from 'sharp';
import { PictorError } from '../core/errors.ts';
import type { ExplicitFormat } from '../core/formats.ts';
import type { VariantSpec } from '../core/variant.ts';
import type { RenderLimits } from './render-limits.ts';

// sharp reports 1 thread here unless told (shared/LOCAL_STACK.md).
sharp.concurrency(availableParallelism());

export { DEFAULT_RENDER_LIMITS, type RenderLimits } from './render-limits.ts';

export interface RenderedVariant {
  readonly body: Buffer;
  readonly contentType: string;
  readonly format: ExplicitFormat;
  readonly width: number;
  readonly height: number;
  /** A quoted MD5 of the body: what S3 reports as the ETag of the same bytes. */
  readonly etag: string;
}

export const CONTENT_TYPES: Record<ExplicitFormat, string> = {
  avif: 'image/avif',
  webp: 'image/webp',
  jpeg: 'image/jpeg',
  png: 'image/png',
};

/**
 * Renders one variant: auto-oriented from EXIF, converted to sRGB, metadata
 * stripped, never enlarged. The header is checked against the limits before any
 * pixel is decoded, so a decompression bomb costs a header read.
 * @throws {PictorError} ImageTooLarge over a limit; UnprocessableImage when the
 *   original cannot be decoded (truncated, corrupt, not an image).
 */
export async function renderVariant(original: Buffer, spec: VariantSpec, limits: RenderLimits): Promise<RenderedVariant> {
  const { metadata, frames } = await inspectOriginal(original, limits, spec.fmt === 'webp');
  const animate = frames > 1 && spec.fmt === 'webp';
  const format = outputFormat(spec, metadata.hasAlpha ?? false);

  try {
    const pipeline = sharp(original, {
      // 'error' rejects truncated and corrupt data without failing on benign warnings.
      failOn: 'error',
      limitInputPixels: limits.maxInputPixels,
      animated: animate,
      page: animate ? undefined : primaryPage(metadata),
      density: metadata.format === 'svg' ? vectorDensity(metadata, spec, limits.maxDimension) : undefined,
    })
      .autoOrient()
      .resize(resizeOptions(spec, limits.maxDimension, format))
      .toColourspace('srgb');
    encode(pipeline, format, spec.q, limits.avifEffort);
    const { data, info } = await pipeline.toBuffer({ resolveWithObject: true });
    return renderedVariant(data, format, info.width, animate ? (info.pageHeight ?? info.height) : info.height);
  } catch (error) {
    throw new PictorError('UnprocessableImage', 'The original could not be decoded.', { cause: error });
  }
}

/** The format a spec is encoded in: `legacy` is PNG where there is transparency, JPEG otherwise. */
export function outputFormat(spec: VariantSpec, hasAlpha: boolean): ExplicitFormat {
  return spec.fmt === 'legacy' ? (hasAlpha ? 'png' : 'jpeg') : spec.fmt;
}

/** Encoded bytes as a variant, with the quoted MD5 that S3 reports as their ETag. */
export function renderedVariant(body: Buffer, format: ExplicitFormat, width: number, height: number): RenderedVariant {
  return { body, contentType: CONTENT_TYPES[format], format, width, height, etag: `"${createHash('md5').update(body).digest('hex')}"` };
}

/**
 * Reads the header and checks the limits, decoding no pixel.
 * @param animated whether every frame of an animation will be decoded (animated WebP output)
 * @returns the header, and the frames of an animation (1 for a still: see animationFrames)
 * @throws {PictorError} ImageTooLarge or UnprocessableImage
 */
export async function inspectOriginal(
  original: Buffer,
  limits: Pick<RenderLimits, 'maxInputBytes' | 'maxInputPixels' | 'maxFrames'>,
  animated = false,
): Promise<{ metadata: Metadata; frames: number }> {
  if (original.length > limits.maxInputBytes) {
    throw new PictorError('ImageTooLarge', `The original is ${original.length} bytes; the limit is ${limits.maxInputBytes}.`);
  }
  const metadata = await readHeader(original);
  // For a still, sharp's width and height are those of the one page it opens (a
  // HEIF's primary item), so the pixel limit counts that page, not every item.
  const frames = animationFrames(metadata);
  const animate = animated && frames > 1;
  const pixels = (metadata.width ?? 0) * (metadata.pageHeight ?? metadata.height ?? 0) * (animate ? frames : 1);
  if (pixels > limits.maxInputPixels) {
    throw new PictorError('ImageTooLarge', `The original has ${pixels} pixels; the limit is ${limits.maxInputPixels}.`);
  }
  if (animate && frames > limits.maxFrames) {
    throw new PictorError('ImageTooLarge', `The original has ${frames} frames; the limit is ${limits.maxFrames}.`);
  }
  return { metadata, frames };
}

/**
 * The frames an original plays: its page count when it is an image sequence, 1 for a still.
 * sharp's `pages` is the "Number of pages/frames contained within the image, with support
 * for TIFF, HEIF, PDF, animated GIF and animated WebP" (sharp's Metadata docs), so a HEIF/AVIF
 * with several top-level items has pages > 1 without being an animation (pitm.avif: pages 5,
 * items of 1024x800 and 4096x800), and decoding all its pages fails in libvips with "not all
 * pages are the same size". Only a sequence has `delay`, the "Delay in ms between each page in
 * an animated image": libvips sets it for animated GIF and WebP, not for HEIF items or TIFF
 * pages. Any other original is a still rendered from one page: see primaryPage.
 */
export function animationFrames(metadata: Metadata): number {
  const pages = metadata.pages ?? 1;
  return pages > 1 && Array.isArray(metadata.delay) ? pages : 1;
}

/**
 * The page a still is decoded from: a HEIF's primary item, `pagePrimary`, the "Number of the
 * primary page in a HEIF image" (sharp's Metadata docs); the first page otherwise. sharp opens
 * the primary item by default too, and its metadata reports that item's size; naming the page
 * keeps decode and limits on the same item without depending on that default.
 */
export function primaryPage(metadata: Metadata): number | undefined {
  return metadata.format === 'heif' ? metadata.pagePrimary : undefined;
}

async function readHeader(original: Buffer): Promise<Metadata> {
  let metadata: Metadata;
  try {
    // The limit is checked by the caller with a message that says by how much.
    metadata = await sharp(original, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw new PictorError('UnprocessableImage', 'The original is not an image that can be read.', { cause: error });
  }
  if (!metadata.width || !metadata.height) throw new PictorError('UnprocessableImage', 'The original is not an image that can be read: it has no dimensions.');
  return metadata;
}

/** SVG's default density is 72 DPI. */
const SVG_DENSITY = 72;
/** librsvg's largest raster side; a density that would pass it is clamped. */
const MAX_VECTOR_SIDE = 16384;
/** The highest density sharp accepts. */
const MAX_DENSITY = 100000;

/**
 * A vector has no pixels to enlarge: rasterize it at the density that makes it
 * as large as the request, so "never enlarge" keeps its meaning for photos only,
 * and no larger than librsvg's largest side. The edge and the upload path both use it.
 */
export function vectorDensity(metadata: Metadata, spec: Pick<VariantSpec, 'w' | 'h'>, maxDimension: number): number {
  const width = metadata.width ?? 1;
  const height = metadata.height ?? 1;
  const wanted = spec.w === undefined && spec.h === undefined ? maxDimension / Math.max(width, height) : Math.max((spec.w ?? 0) / width, (spec.h ?? 0) / height);
  const scale = Math.min(Math.max(wanted, 1), MAX_VECTOR_SIDE / Math.max(width, height));
  return Math.min(SVG_DENSITY * scale, MAX_DENSITY);
}

function resizeOptions(spec: VariantSpec, maxDimension: number, format: ExplicitFormat): ResizeOptions {
  const opaque = format === 'jpeg';
  const background = opaque ? { r: 255, g: 255, b: 255, alpha: 1 } : { r: 0, g: 0, b: 0, alpha: 0 };
  if (spec.w === undefined && spec.h === undefined) {
    return { width: maxDimension, height: maxDimension, fit: 'inside', withoutEnlargement: true };
  }
  return { width: spec.w, height: spec.h, fit: spec.fit ?? 'inside', withoutEnlargement: true, background };
}

export function encode(pipeline: Sharp, format: ExplicitFormat, quality: number | undefined, avifEffort: number): void {
  switch (format) {
    case 'avif':
      pipeline.avif({ quality, effort: avifEffort });
      return;
    case 'webp':
      pipeline.webp({ quality });
      return;
    case 'jpeg':
      // JPEG has no alpha: composite transparent areas over white, not black.
      pipeline.flatten({ background: '#ffffff' }).jpeg({ quality, progressive: true, mozjpeg: false });
      return;
    case 'png':
      pipeline.png({ compressionLevel: 8 });
      return;
  }
}
