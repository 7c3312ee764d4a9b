import { z } from 'zod';
import { originalPrefixes, variantPrefixes } from '../../core/takedown.ts';
import type { TenantConfig } from '../../core/tenant-config.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import type { Reports } from '../shared/reports.ts';
import { BatchId, takedownKeys, TakedownItem, type Inventory, type InventoryManifest, type ObjectVersions } from '../shared/takedown-state.ts';
import type { VersionMap } from '../ports/version-map.ts';

export const InventoryInput = z.object({ batchId: BatchId, item: TakedownItem });

export interface InventoryDeps {
  readonly versions: VersionMap;
  /** The primary originals bucket first, then each replica. */
  readonly originals: readonly { readonly store: ObjectStore; readonly region: string; readonly role: 'original' | 'replica' }[];
  /** Every variants bucket the distribution reads from: the primary first, then each failover origin's. */
  readonly variants: readonly { readonly store: ObjectStore; readonly region: string }[];
  readonly tenant: (tenant: string) => Promise<TenantConfig>;
  readonly reports: Reports;
}

/**
 * Tombstones the image, so that no upload event or re-render brings it back,
 * then lists every version of every object it has in every bucket: the upload,
 * its published pointer, snapshots and quarantined copies in the primary and each
 * replica, and its variants in every variants bucket (staged ones, and what the
 * edge rendered into a failover origin's bucket, included). Deletes nothing, so
 * a retry lists the same objects; the list, kept in the reports bucket (one
 * image's versions can outgrow a state's 256 KiB), is what the next state
 * deletes and what the audit record names.
 * @throws {PictorError} InvalidEvent for an unknown tenant, OriginUnavailable (retry)
 */
export async function inventoryImage(input: z.infer<typeof InventoryInput>, deps: InventoryDeps): Promise<Inventory> {
  const { tenant, imageId, reason } = input.item;
  await deps.tenant(tenant);
  const record = await deps.versions.tombstone(tenant, imageId, reason);
  // Every bucket at once: each is in its own region, and listing deletes nothing.
  const listed = (store: ObjectStore, prefixes: string[]) => Promise.all(prefixes.map((p) => store.listVersions(p))).then((found) => found.flat());
  const locations: ObjectVersions[] = await Promise.all([
    ...deps.originals.map(async ({ store, region, role }) => ({ bucket: store.bucket, region, role, versions: await listed(store, originalPrefixes({ tenant, imageId })) })),
    ...deps.variants.map(async ({ store, region }) => ({ bucket: store.bucket, region, role: 'variants' as const, versions: await listed(store, variantPrefixes({ tenant, imageId })) })),
  ]);
  const manifest: InventoryManifest = {
    tombstonedAt: record.tombstonedAt,
    publishedVersion: record.version,
    publishedVersions: [...record.publishedVersions],
    ...(record.updatedAt ? { lastPublishedAt: record.updatedAt } : {}),
    locations,
  };
  const at = await deps.reports.put(takedownKeys.image(input.batchId, { tenant, imageId }, 'inventory'), manifest);
  return { tombstonedAt: record.tombstonedAt, publishedVersion: record.version, manifest: at, versions: locations.reduce((n, l) => n + l.versions.length, 0) };
}
