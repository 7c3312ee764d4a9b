import { z } from 'zod';
import { VariantSchemaV1 } from '../../events/schemas/pictor-events.ts';

/**
 * CatalogueRerender's data between states: the job, where the listing is, the
 * counts so far, and which part (execution) of the job this is. Everything per
 * original (results, failures) lives in the reports bucket, so the state stays
 * far below Step Functions' 256 KiB at any catalogue size.
 * https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html
 */

/** Step Functions' limit on a state's input or output, a task result and an execution's input: 256 KiB, as UTF-8. */
export const STATE_LIMIT_BYTES = 256 * 1024;

/**
 * A job id is at most 64 characters, so that a continuation's execution name
 * `<jobId>-part-<n>` stays within the 80 characters StartExecution accepts.
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html
 */
export const MAX_JOB_ID_LENGTH = 64;

export const RerenderJob = z.object({
  jobId: z.string().regex(new RegExp(`^[A-Za-z0-9_-]{1,${MAX_JOB_ID_LENGTH}}$`), `a job id is 1 to ${MAX_JOB_ID_LENGTH} of A-Z a-z 0-9 _ -`),
  /** The tenants to list, in order; the requested one, or all. */
  tenants: z.array(z.string()).min(1),
  /** Only present when the request asked for it. */
  tenant: z.string().optional(),
  variants: VariantSchemaV1.optional(),
  onlyStale: z.boolean(),
  toleratedFailurePercentage: z.number().min(0).max(100),
  pageSize: z.number().int().min(1).max(1000),
  /** Pages an execution tallies before it continues as a new one: the deployment's setting when the part started. */
  pagesPerExecution: z.number().int().min(1),
  /** Where the Distributed Map writes its per-item results (ResultWriter's Prefix): `rerenders/<jobId>/results`. */
  resultsPrefix: z.string(),
});
export type RerenderJob = z.infer<typeof RerenderJob>;

/** Where the next listing page starts: a tenant, and S3's continuation token within it. */
export const Cursor = z.object({ tenantIndex: z.number().int().nonnegative(), token: z.string().optional() });
export type Cursor = z.infer<typeof Cursor>;

export const Failure = z.object({ tenant: z.string(), imageId: z.string(), error: z.string(), cause: z.string() });
export type Failure = z.infer<typeof Failure>;

/** Counts only: the failures themselves are in `rerenders/<jobId>/failures/`. */
export const Totals = z.object({
  rendered: z.number().int().nonnegative(),
  skipped: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  /** Why originals were skipped, with how many each (at most MAX_SKIP_REASONS reasons). */
  skippedBecause: z.record(z.string(), z.number().int().nonnegative()),
  /** Pages tallied over the whole job, every part: the next page's number. */
  pages: z.number().int().nonnegative(),
});
export type Totals = z.infer<typeof Totals>;

/** Which execution of the job this is (1 for the first), and how many pages it has tallied itself. */
export const Part = z.object({ number: z.number().int().positive(), pages: z.number().int().nonnegative() });
export type Part = z.infer<typeof Part>;

/** What one original came to: a child execution's output, as the Distributed Map's ResultWriter records it. */
export const ItemResult = z.discriminatedUnion('status', [
  z.object({ status: z.literal('rendered'), tenant: z.string(), imageId: z.string(), version: z.number().int() }),
  z.object({ status: z.literal('skipped'), tenant: z.string(), imageId: z.string(), reason: z.string() }),
  z.object({ status: z.literal('failed'), tenant: z.string(), imageId: z.string(), error: z.string(), cause: z.string().optional() }),
]);
export type ItemResult = z.infer<typeof ItemResult>;

/** Failures the report lists in full; every one is in the failure files. */
export const MAX_LISTED_FAILURES = 100;
/** Failures "Rerender Completed" carries, each cause cut to EVENT_CAUSE_CHARS: the event stays a few KB, far below EventBridge's 256 KB entry. */
export const EVENT_FAILURES = 10;
export const EVENT_CAUSE_CHARS = 300;
/** A failure's cause as the failure files keep it: Step Functions' own Cause is at most 32,768 characters. */
export const REPORT_CAUSE_CHARS = 4096;
/** Distinct skip reasons counted by name; more are counted as "other" so that the totals stay small. */
export const MAX_SKIP_REASONS = 20;

/**
 * Pages one execution handles before it continues as a new execution, so its
 * history stays below Step Functions' 25,000 events.
 * https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html
 * https://docs.aws.amazon.com/step-functions/latest/dg/tutorial-continue-new.html
 *
 * A page adds to the parent's history:
 *   List Originals    TaskStateEntered, LambdaFunctionScheduled, -Started, -Succeeded, TaskStateExited   5
 *   Render Each…      MapStateEntered, MapStateStarted, MapRunStarted, MapRunSucceeded,
 *                     MapStateSucceeded, MapStateExited (the children have histories of their own)  6
 *   Tally Page        as List Originals                                                             5
 *   Go On?            ChoiceStateEntered, ChoiceStateExited                                          2
 *                                                                                                  18
 * Each retry of a task adds LambdaFunctionScheduled, -Started, -Failed (3); List and Tally retry
 * transient errors up to 6 times each: 2 × 6 × 3 = 36 more, 54 for a page at worst.
 * Besides the pages an execution has ExecutionStarted, Plan (5, 23 with its retries), Complete
 * or Continue (5, 53 with both its retriers), a Pass and a Succeed (4) and ExecutionSucceeded:
 * at most 100.
 * The default, 200 pages, is 3,600 + about 20 events a part as a rule and 200 × 54 + 100 = 10,900
 * if every task used every retry: below 25,000 with room for more than twice the miscount.
 */
export const EVENTS_PER_PAGE = 18;
export const WORST_EVENTS_PER_PAGE = 54;
export const EVENTS_PER_EXECUTION = 100;
export const HISTORY_LIMIT = 25_000;
export const DEFAULT_PAGES_PER_EXECUTION = 200;
/** The most pages a part may hold with every retry used: (25,000 − 100) / 54 = 461. */
export const MAX_PAGES_PER_EXECUTION = Math.floor((HISTORY_LIMIT - EVENTS_PER_EXECUTION) / WORST_EVENTS_PER_PAGE);
/** Originals per listing page: S3 lists 1,000 at most. */
export const DEFAULT_PAGE_SIZE = 1000;

/** Everything re-renders keep in the reports bucket sits under this prefix (the tasks' grants name it too). */
export const RERENDERS_PREFIX = 'rerenders/';

/** Everything a job keeps in the reports bucket sits under `rerenders/<jobId>/`. */
export const rerenderKeys = {
  prefix: (jobId: string) => `${RERENDERS_PREFIX}${jobId}/`,
  /** The Distributed Map's ResultWriter prefix; each map run adds `/<run id>/manifest.json` and its result files. */
  results: (jobId: string) => `${RERENDERS_PREFIX}${jobId}/results`,
  failuresPrefix: (jobId: string) => `${RERENDERS_PREFIX}${jobId}/failures/`,
  /** A page's failures; the number is zero-padded so that keys list in page order. */
  failures: (jobId: string, page: number) => `${RERENDERS_PREFIX}${jobId}/failures/${String(page).padStart(8, '0')}.json`,
  report: (jobId: string) => `${RERENDERS_PREFIX}${jobId}/report.json`,
};

/** The bytes Step Functions counts for a piece of state: its JSON, as UTF-8. */
export function stateBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
}

/** A text cut to at most `max` characters, saying so. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
