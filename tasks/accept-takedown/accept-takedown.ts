import { z } from 'zod';
import { parseDetail } from '../../events/parse-detail.ts';
import type { Reports, S3Location } from '../shared/reports.ts';
import { BatchId, takedownKeys, type TakedownItem } from '../shared/takedown-state.ts';

/** What starts TakedownBatch: a "Takedown Requested" detail, and the id of the event or request that carried it. */
export const AcceptTakedownInput = z.object({
  batchId: BatchId,
  requestedAt: z.string().optional(),
  detail: z.unknown(),
});

export interface AcceptedTakedown {
  readonly batchId: string;
  readonly requestedAt: string;
  /** How many images the batch takes down. */
  readonly count: number;
  /** The accepted items, a JSON array, which the Distributed Map reads with its ItemReader. */
  readonly request: S3Location;
}

export interface AcceptDeps {
  readonly reports: Reports;
  readonly now: () => Date;
}

/**
 * Validates the request where it is consumed (a bad one fails as InvalidEvent
 * before anything is deleted), folds repeats of one image into its first
 * mention, so that no two branches race on the same objects, and writes the
 * items to the reports bucket: 1,000 items with 128-character ids come to about
 * 230 KB, too close to a state's 256 KiB to carry beside anything else.
 * https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html#service-limits-task-executions
 */
export async function acceptTakedown(input: z.infer<typeof AcceptTakedownInput>, deps: AcceptDeps): Promise<AcceptedTakedown> {
  const detail = parseDetail('Takedown Requested', input.detail);
  const seen = new Set<string>();
  const items: TakedownItem[] = detail.items.filter((item) => {
    const id = `${item.tenant}/${item.imageId}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
  const request = await deps.reports.put(takedownKeys.request(input.batchId), items);
  return { batchId: input.batchId, requestedAt: input.requestedAt ?? deps.now().toISOString(), count: items.length, request };
}
