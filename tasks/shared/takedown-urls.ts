import { servedUrls } from '../../core/takedown.ts';
import type { InventoryManifest } from './takedown-state.ts';

/**
 * Every URL an image may have been served at, from its inventory and what the
 * erase and the sweep found late: what the invalidation names and the
 * verification expects to be gone.
 */
export function imageUrls(
  image: { readonly tenant: string; readonly imageId: string },
  inventory: Pick<InventoryManifest, 'publishedVersion' | 'locations'>,
  late: readonly { readonly locations: InventoryManifest['locations'] }[],
): string[] {
  const variantKeys = [inventory, ...late].flatMap((found) => found.locations.filter((l) => l.role === 'variants').flatMap((l) => l.versions.map((v) => v.key)));
  return servedUrls(image, inventory.publishedVersion, variantKeys);
}
