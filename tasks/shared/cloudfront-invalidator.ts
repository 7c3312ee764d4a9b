import { CreateInvalidationCommand, GetInvalidationCommand, type CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { PictorError } from '../../core/errors.ts';
import type { InvalidationState, Invalidator } from '../ports/invalidator.ts';

/** The Invalidator port on one CloudFront distribution. */
export class CloudFrontInvalidator implements Invalidator {
  constructor(
    private readonly cloudfront: CloudFrontClient,
    readonly distributionId: string,
  ) {}

  async create(callerReference: string, paths: readonly string[]): Promise<InvalidationState> {
    const result = await translate(() =>
      this.cloudfront.send(
        new CreateInvalidationCommand({
          DistributionId: this.distributionId,
          InvalidationBatch: { CallerReference: callerReference, Paths: { Quantity: paths.length, Items: [...paths] } },
        }),
      ),
    );
    return state(result.Invalidation);
  }

  async get(id: string): Promise<InvalidationState> {
    const result = await translate(() => this.cloudfront.send(new GetInvalidationCommand({ DistributionId: this.distributionId, Id: id })));
    return state(result.Invalidation);
  }
}

function state(invalidation: { Id?: string; Status?: string; CreateTime?: Date } | undefined): InvalidationState {
  if (!invalidation?.Id || !invalidation.Status || !invalidation.CreateTime) {
    throw new PictorError('OriginUnavailable', 'CloudFront answered without the invalidation.');
  }
  return { id: invalidation.Id, status: invalidation.Status, createdAt: invalidation.CreateTime };
}

/**
 * CloudFront's errors by name: a full quota is the state machine's to wait out;
 * a missing distribution or invalidation, or no permission, is the deployment's
 * fault; the rest is retried as transient.
 * https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CreateInvalidation.html#API_CreateInvalidation_Errors
 */
async function translate<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const name = (error as Error).name;
    if (name === 'TooManyInvalidationsInProgress') {
      throw new PictorError('TooManyInvalidationsInProgress', 'CloudFront has as many invalidation paths in progress as it allows (3,000 exact, 15 wildcard).', { cause: error });
    }
    if (name === 'NoSuchDistribution' || name === 'NoSuchInvalidation' || name === 'AccessDenied') {
      throw new PictorError('InvalidConfig', `CloudFront refused: ${(error as Error).message}`, { cause: error });
    }
    throw new PictorError('OriginUnavailable', `CloudFront did not answer: ${(error as Error).message}`, { cause: error });
  }
}
