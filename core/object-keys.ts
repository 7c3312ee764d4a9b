import type { ImagePath } from './image-path.ts';
import { variantName, type VariantSpec } from './variant.ts';

/**
 * Object keys, derived only from a validated {@link ImagePath}: never from a URL,
 * a header or anything else a client sends. Every key starts with the tenant, so
 * IAM can scope a role to one tenant's prefix.
 */
export function originalKey(path: Pick<ImagePath, 'tenant' | 'imageId'>): string {
  return path.tenant + '/' + path.imageId;
}

/** Unversioned requests read and write the `latest` generation. */
export function variantKey(path: ImagePath, spec: VariantSpec): string {
  const generation = path.version === undefined ? 'latest' : 'v' + path.version;
  return path.tenant + '/' + path.imageId + '/' + generation + '/' + variantName(spec);
}
