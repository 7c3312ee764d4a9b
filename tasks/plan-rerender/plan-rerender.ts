import { z } from 'zod';
import { PictorError } from '../../core/errors.ts';
import { standardVariants, type PictorConfig } from '../../core/tenant-config.ts';
import { parseDetail } from '../../events/publish.ts';
import { RerenderJob, type Cursor, type Totals } from '../shared/rerender-state.ts';

/** What starts CatalogueRerender: a "Rerender Requested" detail, and the id of the event or request that carried it. */
export const PlanInput = z.object({ jobId: RerenderJob.shape.jobId, detail: z.unknown() });

/** Originals per listing page: S3 lists 1,000 at most, and a page's items must fit a state's 256 KB. */
export const PAGE_SIZE = 1000;
export const DEFAULT_TOLERATED_FAILURE_PERCENTAGE = 5;

/**
 * Validates a "Rerender Requested" where it is consumed and turns it into a job:
 * which tenants to list, at which schema. A schema a tenant cannot serve (a width
 * off its breakpoints, a format it does not offer) is refused up front, not
 * discovered as thousands of failures.
 * @throws {PictorError} InvalidEvent
 */
export function planRerender(input: z.infer<typeof PlanInput>, config: PictorConfig): { job: RerenderJob; cursor: Cursor; totals: Totals } {
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
      jobId: input.jobId,
      tenants,
      tenant: detail.tenant,
      variants: detail.variants,
      onlyStale: detail.onlyStale ?? false,
      toleratedFailurePercentage: detail.toleratedFailurePercentage ?? DEFAULT_TOLERATED_FAILURE_PERCENTAGE,
      pageSize: PAGE_SIZE,
    },
    cursor: { tenantIndex: 0 },
    totals: { rendered: 0, skipped: 0, failed: 0, failures: [], failuresOmitted: 0, skippedBecause: {} },
  };
}
