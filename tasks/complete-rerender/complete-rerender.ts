import { z } from 'zod';
import { PictorError } from '../../core/errors.ts';
import type { EventPublisher } from '../../events/publish.ts';
import { RerenderJob, Totals } from '../shared/rerender-state.ts';

export const CompleteRerenderInput = z.object({ job: RerenderJob, totals: Totals, exceeded: z.boolean() });

export interface RerenderSummary {
  readonly jobId: string;
  readonly tenant?: string;
  readonly rendered: number;
  readonly skipped: number;
  readonly failed: number;
  readonly skippedBecause: Record<string, number>;
  readonly failures: z.infer<typeof Totals>['failures'];
  readonly failuresOmitted: number;
}

/**
 * Announces the job's exact summary ("Rerender Completed") and returns it. A job
 * stopped at its failure threshold is announced as aborted and then fails, so
 * that whoever started it sees it failed, with the summary as the cause.
 * @throws {PictorError} TooManyFailures
 */
export async function completeRerender(input: z.infer<typeof CompleteRerenderInput>, deps: { readonly events: EventPublisher }): Promise<RerenderSummary> {
  const { totals, job } = input;
  const summary: RerenderSummary = {
    jobId: job.jobId,
    ...(job.tenant === undefined ? {} : { tenant: job.tenant }),
    rendered: totals.rendered,
    skipped: totals.skipped,
    failed: totals.failed,
    skippedBecause: totals.skippedBecause,
    failures: totals.failures,
    failuresOmitted: totals.failuresOmitted,
  };
  await deps.events.publish('Rerender Completed', {
    schemaVersion: 1,
    jobId: job.jobId,
    tenant: job.tenant,
    aborted: input.exceeded,
    rendered: totals.rendered,
    skipped: totals.skipped,
    failed: totals.failed,
    failures: totals.failures,
    failuresOmitted: totals.failuresOmitted,
  });
  if (input.exceeded) {
    throw new PictorError(
      'TooManyFailures',
      `Stopped: ${totals.failed} of ${totals.rendered + totals.skipped + totals.failed} originals failed, more than the ${job.toleratedFailurePercentage}% tolerated. ${JSON.stringify(summary)}`,
    );
  }
  return summary;
}
