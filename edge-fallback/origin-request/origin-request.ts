import { PictorError } from '../../core/errors.ts';
import type { ImagePath } from '../../core/image-path.ts';
import { originalKey, variantKey } from '../../core/object-keys.ts';
import type { TenantPolicy } from '../../core/tenant-policy.ts';
import type { VariantSpec } from '../../core/variant.ts';
import { renderVariant, type RenderLimits, type RenderedVariant } from './render.ts';

/** Where originals are read from: the bucket the edge chose (primary or replica). */
export interface OriginalSource {
  /** The original's bytes, or null when there is no such object. */
  get(key: string): Promise<Buffer | null>;
}

/** The variants bucket. */
export interface VariantStore {
  exists(key: string): Promise<boolean>;
  put(key: string, variant: RenderedVariant, cacheControl: string): Promise<void>;
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

/** Versioned URLs never change; unversioned ones live `ttl` seconds at the edge. */
export function cacheControlFor(path: ImagePath, policy: TenantPolicy): string {
  if (path.version !== undefined) return 'public, max-age=31536000, immutable';
  return `public, max-age=${policy.ttl}, stale-while-revalidate=${policy.ttl}, stale-if-error=86400`;
}

/**
 * The miss path: serve the stored variant, or render it from the original, store
 * it and serve it. Keys come from the validated path and spec only.
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

  const original = await deps.originals.get(originalKey(request.path));
  // The same answer whether the image is absent or belongs to another tenant:
  // keys are per tenant, so another tenant's image is simply absent here.
  if (!original) throw new PictorError('NotFound', 'No such image.');

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
  deps.log.info('variant rendered', { key, bytes: variant.body.length, width: variant.width, height: variant.height, stored: saved });
  return { kind: 'rendered', key, variant, cacheControl, stored: saved };
}
