import { z } from 'zod';
import { PictorError } from '../../core/errors.ts';
import { standardVariants, type PictorConfig } from '../../core/tenant-config.ts';
import { parseDetail } from '../../events/parse-detail.ts';
import {
  Cursor,
  DEFAULT_PAGE_SIZE,
  DEFAULT_PAGES_PER_EXECUTION,
  MAX_PAGES_PER_EXECUTION,
  MAX_SKIP_REASONS,
  Part,
  RerenderJob,
  rerenderKeys,
  STATE_LIMIT_BYTES,
  stateBytes,
  Totals,
} from '../shared/rerender-state.ts';

const JobId = z.string().min(1);

/** A fresh job: a "Rerender Requested" detail, and the id of the event or request that carried it. */
export const FreshPlanInput = z.object({ jobId: JobId, detail: z.unknown().refine((d) => d !== undefined, 'a "Rerender Requested" detail is required') });

/**
 * A job's next part, as the previous execution started it when it had tallied
 * its share of pages: the job, where the listing stands, the counts so far, and
 * this part's number. Step Functions adds AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.
 */
export const ContinuedPlanInput = z.object({
  jobId: JobId,
  continuation: z.object({ job: RerenderJob, cursor: Cursor, totals: Totals, part: z.number().int().min(2) }),
});

/** What starts CatalogueRerender: a fresh request, or the continuation of a job. */
export const PlanInput = z.union([ContinuedPlanInput, FreshPlanInput]);
export type PlanInput = z.infer<typeof PlanInput>;

export const DEFAULT_TOLERATED_FAILURE_PERCENTAGE = 5;

/** The deployment's paging settings (PipelineProps.rerender). */
export interface RerenderSettings {
  /** @default 1,000 */
  readonly pageSize?: number;
  /** @default 200 */
  readonly pagesPerExecution?: number;
}

export interface PlannedPart {
  readonly job: RerenderJob;
  readonly cursor: Cursor;
  readonly totals: Totals;
  readonly part: Part;
}

/**
 * The longest listed original a page can hold, as state: a 32-character tenant
 * and a 128-character image id (core/image-path.ts), with its comma.
 */
export const MAX_ITEM_BYTES = stateBytes({ tenant: 'x'.repeat(32), imageId: 'x'.repeat(128) }) + 1;
/**
 * Room for the rest of a page's state beside its items and the job: two cursors
 * with S3 continuation tokens, the counts with their skip reasons, the part,
 * and the Distributed Map's result ({MapRunArn, ResultWriterDetails}).
 */
const PAGE_OVERHEAD_BYTES = 2 * 1024 + MAX_SKIP_REASONS * 220 + 2 * 1024;

/**
 * Plans a job, or its next part. A fresh request is validated where it is
 * consumed and turned into a job: which tenants to list, at which schema. A
 * schema a tenant cannot serve (a width off its breakpoints, a format it does not
 * offer) is refused up front, not discovered as thousands of failures. A
 * continuation keeps its job, cursor and counts; only the pages per execution
 * follow the deployment's current setting, which is about the definition's history.
 * Either way, a page whose state could pass 256 KiB is refused here, before anything renders.
 * @throws {PictorError} InvalidEvent, StateTooLarge
 */
export function planRerender(input: PlanInput, config: PictorConfig, settings: RerenderSettings = {}): PlannedPart {
  const pagesPerExecution = settings.pagesPerExecution ?? DEFAULT_PAGES_PER_EXECUTION;
  if (pagesPerExecution > MAX_PAGES_PER_EXECUTION) {
    throw new PictorError('InvalidConfig', `Expected at most ${MAX_PAGES_PER_EXECUTION} pages per execution but received ${pagesPerExecution}: more could pass the 25,000-event history.`);
  }
  const planned = 'continuation' in input ? continuePart(input, pagesPerExecution) : planJob(input, config, settings.pageSize ?? DEFAULT_PAGE_SIZE, pagesPerExecution);
  const worstPage = stateBytes(planned) + planned.job.pageSize * MAX_ITEM_BYTES + PAGE_OVERHEAD_BYTES;
  if (worstPage > STATE_LIMIT_BYTES) {
    throw new PictorError(
      'StateTooLarge',
      `A page of ${planned.job.pageSize} originals with the longest ids could be ${worstPage} bytes of state, over Step Functions' ${STATE_LIMIT_BYTES}: lower the page size or re-render fewer tenants at once.`,
    );
  }
  return planned;
}

function continuePart(input: z.infer<typeof ContinuedPlanInput>, pagesPerExecution: number): PlannedPart {
  const { job, cursor, totals, part } = input.continuation;
  if (job.jobId !== input.jobId) throw new PictorError('InvalidEvent', `The continuation of job '${job.jobId}' arrived as job '${input.jobId}'.`);
  return { job: { ...job, pagesPerExecution }, cursor, totals, part: { number: part, pages: 0 } };
}

function planJob(input: z.infer<typeof FreshPlanInput>, config: PictorConfig, pageSize: number, pagesPerExecution: number): PlannedPart {
  const jobId = RerenderJob.shape.jobId.safeParse(input.jobId);
  if (!jobId.success) throw new PictorError('InvalidEvent', `Invalid job id '${input.jobId}': ${jobId.error.issues[0]!.message}.`);
  const detail = parseDetail('Rerender Requested', input.detail);
  const tenants = detail.tenant === undefined ? Object.keys(config.tenants).sort() : [detail.tenant];
  if (detail.tenant !== undefined && !Object.hasOwn(config.tenants, detail.tenant)) throw new PictorError('InvalidEvent', `No tenant '${detail.tenant}' is configured.`);
  if (tenants.length === 0) throw new PictorError('InvalidEvent', 'No tenant is configured: there is nothing to re-render.');
  for (const name of tenants) {
    const tenant = config.tenants[name]!;
    const offWidths = (detail.variants?.widths ?? []).filter((w) => !tenant.breakpoints.includes(w));
    const offFormats = (detail.variants?.formats ?? []).filter((f) => f !== 'legacy' && !tenant.formats.includes(f));
    if (offWidths.length > 0) throw new PictorError('InvalidEvent', `Tenant '${name}' has no breakpoint ${offWidths.join(', ')}: no request would ever ask for it.`);
    if (offFormats.length > 0) throw new PictorError('InvalidEvent', `Tenant '${name}' does not offer ${offFormats.join(', ')}.`);
    standardVariants({ ...tenant, variants: { ...tenant.variants, ...detail.variants } });
  }
  return {
    job: {
      jobId: jobId.data,
      tenants,
      tenant: detail.tenant,
      variants: detail.variants,
      onlyStale: detail.onlyStale ?? false,
      toleratedFailurePercentage: detail.toleratedFailurePercentage ?? DEFAULT_TOLERATED_FAILURE_PERCENTAGE,
      pageSize,
      pagesPerExecution,
      resultsPrefix: rerenderKeys.results(jobId.data),
    },
    cursor: { tenantIndex: 0 },
    totals: { rendered: 0, skipped: 0, failed: 0, skippedBecause: {}, pages: 0 },
    part: { number: 1, pages: 0 },
  };
}
