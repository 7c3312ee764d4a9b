import { IMMUTABLE_CACHE_CONTROL } from '../../core/cache-control.ts';
import { stagedKey, stagedOriginalKey, uploadKey, variantKey } from '../../core/object-keys.ts';
import { standardVariants, type TenantConfig } from '../../core/tenant-config.ts';
import { largestBreakpoint } from '../../core/tenant-policy.ts';
import { renderVariantSet } from '../../imaging/render-set.ts';
import type { RenderLimits } from '../../imaging/render.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import { variantSchema } from '../shared/variant-schema.ts';
import { Upload } from '../shared/upload.ts';
import type { VersionMap } from '../ports/version-map.ts';

export const RenderInput = Upload;

export interface StoredVariant {
  /** Where the variant lives once its version is published. */
  readonly key: string;
  readonly contentType: string;
  readonly width: number;
  readonly bytes: number;
}

export type RenderResult =
  | { outcome: 'rendered'; version: number; variants: StoredVariant[]; schema: string }
  | { outcome: 'superseded'; reason: string };

export interface RenderDeps {
  readonly originals: ObjectStore;
  readonly variants: ObjectStore;
  readonly versions: VersionMap;
  readonly tenant: (tenant: string) => Promise<TenantConfig>;
  readonly limits: Omit<RenderLimits, 'maxDimension'>;
}

/**
 * Reserves the next version for an upload, renders the tenant's standard variant
 * set from one decode, and stages the variants and the bytes they came from under
 * `_staging/`, where nothing is served. Publishing is the next state's job: until
 * it copies them into place, no URL can reach this version, and a lifecycle rule
 * expires what a run that never publishes leaves behind. A retry reserves the
 * same version and stages over the same keys.
 * @throws {PictorError} UnprocessableImage or ImageTooLarge (the original is bad),
 *   OriginUnavailable (retry)
 */
export async function renderVariants(upload: Upload, deps: RenderDeps): Promise<RenderResult> {
  const image = { tenant: upload.tenant, imageId: upload.imageId };
  const version = await deps.versions.reserve(upload.tenant, upload.imageId, upload.sequencer, upload.idempotencyKey, upload.rerender ?? false);
  if (version === null) return { outcome: 'superseded', reason: 'a newer upload reserved a version first, or the image was taken down' };
  const original = await deps.originals.get(uploadKey(image), upload.etag, deps.limits.maxInputBytes);
  if (!original) return { outcome: 'superseded', reason: 'the upload was replaced or deleted since the event' };

  const tenant = await deps.tenant(upload.tenant);
  const maxDimension = largestBreakpoint(tenant);
  const specs = standardVariants({ ...tenant, variants: { ...tenant.variants, ...upload.variants } });
  const rendered = await renderVariantSet(original.body, specs, { ...deps.limits, maxDimension });
  const path = { ...image, version };
  const variants = rendered.map(({ spec, variant }) => ({ key: variantKey(path, spec), contentType: variant.contentType, width: variant.width, bytes: variant.body.length, body: variant.body }));
  await Promise.all([
    ...variants.map((v) => deps.variants.put(stagedKey(v.key), v.body, { contentType: v.contentType, cacheControl: IMMUTABLE_CACHE_CONTROL })),
    // The bytes this version was rendered from, for its versioned misses once published.
    deps.variants.put(stagedOriginalKey(image, version), original.body, { contentType: 'application/octet-stream' }),
  ]);
  return { outcome: 'rendered', version, variants: variants.map(({ body: _, ...v }) => v), schema: variantSchema(specs) };
}
