import { z } from 'zod';
import { PictorError } from '../../core/errors.ts';
import type { Invalidator } from '../ports/invalidator.ts';
import { Invalidation } from '../shared/takedown-state.ts';

export const CheckInput = z.object({ invalidation: Invalidation });

export interface CheckDeps {
  /** The distribution's invalidations. */
  readonly invalidator: Invalidator;
  /** How long after its creation an invalidation may stay in progress. */
  readonly deadlineSeconds: number;
  readonly now: () => Date;
}

/**
 * The invalidation's status now: InProgress or Completed. TakedownBatch polls
 * it between waits. Waiting is bounded: past the deadline, counted from
 * CloudFront's own creation time (not from the first poll, which a retry would
 * move), it fails.
 * @throws {PictorError} InvalidationTimedOut past the deadline, OriginUnavailable (retry)
 */
export async function checkInvalidation(input: z.infer<typeof CheckInput>, deps: CheckDeps): Promise<Invalidation> {
  const { status, createdAt } = await deps.invalidator.get(input.invalidation.id);
  const waited = Math.floor((deps.now().getTime() - createdAt.getTime()) / 1000);
  if (status !== 'Completed' && waited > deps.deadlineSeconds) {
    throw new PictorError(
      'InvalidationTimedOut',
      `Invalidation ${input.invalidation.id} of ${input.invalidation.paths} paths (${input.invalidation.path}, …) is still ${status} after ${waited} s (created ${createdAt.toISOString()}); the deadline is ${deps.deadlineSeconds} s. Edge caches may still hold the image until it completes.`,
    );
  }
  return { ...input.invalidation, status };
}
