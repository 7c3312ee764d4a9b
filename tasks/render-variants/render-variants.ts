import { snapshotKey, UNPUBLISHED_TAG, uploadKey, variantKey } from '../../core/object-keys.ts';
import { variantSchema } from '../shared/tenants.ts';
import type { TenantConfig } from '../../core/tenant-config.ts';
import { standardVariants } from '../../core/tenant-config.ts';
import { renderVariantSet } from '../../edge-fallback/origin-request/render-set.ts';
import type { RenderLimits } from '../../edge-fallback/origin-request/render.ts';
import { Upload } from '../shared/upload.ts';
import type { ObjectStore } from '../shared/object-store.ts';
import type { VersionMap } from '../shared/version-map.ts';

export const RenderInput = Upload;

export interface StoredVariant {
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
  readonly tenant: (tenant: string) => TenantConfig;
  readonly limits: Omit<RenderLimits, 'maxDimension'>;
}

/** Versioned variants never change. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

/**
 * Reserves the next version for an upload, renders the tenant's standard variant
 * set from one decode, and stores the variants and a snapshot of the original
 * under that version, tagged unpublished. Publishing is the next state's job, so a
 * failure here leaves nothing visible, and a lifecycle rule expires what it left.
 * @throws {PictorError} UnprocessableImage or ImageTooLarge (the original is bad),
 *   OriginUnavailable (retry)
 */
export async function renderVariants(upload: Upload, deps: RenderDeps): Promise<RenderResult> {
  const image = { tenant: upload.tenant, imageId: upload.imageId };
  const version = await deps.versions.reserve(upload.tenant, upload.imageId, upload.sequencer, upload.rerender ?? false);
  if (version === null) return { outcome: 'superseded', reason: 'a newer upload reserved a version first, or the image was taken down' };
  const original = await deps.originals.get(uploadKey(image), upload.etag, deps.limits.maxInputBytes);
  if (!original) return { outcome: 'superseded', reason: 'the upload was replaced or deleted since the event' };

  const tenant = deps.tenant(upload.tenant);
  const maxDimension = tenant.breakpoints[tenant.breakpoints.length - 1]!;
  const specs = standardVariants({ ...tenant, variants: { ...tenant.variants, ...upload.variants } });
  const rendered = await renderVariantSet(original.body, specs, { ...deps.limits, maxDimension });
  const path = { ...image, version };
  const stored: StoredVariant[] = [];
  for (const { spec, variant } of rendered) {
    const key = variantKey(path, spec);
    await deps.variants.put(key, variant.body, variant.contentType, IMMUTABLE, UNPUBLISHED_TAG);
    stored.push({ key, contentType: variant.contentType, width: variant.width, bytes: variant.body.length });
  }
  // The bytes this version was rendered from, for versioned misses later on.
  await deps.originals.put(snapshotKey(image, version), original.body, 'application/octet-stream', undefined, UNPUBLISHED_TAG);
  return { outcome: 'rendered', version, variants: stored, schema: variantSchema(specs) };
}


