import { z } from 'zod';
import { VariantSchemaV1 } from '../../events/schemas/pictor-events.ts';

/** CatalogueRerender's data between states: the job, where the listing is, and the tally so far. */
export const RerenderJob = z.object({
  jobId: z.string().regex(/^[A-Za-z0-9_-]{1,80}$/, 'a job id is 1 to 80 of A-Z a-z 0-9 _ -'),
  /** The tenants to list, in order; the requested one, or all. */
  tenants: z.array(z.string()).min(1),
  /** Only present when the request asked for it. */
  tenant: z.string().optional(),
  variants: VariantSchemaV1.optional(),
  onlyStale: z.boolean(),
  toleratedFailurePercentage: z.number().min(0).max(100),
  pageSize: z.number().int().min(1).max(1000),
});
export type RerenderJob = z.infer<typeof RerenderJob>;

/** Where the next listing page starts: a tenant, and S3's continuation token within it. */
export const Cursor = z.object({ tenantIndex: z.number().int().nonnegative(), token: z.string().optional() });
export type Cursor = z.infer<typeof Cursor>;

export const Failure = z.object({ tenant: z.string(), imageId: z.string(), error: z.string(), cause: z.string() });

export const Totals = z.object({
  rendered: z.number().int().nonnegative(),
  skipped: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  failures: z.array(Failure),
  failuresOmitted: z.number().int().nonnegative(),
  /** Why originals were skipped, with how many each. */
  skippedBecause: z.record(z.string(), z.number().int().nonnegative()),
});
export type Totals = z.infer<typeof Totals>;

/** What one original came to: the Distributed Map's result per item. */
export const ItemResult = z.discriminatedUnion('status', [
  z.object({ status: z.literal('rendered'), tenant: z.string(), imageId: z.string(), version: z.number().int() }),
  z.object({ status: z.literal('skipped'), tenant: z.string(), imageId: z.string(), reason: z.string() }),
  z.object({ status: z.literal('failed'), tenant: z.string(), imageId: z.string(), error: z.string(), cause: z.string().optional() }),
]);

/** Failures listed in the summary; the rest are counted. */
export const MAX_LISTED_FAILURES = 100;
