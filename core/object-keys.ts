import type { ImagePath } from './image-path.ts';
import { variantName, type VariantSpec } from './variant.ts';

/**
 * Object keys, derived only from a validated {@link ImagePath}: never from a URL,
 * a header or anything else a client sends. Every key starts with the tenant, so
 * IAM can scope a role to one tenant's prefix.
 */
export function originalKey(path: ImagePath): string {
  return path.version === undefined ? uploadKey(path) : uploadKey(path) + '/v' + path.version;
}

/**
 * Where a tenant uploads an original. A versioned URL reads its own snapshot
 * (`{tenant}/{imageId}/v{n}`), written when version n is published, so asking for
 * an unpublished version is a 404, never today's bytes marked immutable.
 */
export function uploadKey(path: Pick<ImagePath, 'tenant' | 'imageId'>): string {
  return path.tenant + '/' + path.imageId;
}

/** Unversioned requests read and write the `latest` generation. */
export function variantKey(path: ImagePath, spec: VariantSpec): string {
  const generation = path.version === undefined ? 'latest' : 'v' + path.version;
  return path.tenant + '/' + path.imageId + '/' + generation + '/' + variantName(spec);
}
