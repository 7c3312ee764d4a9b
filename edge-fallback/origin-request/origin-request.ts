import { cacheControlFor } from '../../core/cache-control.ts';
import { PictorError } from '../../core/errors.ts';
import type { ImagePath } from '../../core/image-path.ts';
import { snapshotKey, variantKey } from '../../core/object-keys.ts';
import type { TenantPolicy } from '../../core/tenant-policy.ts';
import type { VariantSpec } from '../../core/variant.ts';
import { renderVariant, type RenderLimits, type RenderedVariant } from '../../imaging/render.ts';

/** Where originals are read from: the bucket the edge chose (primary or replica). */
export interface OriginalSource {
  /** The object's bytes, or null when there is no such object. */
  get(key: string): Promise<Buffer | null>;
  exists(key: string): Promise<boolean>;
  /** The image's latest published version, from its pointer; null when none is published. */
  publishedVersion(image: Pick<ImagePath, 'tenant' | 'imageId'>): Promise<number | null>;
}

/** The variants bucket. */
export interface VariantStore {
  exists(key: string): Promise<boolean>;
  put(key: string, variant: RenderedVariant, cacheControl: string): Promise<void>;
  delete(key: string): Promise<void>;
}

export interface Logger {
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
}

export interface VariantRequest {
  readonly path: ImagePath;
  readonly spec: VariantSpec;
  readonly policy: TenantPolicy;
}

export type VariantOutcome =
  /** The variant is in the variants bucket: let the edge fetch it from there. */
  | { readonly kind: 'stored'; readonly key: string }
  /** Freshly rendered; `stored` says whether it reached the variants bucket. */
  | { readonly kind: 'rendered'; readonly key: string; readonly variant: RenderedVariant; readonly cacheControl: string; readonly stored: boolean };

export interface OriginDeps {
  readonly originals: OriginalSource;
  readonly variants: VariantStore;
  readonly limits: RenderLimits;
  readonly log: Logger;
}

const notFound = () => new PictorError('NotFound', 'No such image.');

/**
 * The miss path: serve the stored variant, or render it from a published
 * original, store it and serve it. Only published bytes are ever read: a versioned
 * URL renders from its version's snapshot, an unversioned one from the snapshot
 * the published pointer names. Keys come from the validated path and spec only.
 * @throws {PictorError} NotFound, ImageTooLarge or UnprocessableImage.
 */
export async function serveVariant(request: VariantRequest, deps: OriginDeps): Promise<VariantOutcome> {
  const key = variantKey(request.path, request.spec);
  // The variants bucket is a cache: when it is down (a regional outage on
  // failover), render from the original rather than fail the viewer.
  const stored = await deps.variants.exists(key).catch((error: unknown) => {
    deps.log.warn('variants bucket unavailable', { key, error });
    return false;
  });
  if (stored) return { kind: 'stored', key };

  const version = request.path.version ?? (await deps.originals.publishedVersion(request.path));
  // The same answer whether the image is absent, unpublished or another tenant's:
  // keys are per tenant, so another tenant's image is simply absent here.
  if (version === null) throw notFound();
  const source = snapshotKey(request.path, version);
  const original = await deps.originals.get(source);
  if (!original) throw notFound();

  const limits = { ...deps.limits, maxDimension: request.policy.breakpoints[request.policy.breakpoints.length - 1] ?? deps.limits.maxDimension };
  const variant = await renderVariant(original, request.spec, limits);
  const cacheControl = cacheControlFor(request.path, request.policy);
  let saved = true;
  try {
    await deps.variants.put(key, variant, cacheControl);
  } catch (error) {
    // Serving what was rendered beats failing the viewer; the next miss renders again.
    saved = false;
    deps.log.warn('variant not stored', { key, error });
  }
  if (saved && !(await stillServes(request.path, version, deps.originals))) {
    // A takedown or a newer publish ran while this rendered: what was stored must not outlive it.
    await deps.variants.delete(key);
    deps.log.info('variant withdrawn: its original changed while it rendered', { key, version });
    if (request.path.version !== undefined || (await deps.originals.publishedVersion(request.path)) === null) throw notFound();
    saved = false;
  }
  deps.log.info('variant rendered', { key, bytes: variant.body.length, width: variant.width, height: variant.height, stored: saved });
  return { kind: 'rendered', key, variant, cacheControl, stored: saved };
}

/**
 * Whether the version a variant was rendered from is still what its URL serves,
 * checked after the variant is stored. A takedown erases the snapshot and pointer
 * before it lists the variants, and publishing moves the pointer before it empties
 * the `latest` generation, so a store that lands after either is caught here or
 * by them: S3 reads are strongly consistent after writes.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/Welcome.html#ConsistencyModel
 */
async function stillServes(path: ImagePath, version: number, originals: OriginalSource): Promise<boolean> {
  if (path.version !== undefined) return originals.exists(snapshotKey(path, version));
  return (await originals.publishedVersion(path)) === version;
}
