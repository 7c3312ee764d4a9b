import { z } from 'zod';
import { Cursor, ItemResult, MAX_LISTED_FAILURES, RerenderJob, Totals } from '../shared/rerender-state.ts';

export const TallyInput = z.object({
  job: RerenderJob,
  totals: Totals,
  page: z.object({ results: z.array(ItemResult), cursor: Cursor.optional() }),
});

export interface Tally {
  readonly job: z.infer<typeof RerenderJob>;
  readonly totals: Totals;
  readonly cursor?: z.infer<typeof Cursor>;
  /** Another page to list. */
  readonly more: boolean;
  /** More failed than the job tolerates: stop here. */
  readonly exceeded: boolean;
}

/**
 * Adds a page's results to the job's totals, exactly: every original lands in
 * one of rendered, skipped or failed, and each failure keeps its reason. Decides
 * whether the job goes on: more pages, and failures within the threshold.
 */
export function tallyRerender(input: z.infer<typeof TallyInput>): Tally {
  const totals: Totals = { ...input.totals, failures: [...input.totals.failures], skippedBecause: { ...input.totals.skippedBecause } };
  for (const result of input.page.results) {
    if (result.status === 'rendered') totals.rendered++;
    else if (result.status === 'skipped') {
      totals.skipped++;
      totals.skippedBecause[result.reason] = (totals.skippedBecause[result.reason] ?? 0) + 1;
    } else {
      totals.failed++;
      const failure = { tenant: result.tenant, imageId: result.imageId, error: result.error, cause: result.cause ?? '' };
      if (totals.failures.length < MAX_LISTED_FAILURES) totals.failures.push(failure);
      else totals.failuresOmitted++;
    }
  }
  const processed = totals.rendered + totals.skipped + totals.failed;
  const exceeded = processed > 0 && (totals.failed / processed) * 100 > input.job.toleratedFailurePercentage;
  return { job: input.job, totals, cursor: input.page.cursor, more: input.page.cursor !== undefined, exceeded };
}
