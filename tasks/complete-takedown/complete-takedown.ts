import { z } from 'zod';
import { PictorError } from '../../core/errors.ts';
import type { EventPublisher } from '../../events/publish.ts';
import { BatchId } from '../shared/takedown-state.ts';

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

export const CompleteInput = z.object({ batchId: BatchId, items: z.array(z.discriminatedUnion('status', [Done, Failed])) });

export interface TakedownSummary {
  readonly batchId: string;
  readonly takenDown: number;
  readonly auditKeys: string[];
  readonly invalidationIds: string[];
}

/**
 * Announces the images taken down and verified ("Takedown Completed"), then
 * fails the batch, naming each image, if any was not: an unverified or failed
 * takedown must be seen by a person, not logged and forgotten.
 * @throws {PictorError} TakedownIncomplete
 */
export async function completeTakedown(input: z.infer<typeof CompleteInput>, deps: { readonly events: EventPublisher }): Promise<TakedownSummary> {
  const done = input.items.filter((i): i is z.infer<typeof Done> => i.status === 'done' && i.verified);
  const invalidationIds = [...new Set(done.flatMap((i) => (i.invalidationId ? [i.invalidationId] : [])))];
  if (done.length > 0) {
    await deps.events.publish('Takedown Completed', {
      schemaVersion: 1,
      items: done.map((i) => ({ tenant: i.tenant, imageId: i.imageId, auditKey: i.auditKey })),
      invalidationIds,
    });
  }
  const incomplete = input.items.filter((i) => !(i.status === 'done' && i.verified));
  if (incomplete.length > 0) {
    const why = (i: (typeof incomplete)[number]) =>
      i.status === 'failed' ? `${i.error} ${i.cause ?? ''}`.trim() : `${i.failure ?? 'unverified'} (audit record ${i.auditKey})`;
    const named = incomplete.map((i) => `${i.tenant}/${i.imageId}: ${why(i)}`);
    throw new PictorError('TakedownIncomplete', `${incomplete.length} of ${input.items.length} images were not taken down: ${named.slice(0, 20).join('; ')}`);
  }
  return { batchId: input.batchId, takenDown: done.length, auditKeys: done.map((i) => i.auditKey), invalidationIds };
}
