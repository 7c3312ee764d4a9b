import { createHash } from 'node:crypto';
import { CreateInvalidationCommand, GetInvalidationCommand, type CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { z } from 'zod';
import { PictorError } from '../../core/errors.ts';
import { invalidationPath } from '../../core/takedown.ts';
import { BatchId, TakedownItem, type Invalidation } from '../shared/takedown-state.ts';

export const InvalidateInput = z.object({ batchId: BatchId, item: TakedownItem });

export interface CloudFrontDeps {
  readonly cloudfront: CloudFrontClient;
  readonly distributionId: string;
}

/**
 * Asks CloudFront to drop every cached URL of the image: one wildcard path. The
 * CallerReference is derived from the batch and the image, so a retry, or the
 * same batch run twice, gets the invalidation already made instead of a second
 * one. https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CreateInvalidation.html
 * @throws {PictorError} TooManyInvalidationsInProgress (the 15-wildcard quota is full: wait and retry),
 *   OriginUnavailable (retry)
 */
export async function invalidateImage(input: z.infer<typeof InvalidateInput>, deps: CloudFrontDeps): Promise<Invalidation> {
  const path = invalidationPath(input.item);
  const callerReference = 'pictor-takedown-' + createHash('sha256').update(`${input.batchId}\n${input.item.tenant}\n${input.item.imageId}`).digest('hex').slice(0, 40);
  const result = await cloudFront(() =>
    deps.cloudfront.send(
      new CreateInvalidationCommand({
        DistributionId: deps.distributionId,
        InvalidationBatch: { CallerReference: callerReference, Paths: { Quantity: 1, Items: [path] } },
      }),
    ),
  );
  return { id: result.Invalidation!.Id!, status: result.Invalidation!.Status!, path };
}

export const CheckInput = z.object({ invalidation: z.object({ id: z.string(), path: z.string() }) });

export interface CheckDeps extends CloudFrontDeps {
  /** How long after its creation an invalidation may stay in progress. */
  readonly deadlineSeconds: number;
  readonly now: () => Date;
}

/**
 * The invalidation's status now: InProgress or Completed. Waiting is bounded:
 * past the deadline, counted from CloudFront's own CreateTime, it fails.
 * @throws {PictorError} InvalidationTimedOut past the deadline, OriginUnavailable (retry)
 */
export async function checkInvalidation(input: z.infer<typeof CheckInput>, deps: CheckDeps): Promise<Invalidation> {
  const result = await cloudFront(() => deps.cloudfront.send(new GetInvalidationCommand({ DistributionId: deps.distributionId, Id: input.invalidation.id })));
  const status = result.Invalidation!.Status!;
  const created = result.Invalidation!.CreateTime!;
  const waited = Math.floor((deps.now().getTime() - created.getTime()) / 1000);
  if (status !== 'Completed' && waited > deps.deadlineSeconds) {
    throw new PictorError(
      'InvalidationTimedOut',
      `Invalidation ${input.invalidation.id} of ${input.invalidation.path} is still ${status} after ${waited} s (created ${created.toISOString()}); the deadline is ${deps.deadlineSeconds} s. Edge caches may still hold the image until it completes.`,
    );
  }
  return { id: input.invalidation.id, status, path: input.invalidation.path };
}

/** CloudFront's errors by name: throttling is the state machine's to wait out; the rest is retried as transient. */
async function cloudFront<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const name = (error as Error).name;
    if (name === 'TooManyInvalidationsInProgress') {
      throw new PictorError('TooManyInvalidationsInProgress', 'CloudFront has as many wildcard invalidations in progress as it allows.', { cause: error });
    }
    if (name === 'NoSuchDistribution' || name === 'NoSuchInvalidation' || name === 'AccessDenied') {
      throw new PictorError('InvalidConfig', `CloudFront refused: ${(error as Error).message}`, { cause: error });
    }
    throw new PictorError('OriginUnavailable', `CloudFront did not answer: ${(error as Error).message}`, { cause: error });
  }
}
