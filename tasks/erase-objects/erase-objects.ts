import { z } from 'zod';
import { PictorError } from '../../core/errors.ts';
import { originalPrefixes, variantPrefixes } from '../../core/takedown.ts';
import type { ObjectStore, StoredVersion } from '../ports/object-store.ts';
import type { Reports } from '../shared/reports.ts';
import { replicationPending } from '../shared/store-operations.ts';
import { BatchId, Inventory, InventoryManifest, takedownKeys, TakedownItem, Erased, type ObjectVersions } from '../shared/takedown-state.ts';

/** With the first pass's result present, this run is the sweep after the late-write window. */
export const EraseInput = z.object({ batchId: BatchId, item: TakedownItem, inventory: Inventory, erase: Erased.optional() });

export interface EraseDeps {
  /**
   * Every bucket the pipeline owns, each with a client in its own region: the
   * originals (primary and replicas) and every variants bucket. An inventory
   * naming any other is refused, and the sweep covers each of these.
   */
  readonly buckets: readonly { readonly store: ObjectStore; readonly region: string; readonly role: ObjectVersions['role'] }[];
  readonly reports: Reports;
  /** When the erase happened, for the audit record. */
  readonly now: () => Date;
}

/**
 * The first pass permanently deletes every object version the inventory listed:
 * the originals everywhere first, so that no new variant can be rendered from
 * them, then the variants. The second (the sweep, once no writer that read the
 * image before its tombstone can still be running) lists again, in every bucket
 * the pipeline owns whether the inventory named it or not, and erases whatever
 * appeared meanwhile (a render in any origin's bucket, a late write and its
 * replication). Deleting what is already gone succeeds, so a retry after a
 * failure midway is safe and the inventory still names everything that was there.
 */
export async function eraseObjects(input: z.infer<typeof EraseInput>, deps: EraseDeps): Promise<Erased> {
  const image = { tenant: input.item.tenant, imageId: input.item.imageId };
  const inventory = await deps.reports.get(input.inventory.manifest, InventoryManifest);
  const variantsLast = <T extends { role: ObjectVersions['role'] }>(list: readonly T[]) => [...list].sort((a, b) => Number(a.role === 'variants') - Number(b.role === 'variants'));
  const stores = variantsLast(inventory.locations).map((location) => {
    const store = deps.buckets.find((b) => b.store.bucket === location.bucket)?.store;
    if (!store) throw new PictorError('InvalidEvent', `Refusing to delete in ${location.bucket}: not a bucket of this pipeline.`);
    return { location, store };
  });
  // A copy on its way to a replica would land after the erase and survive it.
  for (const { location, store } of stores.filter((s) => s.location.role === 'original')) await waitForReplication(store, location.versions);
  for (const { location, store } of stores) await store.deleteVersions(location.versions);
  if (!input.erase) return { erasedAt: deps.now().toISOString(), stragglers: 0 };

  const stragglers: ObjectVersions[] = [];
  for (const { store, region, role } of variantsLast(deps.buckets)) {
    const prefixes = role === 'variants' ? variantPrefixes(image) : originalPrefixes(image);
    const found: StoredVersion[] = (await Promise.all(prefixes.map((p) => store.listVersions(p)))).flat();
    if (found.length === 0) continue;
    // A late write to the originals is replicated like any other: its copy, up to Replication Time
    // Control's 15 minutes later, would land after this pass and outlive it.
    if (role === 'original') await waitForReplication(store, found);
    await store.deleteVersions(found);
    stragglers.push({ bucket: store.bucket, region, role, versions: found });
  }
  const erasedAt = deps.now().toISOString();
  const count = stragglers.reduce((n, l) => n + l.versions.length, 0);
  if (count === 0) return { erasedAt, stragglers: 0 };
  const manifest = await deps.reports.put(takedownKeys.image(input.batchId, image, 'sweep'), { locations: stragglers });
  return { erasedAt, stragglers: count, manifest };
}

/**
 * Fails as ReplicationPending (which the state machine waits out) while any of
 * these objects' current version is still on its way to a replica.
 */
async function waitForReplication(store: ObjectStore, versions: readonly StoredVersion[]): Promise<void> {
  for (const key of new Set(versions.filter((v) => !v.deleteMarker).map((v) => v.key))) {
    if (await replicationPending(store, key)) throw new PictorError('ReplicationPending', `${key} in ${store.bucket} is still being replicated; erasing waits until every replica has it.`);
  }
}
