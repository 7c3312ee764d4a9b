import { createHash } from 'node:crypto';
import { z } from 'zod';
import { unversionedLifetimeSeconds } from '../../core/cache-control.ts';
import { planInvalidation, type InvalidationPlan } from '../../core/takedown.ts';
import { policyOf, type TenantConfig } from '../../core/tenant-config.ts';
import type { Invalidator } from '../ports/invalidator.ts';
import type { TenantLookup } from '../ports/tenants.ts';
import type { Reports } from '../shared/reports.ts';
import { BatchId, Erased, Inventory, InventoryManifest, Stragglers, TakedownItem, Invalidation } from '../shared/takedown-state.ts';
import { imageUrls } from '../shared/takedown-urls.ts';

export const InvalidateInput = z.object({ batchId: BatchId, item: TakedownItem, inventory: Inventory, erase: Erased.optional(), sweep: Erased.optional() });

export interface InvalidateDeps {
  /** The distribution's invalidations. */
  readonly invalidator: Invalidator;
  readonly reports: Reports;
  readonly tenant: TenantLookup;
}

/**
 * Asks CloudFront to drop every cached URL of the image: its exact URLs (from the
 * inventory and whatever the erase and the sweep found late) where they reach
 * every copy, else its wildcards (core/takedown.ts planInvalidation), so that
 * images share the 3,000 exact paths in progress rather than queue for the 15
 * wildcard ones, and no other image loses its cache. The CallerReference is
 * derived from the batch and the image, so a retry, or the same batch run twice,
 * gets the invalidation already made instead of a second one.
 * https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CreateInvalidation.html
 * @throws {PictorError} TooManyInvalidationsInProgress (a quota is full: wait and retry),
 *   OriginUnavailable (retry)
 */
export async function invalidateImage(input: z.infer<typeof InvalidateInput>, deps: InvalidateDeps): Promise<Invalidation> {
  const plan = await invalidationPlan(input, deps);
  const callerReference = 'pictor-takedown-' + createHash('sha256').update(`${input.batchId}\n${input.item.tenant}\n${input.item.imageId}`).digest('hex').slice(0, 40);
  const made = await deps.invalidator.create(callerReference, plan.paths);
  return { id: made.id, status: made.status, path: plan.paths[0]!, paths: plan.paths.length, wildcard: plan.wildcard };
}

/** The paths an image's takedown invalidates: the same for a retry and for its audit record. */
export async function invalidationPlan(
  input: Pick<z.infer<typeof InvalidateInput>, 'item' | 'inventory' | 'erase' | 'sweep'>,
  deps: Pick<InvalidateDeps, 'reports' | 'tenant'>,
): Promise<InvalidationPlan> {
  const image = { tenant: input.item.tenant, imageId: input.item.imageId };
  const inventory = await deps.reports.get(input.inventory.manifest, InventoryManifest);
  const late = await Promise.all([input.erase, input.sweep].flatMap((pass) => (pass?.manifest ? [deps.reports.get(pass.manifest, Stragglers)] : [])));
  return planFor(image, inventory, late, await deps.tenant(image.tenant));
}

/** The plan for an image whose inventory and late finds are at hand. */
export function planFor(image: { tenant: string; imageId: string }, inventory: InventoryManifest, late: readonly { locations: InventoryManifest['locations'] }[], tenant: TenantConfig): InvalidationPlan {
  // Measured from the tombstone, after which nothing is published: a retry plans the same paths.
  return planInvalidation(image, imageUrls(image, inventory, late), inventory, unversionedLifetimeSeconds(policyOf(tenant)), new Date(inventory.tombstonedAt));
}
