import { z } from 'zod';
import { PictorError } from '../../core/errors.ts';
import type { EventPublisher } from '../ports/event-publisher.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import { EVENT_CAUSE_CHARS, EVENT_FAILURES, Failure, MAX_LISTED_FAILURES, Part, RerenderJob, rerenderKeys, Totals, truncate } from '../shared/rerender-state.ts';

export const CompleteRerenderInput = z.object({ job: RerenderJob, totals: Totals, part: Part, exceeded: z.boolean() });

/** Where a job's report is: `rerenders/<jobId>/report.json` in the reports bucket. */
export interface ReportLocation {
  readonly bucket: string;
  readonly key: string;
}

/**
 * `rerenders/<jobId>/report.json`: the job's exact counts, its first failures
 * in full, and where every failure and every per-item result is.
 */
export interface RerenderReport {
  readonly schemaVersion: 1;
  readonly jobId: string;
  readonly tenant?: string;
  readonly tenants: readonly string[];
  readonly aborted: boolean;
  readonly rendered: number;
  readonly skipped: number;
  readonly failed: number;
  readonly skippedBecause: Readonly<Record<string, number>>;
  /** Pages listed, and executions (parts) the job took. */
  readonly pages: number;
  readonly parts: number;
  /** The first failures (at most 100), in page order; all of them are in `failureFiles`. */
  readonly failures: readonly Failure[];
  readonly failuresOmitted: number;
  /** One JSON array of failures per page that had any, `<page>.json`. */
  readonly failureFiles: { readonly bucket: string; readonly prefix: string; readonly count: number };
  /** The Distributed Map's own result files, one folder per map run. */
  readonly results: { readonly bucket: string; readonly prefix: string };
}

/** The job's outcome as the execution returns it and "Rerender Completed" carries it: counts, a few failures, the report. */
export interface RerenderSummary {
  readonly jobId: string;
  readonly tenant?: string;
  readonly rendered: number;
  readonly skipped: number;
  readonly failed: number;
  readonly skippedBecause: Readonly<Record<string, number>>;
  /** At most 10, each cause cut to 300 characters. */
  readonly failures: readonly Failure[];
  readonly failuresOmitted: number;
  readonly report: ReportLocation;
}

export interface CompleteDeps {
  readonly events: EventPublisher;
  readonly reports: ObjectStore;
}

/**
 * Writes the job's report, announces the job ("Rerender Completed", pointing at
 * the report, its failures list short and bounded so the event stays a few KB)
 * and returns the same summary. A job stopped at its failure threshold is
 * announced as aborted and then fails, so that whoever started it sees it failed.
 * @throws {PictorError} TooManyFailures, OriginUnavailable (retried)
 */
export async function completeRerender(input: z.infer<typeof CompleteRerenderInput>, deps: CompleteDeps): Promise<RerenderSummary> {
  const { totals, job } = input;
  const failuresPrefix = rerenderKeys.failuresPrefix(job.jobId);
  const failureKeys = (await deps.reports.list(failuresPrefix)).sort();
  const failures: Failure[] = [];
  for (const key of failureKeys) {
    if (failures.length >= MAX_LISTED_FAILURES) break;
    const object = await deps.reports.get(key);
    if (!object) continue;
    failures.push(...z.array(Failure).parse(JSON.parse(object.body.toString('utf8'))).slice(0, MAX_LISTED_FAILURES - failures.length));
  }
  const report: RerenderReport = {
    schemaVersion: 1,
    jobId: job.jobId,
    ...(job.tenant === undefined ? {} : { tenant: job.tenant }),
    tenants: job.tenants,
    aborted: input.exceeded,
    rendered: totals.rendered,
    skipped: totals.skipped,
    failed: totals.failed,
    skippedBecause: totals.skippedBecause,
    pages: totals.pages,
    parts: input.part.number,
    failures,
    failuresOmitted: totals.failed - failures.length,
    failureFiles: { bucket: deps.reports.bucket, prefix: failuresPrefix, count: failureKeys.length },
    results: { bucket: deps.reports.bucket, prefix: job.resultsPrefix },
  };
  const location: ReportLocation = { bucket: deps.reports.bucket, key: rerenderKeys.report(job.jobId) };
  await deps.reports.put(location.key, JSON.stringify(report, null, 2), { contentType: 'application/json' });

  const listed = failures.slice(0, EVENT_FAILURES).map((f) => ({ ...f, error: truncate(f.error, 100), cause: truncate(f.cause, EVENT_CAUSE_CHARS) }));
  const summary: RerenderSummary = {
    jobId: job.jobId,
    ...(job.tenant === undefined ? {} : { tenant: job.tenant }),
    rendered: totals.rendered,
    skipped: totals.skipped,
    failed: totals.failed,
    skippedBecause: totals.skippedBecause,
    failures: listed,
    failuresOmitted: totals.failed - listed.length,
    report: location,
  };
  await deps.events.publish('Rerender Completed', {
    schemaVersion: 1,
    jobId: job.jobId,
    tenant: job.tenant,
    aborted: input.exceeded,
    rendered: totals.rendered,
    skipped: totals.skipped,
    failed: totals.failed,
    failures: listed,
    failuresOmitted: summary.failuresOmitted,
    report: location,
  });
  if (input.exceeded) {
    throw new PictorError(
      'TooManyFailures',
      `Stopped: ${totals.failed} of ${totals.rendered + totals.skipped + totals.failed} originals failed, more than the ${job.toleratedFailurePercentage}% tolerated. Report: s3://${location.bucket}/${location.key}`,
    );
  }
  return summary;
}
