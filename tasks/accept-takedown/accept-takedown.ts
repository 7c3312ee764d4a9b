import { z } from 'zod';
import { parseDetail } from '../../events/publish.ts';
import { BatchId, type TakedownItem } from '../shared/takedown-state.ts';

/** What starts TakedownBatch: a "Takedown Requested" detail, and the id of the event or request that carried it. */
export const AcceptTakedownInput = z.object({
  batchId: BatchId,
  requestedAt: z.string().optional(),
  detail: z.unknown(),
});

export interface AcceptedTakedown {
  readonly batchId: string;
  readonly requestedAt: string;
  readonly items: TakedownItem[];
}

/**
 * Validates the request where it is consumed (a bad one fails as InvalidEvent
 * before anything is deleted) and folds repeats of one image into its first
 * mention, so that no two branches race on the same objects.
 */
export function acceptTakedown(input: z.infer<typeof AcceptTakedownInput>, now: () => Date = () => new Date()): AcceptedTakedown {
  const detail = parseDetail('Takedown Requested', input.detail);
  const seen = new Set<string>();
  const items = detail.items.filter((item) => {
    const id = `${item.tenant}/${item.imageId}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
  return { batchId: input.batchId, requestedAt: input.requestedAt ?? now().toISOString(), items };
}
