import { z } from 'zod';
import { PictorError } from '../../core/errors.ts';
import type { EventPublisher } from '../ports/event-publisher.ts';
import { MapRunResults, readMapRunResults } from '../shared/map-results.ts';
import { S3Location, type Reports } from '../shared/reports.ts';
import { BatchId, takedownKeys, TakedownItem } from '../shared/takedown-state.ts';

/** What each image's branch ends with (workflows/takedown-batch.ts). */
const Done = z.object({
  status: z.literal('done'),
  tenant: z.string(),
  imageId: z.string(),
  auditKey: z.string(),
  invalidationId: z.string().nullable(),
  verified: z.boolean(),
  /** The step that failed after the objects were erased, and why. */
  failure: z.string().nullable().optional(),
});
const Failed = z.object({ status: z.literal('failed'), tenant: z.string(), imageId: z.string(), error: z.string(), cause: z.string().optional() });
/** Also what workflows/takedown-batch.test.ts checks the branch's end states against. */
export const ImageOutcome = z.discriminatedUnion('status', [Done, Failed]);

export const CompleteInput = z.object({ batchId: BatchId, requestedAt: z.string(), count: z.number().int().nonnegative(), request: S3Location, results: MapRunResults });

/** One image in the batch's report. */
export interface ImageReport {
  readonly tenant: string;
  readonly imageId: string;
  readonly status: 'taken-down' | 'unverified' | 'failed';
  readonly auditKey?: string;
  readonly invalidationId?: string;
  readonly error?: string;
  readonly cause?: string;
}

export interface TakedownSummary {
  readonly batchId: string;
  readonly requested: number;
  readonly takenDown: number;
  readonly incomplete: number;
  readonly report: S3Location;
}

/** Images named in the error that fails an incomplete batch; the report names them all. */
const NAMED = 20;

/**
 * Reads every image's outcome from the map run's results, writes the batch's
 * report (each image, its audit record, what failed and why) to the reports
 * bucket, announces the batch ("Takedown Completed", pointing at the report),
 * then fails the batch, naming images, if any was not taken down and verified:
 * that must be seen by a person, not logged and forgotten. An image with no
 * result (its branch never ran, or failed outright) counts as failed.
 * @throws {PictorError} TakedownIncomplete
 */
export async function completeTakedown(input: z.infer<typeof CompleteInput>, deps: { readonly events: EventPublisher; readonly reports: Reports; readonly now: () => Date }): Promise<TakedownSummary> {
  const requested = await deps.reports.get(input.request, z.array(TakedownItem));
  const outcomes = new Map<string, ImageReport>();
  for (const result of await readMapRunResults(deps.reports, input.results)) {
    const item = (result.input as { item?: { tenant?: string; imageId?: string } } | undefined)?.item;
    const parsed = result.status === 'SUCCEEDED' ? ImageOutcome.safeParse(result.output) : undefined;
    let report: ImageReport | undefined;
    if (parsed?.success) {
      const o = parsed.data;
      report =
        o.status === 'done'
          ? { tenant: o.tenant, imageId: o.imageId, status: o.verified ? 'taken-down' : 'unverified', auditKey: o.auditKey, ...(o.invalidationId ? { invalidationId: o.invalidationId } : {}), ...(o.failure ? { error: o.failure } : {}) }
          : { tenant: o.tenant, imageId: o.imageId, status: 'failed', error: o.error, ...(o.cause ? { cause: o.cause } : {}) };
    } else if (item?.tenant && item.imageId) {
      const error = result.status === 'PENDING' ? 'NotRun' : (result.error ?? 'States.Runtime');
      report = { tenant: item.tenant, imageId: item.imageId, status: 'failed', error, ...(result.cause ? { cause: result.cause } : {}) };
    }
    if (report) outcomes.set(`${report.tenant}/${report.imageId}`, report);
  }
  const images: ImageReport[] = requested.map(
    (item) => outcomes.get(`${item.tenant}/${item.imageId}`) ?? { tenant: item.tenant, imageId: item.imageId, status: 'failed', error: 'NoResult', cause: 'The map run reported nothing for this image.' },
  );
  const takenDown = images.filter((i) => i.status === 'taken-down').length;
  const incomplete = images.filter((i) => i.status !== 'taken-down');
  const report = await deps.reports.put(takedownKeys.report(input.batchId), {
    schemaVersion: 1,
    batchId: input.batchId,
    requestedAt: input.requestedAt,
    completedAt: deps.now().toISOString(),
    requested: images.length,
    takenDown,
    incomplete: incomplete.length,
    results: { bucket: input.results.ResultWriterDetails.Bucket, key: input.results.ResultWriterDetails.Key },
    images,
  });
  await deps.events.publish('Takedown Completed', { schemaVersion: 2, batchId: input.batchId, requested: images.length, takenDown, incomplete: incomplete.length, report });
  if (incomplete.length > 0) {
    const why = (i: ImageReport) => (i.status === 'failed' ? `${i.error} ${i.cause ?? ''}`.trim() : `${i.error ?? 'unverified'} (audit record ${i.auditKey})`);
    const named = incomplete.slice(0, NAMED).map((i) => `${i.tenant}/${i.imageId}: ${why(i).slice(0, 300)}`);
    throw new PictorError(
      'TakedownIncomplete',
      `${incomplete.length} of ${images.length} images were not taken down (report s3://${report.bucket}/${report.key}): ${named.join('; ')}${incomplete.length > NAMED ? '; …' : ''}`,
    );
  }
  return { batchId: input.batchId, requested: images.length, takenDown, incomplete: 0, report };
}
