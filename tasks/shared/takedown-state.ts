import { z } from 'zod';
import { isImageId, isTenantId } from '../../core/image-path.ts';
import { TAKEDOWN_REASONS } from '../../core/takedown.ts';
import { S3Location } from './reports.ts';

/**
 * The data TakedownBatch carries from state to state for one image. Each task
 * reads only the parts it needs; the schemas here are their shared contract.
 */
export const TakedownItem = z.object({
  // Whole ids only: an empty or partial one would make a prefix of other images' keys.
  tenant: z.string().refine(isTenantId, 'a tenant id: 3 to 32 of a-z 0-9 -'),
  imageId: z.string().refine(isImageId, 'an image id: 1 to 128 of A-Z a-z 0-9 _ -'),
  reason: z.enum(TAKEDOWN_REASONS),
  requester: z.string().min(1),
});
export type TakedownItem = z.infer<typeof TakedownItem>;

/** A batch id becomes part of S3 keys and CallerReferences: keep it plain. */
export const BatchId = z.string().regex(/^[A-Za-z0-9_-]{1,80}$/, 'a batch id is 1 to 80 of A-Z a-z 0-9 _ -');

export const ObjectVersions = z.object({
  bucket: z.string(),
  region: z.string(),
  /** originals (primary or replica) or variants */
  role: z.enum(['original', 'replica', 'variants']),
  versions: z.array(z.object({ key: z.string(), versionId: z.string(), deleteMarker: z.boolean().optional() })),
});
export type ObjectVersions = z.infer<typeof ObjectVersions>;

/**
 * Every version of every object an image has, where: what the erase deletes and
 * the audit record names. Kept in the reports bucket, not in the state: an image
 * with many versions (a pointer rewritten at each publish, in four buckets) can
 * list more than a state's 256 KiB holds.
 */
export const InventoryManifest = z.object({
  tombstonedAt: z.string(),
  /** The highest published version before the takedown; 0 if none was. */
  publishedVersion: z.number().int().nonnegative(),
  /** Every version ever published. */
  publishedVersions: z.array(z.number().int().positive()).default([]),
  /** When the latest version was published, if one was. */
  lastPublishedAt: z.string().optional(),
  locations: z.array(ObjectVersions),
});
export type InventoryManifest = z.infer<typeof InventoryManifest>;

/** The inventory as the state carries it: where the manifest is, and a count for people reading the execution. */
export const Inventory = z.object({
  tombstonedAt: z.string(),
  publishedVersion: z.number().int().nonnegative(),
  manifest: S3Location,
  versions: z.number().int().nonnegative(),
});
export type Inventory = z.infer<typeof Inventory>;

/** What appeared after the inventory and was erased too: in the reports bucket beside the manifest. */
export const Stragglers = z.object({ locations: z.array(ObjectVersions) });

/** An erase pass, as the state carries it. */
export const Erased = z.object({
  erasedAt: z.string(),
  /** Object versions found late and erased. */
  stragglers: z.number().int().nonnegative(),
  /** Where they are listed, when there were any. */
  manifest: S3Location.optional(),
});
export type Erased = z.infer<typeof Erased>;

export const Invalidation = z.object({
  id: z.string(),
  status: z.string(),
  /** The first path, for messages. */
  path: z.string(),
  /** How many paths it invalidates. */
  paths: z.number().int().positive().default(1),
  /** Whether it used wildcards (CloudFront allows 15 in progress) rather than exact paths (3,000). */
  wildcard: z.boolean().default(true),
});
export type Invalidation = z.infer<typeof Invalidation>;

export const Verification = z.object({ verifiedAt: z.string(), urls: z.number().int().nonnegative() });
export type Verification = z.infer<typeof Verification>;

/** Everything takedowns keep in the reports bucket sits under this prefix (the tasks' grants name it too). */
export const TAKEDOWNS_PREFIX = 'takedowns/';

/** Where a batch keeps what its state does not hold, in the reports bucket. */
export const takedownKeys = {
  request: (batchId: string) => `${TAKEDOWNS_PREFIX}${batchId}/request.json`,
  image: (batchId: string, image: { tenant: string; imageId: string }, part: 'inventory' | 'sweep') =>
    `${TAKEDOWNS_PREFIX}${batchId}/images/${image.tenant}/${image.imageId}/${part}.json`,
  report: (batchId: string) => `${TAKEDOWNS_PREFIX}${batchId}/report.json`,
};

/** The error a step after the inventory was caught with: the record still gets written. */
export const StepFailure = z.object({ Error: z.string(), Cause: z.string().optional() });
