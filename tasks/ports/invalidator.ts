/**
 * The distribution's cache invalidations (CloudFront's, in a deployment:
 * tasks/shared/cloudfront-invalidator.ts).
 * https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CreateInvalidation.html
 */
export interface Invalidator {
  /**
   * Asks the edge caches to drop these paths. The same `callerReference` with
   * the same paths returns the invalidation made before instead of a second one.
   * @throws {PictorError} TooManyInvalidationsInProgress (a quota is full: wait and retry),
   *   InvalidConfig (no such distribution, or no permission), OriginUnavailable (retry)
   */
  create(callerReference: string, paths: readonly string[]): Promise<InvalidationState>;
  /**
   * An invalidation's status now: InProgress or Completed.
   * @throws {PictorError} InvalidConfig (no such invalidation), OriginUnavailable (retry)
   */
  get(id: string): Promise<InvalidationState>;
}

export interface InvalidationState {
  readonly id: string;
  /** InProgress or Completed. */
  readonly status: string;
  /** When CloudFront created it: the deadline counts from here. */
  readonly createdAt: Date;
}
