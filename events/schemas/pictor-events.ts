import { isImageId, isTenantId } from '../../core/image-path.ts';
import { TAKEDOWN_REASONS } from '../../core/takedown.ts';
import { RESOLVED_FORMATS } from '../../core/tenant-config.ts';
import { z } from 'zod';

/**
 * Pictor's own events, one versioned schema per detail-type (past tense). A
 * schema change that breaks consumers gets a new `schemaVersion`, never an edit.
 */
const Image = {
  tenant: z.string().refine(isTenantId, 'a tenant id: 3 to 32 of a-z 0-9 -'),
  imageId: z.string().refine(isImageId, 'an image id: 1 to 128 of A-Z a-z 0-9 _ -'),
};

export const VariantsRenderedV1 = z.object({
  schemaVersion: z.literal(1),
  ...Image,
  version: z.number().int().positive(),
  variants: z.array(z.object({ key: z.string(), contentType: z.string(), width: z.number().int(), bytes: z.number().int() })),
});

export const VersionBumpedV1 = z.object({
  schemaVersion: z.literal(1),
  ...Image,
  version: z.number().int().positive(),
  previousVersion: z.number().int().nonnegative(),
  sequencer: z.string(),
});

export const OriginalRejectedV1 = z.object({
  schemaVersion: z.literal(1),
  ...Image,
  code: z.string(),
  reason: z.string(),
  quarantineKey: z.string(),
});

/**
 * An upload that was not kept: its id was taken down, so its bytes were erased in
 * every region instead of rendered. `code` says why in one word.
 */
export const UploadDiscardedV1 = z.object({
  schemaVersion: z.literal(1),
  ...Image,
  code: z.literal('ImageTakenDown'),
  reason: z.string(),
  /** When the takedown tombstoned the id. */
  takenDownAt: z.string(),
  /** The S3 sequencer of the discarded upload. */
  sequencer: z.string(),
});

/** A variant schema: the widths and formats a re-render produces, instead of the tenant's. */
export const VariantSchemaV1 = z.object({
  widths: z.array(z.number().int().positive()).min(1).optional(),
  formats: z.array(z.enum(RESOLVED_FORMATS)).min(1).optional(),
});

export const RerenderRequestedV1 = z.object({
  schemaVersion: z.literal(1),
  /** One tenant, or every tenant when absent. */
  tenant: z.string().optional(),
  requester: z.string().min(1),
  /** Render at this schema rather than each tenant's configured one. */
  variants: VariantSchemaV1.optional(),
  /** Skip originals already rendered at the requested schema. @default false: render all */
  onlyStale: z.boolean().optional(),
  /** Stop once more than this share of the originals processed so far failed. @default 5 */
  toleratedFailurePercentage: z.number().min(0).max(100).optional(),
});

/**
 * A re-render job ended. The counts are exact; every failure is in the report
 * (`report`: `rerenders/<jobId>/report.json` in the reports bucket, and the
 * failure files it names), and `failures` holds only the first few, each cause
 * cut short, so that the event stays a few KB whatever the catalogue's size
 * (an EventBridge entry is at most 256 KB).
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html
 */
export const RerenderCompletedV1 = z.object({
  schemaVersion: z.literal(1),
  jobId: z.string().optional(),
  tenant: z.string().optional(),
  /** True when the job stopped early at its failure threshold. */
  aborted: z.boolean().optional(),
  rendered: z.number().int().nonnegative(),
  skipped: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  /** The first failures: at most 10, each cause at most 300 characters. */
  failures: z.array(z.object({ tenant: z.string(), imageId: z.string(), error: z.string().max(100), cause: z.string().max(300) })).max(10),
  /** Failures counted but not listed here; the report has them. */
  failuresOmitted: z.number().int().nonnegative().optional(),
  /** The job's report. Absent only from events sent before reports were kept. */
  report: z.object({ bucket: z.string(), key: z.string() }).optional(),
});

export const TakedownRequestedV1 = z.object({
  schemaVersion: z.literal(1),
  items: z
    .array(z.object({ ...Image, reason: z.enum(TAKEDOWN_REASONS), requester: z.string().min(1) }))
    .min(1)
    .max(1000),
});

/**
 * A takedown batch has ended: how many images it took down, and where its report
 * (each image, its audit record, what failed and why) is. Version 1 listed the
 * images inline, which at 1,000 long ids passes EventBridge's 256 KB per event.
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html
 */
export const TakedownCompletedV2 = z.object({
  schemaVersion: z.literal(2),
  batchId: z.string(),
  requested: z.number().int().nonnegative(),
  takenDown: z.number().int().nonnegative(),
  /** Images not taken down and verified: the batch fails as TakedownIncomplete when any is. */
  incomplete: z.number().int().nonnegative(),
  report: z.object({ bucket: z.string(), key: z.string() }),
});

/** Every detail-type Pictor publishes or consumes, with its current schema. */
export const PICTOR_EVENTS = {
  'Variants Rendered': VariantsRenderedV1,
  'Version Bumped': VersionBumpedV1,
  'Original Rejected': OriginalRejectedV1,
  'Upload Discarded': UploadDiscardedV1,
  'Rerender Requested': RerenderRequestedV1,
  'Rerender Completed': RerenderCompletedV1,
  'Takedown Requested': TakedownRequestedV1,
  'Takedown Completed': TakedownCompletedV2,
} as const;

export type PictorDetailType = keyof typeof PICTOR_EVENTS;
export type PictorDetail<T extends PictorDetailType> = z.infer<(typeof PICTOR_EVENTS)[T]>;

/** The `source` of every event Pictor publishes. */
export const PICTOR_SOURCE = 'pictor';
