import { createHash } from 'node:crypto';
import { CreateInvalidationCommand, GetInvalidationCommand, type CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { z } from 'zod';
import { PictorError } from '../../core/errors.ts';
import { unversionedLifetimeSeconds } from '../../core/cache-control.ts';
import { planInvalidation, type InvalidationPlan } from '../../core/takedown.ts';
import { policyOf, type TenantConfig } from '../../core/tenant-config.ts';
import type { Reports } from '../shared/reports.ts';
import { BatchId, Erased, Inventory, InventoryManifest, Stragglers, TakedownItem, Invalidation } from '../shared/takedown-state.ts';
import { imageUrls } from '../shared/takedown-urls.ts';

export const InvalidateInput = z.object({ batchId: BatchId, item: TakedownItem, inventory: Inventory, erase: Erased.optional(), sweep: Erased.optional() });

export interface CloudFrontDeps {
  readonly cloudfront: CloudFrontClient;
  readonly distributionId: string;
}

export interface InvalidateDeps extends CloudFrontDeps {
  readonly reports: Reports;
  readonly tenant: (tenant: string) => Promise<TenantConfig>;
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
  const result = await cloudFront(() =>
    deps.cloudfront.send(
      new CreateInvalidationCommand({
        DistributionId: deps.distributionId,
        InvalidationBatch: { CallerReference: callerReference, Paths: { Quantity: plan.paths.length, Items: plan.paths } },
      }),
    ),
  );
  return { id: result.Invalidation!.Id!, status: result.Invalidation!.Status!, path: plan.paths[0]!, paths: plan.paths.length, wildcard: plan.wildcard };
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

export const CheckInput = z.object({ invalidation: Invalidation });

export interface CheckDeps extends CloudFrontDeps {
  /** How long after its creation an invalidation may stay in progress. */
  readonly deadlineSeconds: number;
  readonly now: () => Date;
}

/**
 * The invalidation's status now: InProgress or Completed. Waiting is bounded:
 * past the deadline, counted from CloudFront's own CreateTime, it fails.
 * @throws {PictorError} InvalidationTimedOut past the deadline, OriginUnavailable (retry)
 */
export async function checkInvalidation(input: z.infer<typeof CheckInput>, deps: CheckDeps): Promise<Invalidation> {
  const result = await cloudFront(() => deps.cloudfront.send(new GetInvalidationCommand({ DistributionId: deps.distributionId, Id: input.invalidation.id })));
  const status = result.Invalidation!.Status!;
  const created = result.Invalidation!.CreateTime!;
  const waited = Math.floor((deps.now().getTime() - created.getTime()) / 1000);
  if (status !== 'Completed' && waited > deps.deadlineSeconds) {
    throw new PictorError(
      'InvalidationTimedOut',
      `Invalidation ${input.invalidation.id} of ${input.invalidation.paths} paths (${input.invalidation.path}, …) is still ${status} after ${waited} s (created ${created.toISOString()}); the deadline is ${deps.deadlineSeconds} s. Edge caches may still hold the image until it completes.`,
    );
  }
  return { ...input.invalidation, status };
}

/** CloudFront's errors by name: throttling is the state machine's to wait out; the rest is retried as transient. */
async function cloudFront<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const name = (error as Error).name;
    if (name === 'TooManyInvalidationsInProgress') {
      throw new PictorError('TooManyInvalidationsInProgress', 'CloudFront has as many invalidation paths in progress as it allows (3,000 exact, 15 wildcard).', { cause: error });
    }
    if (name === 'NoSuchDistribution' || name === 'NoSuchInvalidation' || name === 'AccessDenied') {
      throw new PictorError('InvalidConfig', `CloudFront refused: ${(error as Error).message}`, { cause: error });
    }
    throw new PictorError('OriginUnavailable', `CloudFront did not answer: ${(error as Error).message}`, { cause: error });
  }
}
