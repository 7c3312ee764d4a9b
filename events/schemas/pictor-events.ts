import { isImageId, isTenantId } from '../../core/image-path.ts';
import { TAKEDOWN_REASONS } from '../../core/takedown.ts';
import { RESOLVED_FORMATS } from '../../core/tenant-config.ts';
import { z } from 'zod';

/**
 * Pictor's own events, one versioned schema per detail-type (past tense). A
 * schema change that breaks consumers gets a new `schemaVersion`, never an edit.
 *
 * Each schema's and field's description and each event's example are its
 * documentation: docs/EVENTS.md is generated from them (`npm run docs:reference`),
 * and a test parses every example with its schema.
 */
const Image = {
  tenant: z.string().refine(isTenantId, 'a tenant id: 3 to 32 of a-z 0-9 -').meta({ description: 'The tenant: 3 to 32 of `a-z 0-9 -`, starting and ending with a letter or digit.' }),
  imageId: z.string().refine(isImageId, 'an image id: 1 to 128 of A-Z a-z 0-9 _ -').meta({ description: 'The image id: 1 to 128 of `A-Z a-z 0-9 _ -`, starting with a letter or digit.' }),
};

/** Where a report is: a bucket and a key in it. */
const ReportLocation = z.object({ bucket: z.string(), key: z.string() });

export const VariantsRenderedV1 = z
  .object({
    schemaVersion: z.literal(1),
    ...Image,
    version: z.number().int().positive().meta({ description: 'The version published.' }),
    variants: z
      .array(
        z.object({
          key: z.string().meta({ description: "The variant's key in the variants bucket: `{tenant}/{imageId}/v{n}/{variant}.{format}`." }),
          contentType: z.string(),
          width: z.number().int().meta({ description: 'Its width in pixels.' }),
          bytes: z.number().int(),
        }),
      )
      .meta({ description: 'The standard variants, as stored in every variants bucket.' }),
  })
  .meta({
    description: "A version's standard variants are published: its versioned URLs serve them, and unversioned URLs point at it.",
    examples: [
      {
        schemaVersion: 1,
        tenant: 'demo',
        imageId: 'my-photo',
        version: 3,
        variants: [
          { key: 'demo/my-photo/v3/w320_q75.avif', contentType: 'image/avif', width: 320, bytes: 10240 },
          { key: 'demo/my-photo/v3/w320_q75.legacy', contentType: 'image/jpeg', width: 320, bytes: 20480 },
        ],
      },
    ],
  });

export const VersionBumpedV1 = z
  .object({
    schemaVersion: z.literal(1),
    ...Image,
    version: z.number().int().positive().meta({ description: 'The version now published.' }),
    previousVersion: z.number().int().nonnegative().meta({ description: 'The version it replaced; 0 for the first.' }),
    sequencer: z.string().meta({ description: 'The S3 sequencer of the upload it was rendered from.' }),
  })
  .meta({
    description: "An image's published version moved on, in upload order: duplicate and out-of-order S3 events never roll it back.",
    examples: [{ schemaVersion: 1, tenant: 'demo', imageId: 'my-photo', version: 3, previousVersion: 2, sequencer: '0062E99A88DC407460' }],
  });

export const OriginalRejectedV1 = z
  .object({
    schemaVersion: z.literal(1),
    ...Image,
    code: z.string().meta({ description: 'Why, as an error code (docs/ERROR-CODES.md): `UnprocessableImage`, `ImageTooLarge` or `UnknownTenant`.' }),
    reason: z.string().meta({ description: 'Why, in words.' }),
    quarantineKey: z.string().meta({ description: 'Where the upload was moved in the originals bucket: `_quarantine/{tenant}/{imageId}/{sequencer}`.' }),
  })
  .meta({
    description: 'An upload was not published because it is bad (undecodable, truncated, over the limits) or its tenant is unknown; it was quarantined. What was published before is unchanged.',
    examples: [
      {
        schemaVersion: 1,
        tenant: 'demo',
        imageId: 'my-photo',
        code: 'UnprocessableImage',
        reason: 'The original cannot be decoded.',
        quarantineKey: '_quarantine/demo/my-photo/0062E99A88DC407460',
      },
    ],
  });

export const UploadDiscardedV1 = z
  .object({
    schemaVersion: z.literal(1),
    ...Image,
    code: z.literal('ImageTakenDown'),
    reason: z.string().meta({ description: 'Why, in words.' }),
    takenDownAt: z.string().meta({ description: 'When the takedown tombstoned the id (ISO 8601).' }),
    sequencer: z.string().meta({ description: 'The S3 sequencer of the discarded upload.' }),
  })
  .meta({
    description: 'An upload that was not kept: its id was taken down, so its bytes were erased in every region instead of rendered. `code` says why in one word.',
    examples: [
      {
        schemaVersion: 1,
        tenant: 'demo',
        imageId: 'my-photo',
        code: 'ImageTakenDown',
        reason: 'demo/my-photo was taken down at 2026-12-01T08:00:00.000Z; uploads to it are erased',
        takenDownAt: '2026-12-01T08:00:00.000Z',
        sequencer: '0062E99A88DC407461',
      },
    ],
  });

/** A variant schema: the widths and formats a re-render produces, instead of the tenant's. */
export const VariantSchemaV1 = z
  .object({
    widths: z.array(z.number().int().positive()).min(1).optional().meta({ description: "Widths to render, instead of each tenant's standard ones." }),
    formats: z.array(z.enum(RESOLVED_FORMATS)).min(1).optional().meta({ description: "Format classes to render, instead of each tenant's standard ones." }),
  })
  .meta({ description: "The variants to render, instead of each tenant's configured set." });

