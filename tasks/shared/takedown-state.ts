import { z } from 'zod';
import { isImageId, isTenantId } from '../../core/image-path.ts';
import { TAKEDOWN_REASONS } from '../../core/takedown.ts';

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

export const Inventory = z.object({
  tombstonedAt: z.string(),
  /** The highest published version before the takedown; 0 if none was. */
  publishedVersion: z.number().int().nonnegative(),
  locations: z.array(ObjectVersions),
});
export type Inventory = z.infer<typeof Inventory>;

export const Invalidation = z.object({ id: z.string(), status: z.string(), path: z.string() });
export type Invalidation = z.infer<typeof Invalidation>;

export const Verification = z.object({ verifiedAt: z.string(), urls: z.array(z.string()) });
export type Verification = z.infer<typeof Verification>;

/** The error a step after the inventory was caught with: the record still gets written. */
export const StepFailure = z.object({ Error: z.string(), Cause: z.string().optional() });