export const RerenderRequestedV1 = z
  .object({
    schemaVersion: z.literal(1),
    tenant: z.string().optional().meta({ description: 'One tenant, or every tenant when absent.' }),
    requester: z.string().min(1).meta({ description: 'Who asked.' }),
    variants: VariantSchemaV1.optional(),
    onlyStale: z.boolean().optional().meta({ description: 'Skip originals already rendered at the requested variants. Default: false, render all.' }),
    toleratedFailurePercentage: z.number().min(0).max(100).optional().meta({ description: 'Stop once more than this share of the originals processed so far failed. Default: 5.' }),
  })
  .meta({
    description: 'Asks for a catalogue re-render: it starts CatalogueRerender, and the event id names the job. Only the `RerenderRequester` role (or the deployment\'s `rerenderRequesters`) may send it.',
    examples: [{ schemaVersion: 1, tenant: 'demo', requester: 'ops@example.com', variants: { widths: [320, 640], formats: ['webp', 'legacy'] }, onlyStale: true, toleratedFailurePercentage: 5 }],
  });

/**
 * A re-render job ended. The counts are exact; every failure is in the report
 * (`report`: `rerenders/<jobId>/report.json` in the reports bucket, and the
 * failure files it names), and `failures` holds only the first few, each cause
 * cut short, so that the event stays a few KB whatever the catalogue's size
 * (an EventBridge entry is at most 256 KB).
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html
 */
export const RerenderCompletedV1 = z
  .object({
    schemaVersion: z.literal(1),
    jobId: z.string().optional().meta({ description: 'The job: the id of the event that asked for it, or the name the CLI gave it.' }),
    tenant: z.string().optional().meta({ description: 'The tenant re-rendered; absent when every tenant was.' }),
    aborted: z.boolean().optional().meta({ description: 'True when the job stopped early at its failure threshold.' }),
    rendered: z.number().int().nonnegative(),
    skipped: z.number().int().nonnegative(),
    failed: z.number().int().nonnegative(),
    failures: z
      .array(
        z.object({
          tenant: z.string(),
          imageId: z.string(),
          error: z.string().max(100).meta({ description: 'The error code.' }),
          cause: z.string().max(300).meta({ description: 'Its cause, cut to 300 characters.' }),
        }),
      )
      .max(10)
      .meta({ description: 'The first failures: at most 10, each cause at most 300 characters.' }),
    failuresOmitted: z.number().int().nonnegative().optional().meta({ description: 'Failures counted but not listed here; the report has them.' }),
    report: ReportLocation.optional().meta({ description: "The job's report, `rerenders/<jobId>/report.json` in the reports bucket. Absent only from events sent before reports were kept." }),
  })
  .meta({
    description:
      'A re-render job ended. The counts are exact; every failure is in the report, and `failures` holds only the first few, each cause cut short, so that the event stays a few KB whatever the catalogue\'s size (an EventBridge entry is at most 256 KB).',
    examples: [
      {
        schemaVersion: 1,
        jobId: 'rerender-20261201080000-1a2b3c4d',
        tenant: 'demo',
        rendered: 998,
        skipped: 1,
        failed: 1,
        failures: [{ tenant: 'demo', imageId: 'broken', error: 'UnprocessableImage', cause: 'The original cannot be decoded.' }],
        report: { bucket: 'pictor-reports-111122223333-us-east-1', key: 'rerenders/rerender-20261201080000-1a2b3c4d/report.json' },
      },
    ],
  });

export const TakedownRequestedV1 = z
  .object({
    schemaVersion: z.literal(1),
    items: z
      .array(
        z.object({
          ...Image,
          reason: z.enum(TAKEDOWN_REASONS).meta({ description: 'The legal basis, which the audit record names.' }),
          requester: z.string().min(1).meta({ description: 'Who asked, as the audit record names them.' }),
        }),
      )
      .min(1)
      .max(1000)
      .meta({ description: 'The images to take down; an image named twice is taken down once.' }),
  })
  .meta({
    description:
      'Asks for images to be taken down: it starts TakedownBatch, and the event id names the batch. Only the `TakedownRequester` role (or the deployment\'s `takedownRequesters`) may send it.',
    examples: [{ schemaVersion: 1, items: [{ tenant: 'demo', imageId: 'my-photo', reason: 'dmca', requester: 'legal@example.com' }] }],
  });

/**
 * A takedown batch has ended: how many images it took down, and where its report
 * (each image, its audit record, what failed and why) is. Version 1 listed the
 * images inline, which at 1,000 long ids passes EventBridge's 256 KB per event.
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html
 */
export const TakedownCompletedV2 = z
  .object({
    schemaVersion: z.literal(2),
    batchId: z.string().meta({ description: 'The batch: the id of the event that asked for it, or the name the CLI gave it.' }),
    requested: z.number().int().nonnegative().meta({ description: 'Images in the batch, each counted once.' }),
    takenDown: z.number().int().nonnegative().meta({ description: 'Images taken down and verified gone at the edge.' }),
    incomplete: z.number().int().nonnegative().meta({ description: 'Images not taken down and verified: the batch fails as TakedownIncomplete when any is.' }),
    report: ReportLocation.meta({ description: "The batch's report (each image, its audit record, what failed and why), `takedowns/<batchId>/report.json` in the reports bucket." }),
  })
  .meta({
    description:
      'A takedown batch ended: how many images it took down, and where its report is. Version 1 listed the images inline, which at 1,000 long ids passes EventBridge\'s 256 KB per event.',
    examples: [
      {
        schemaVersion: 2,
        batchId: 'takedown-20261201080000-1a2b3c4d',
        requested: 1,
        takenDown: 1,
        incomplete: 0,
        report: { bucket: 'pictor-reports-111122223333-us-east-1', key: 'takedowns/takedown-20261201080000-1a2b3c4d/report.json' },
      },
    ],
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
