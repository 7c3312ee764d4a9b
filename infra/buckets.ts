import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { SNAPSHOT_PREFIX, STAGING_PREFIX } from '../core/object-keys.ts';

/** Every Pictor bucket: private, encrypted, TLS only, kept when its stack is deleted. */
export const PRIVATE_BUCKET = {
  blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
  encryption: s3.BucketEncryption.S3_MANAGED,
  enforceSSL: true,
  removalPolicy: RemovalPolicy.RETAIN,
} as const;

export const ABORT_INCOMPLETE_UPLOADS: s3.LifecycleRule = { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) };

export interface OriginalsLifecycle {
  /** @default 30 days */
  readonly noncurrent?: Duration;
}

/**
 * The originals' lifecycle, in the primary bucket and in each replica, since
 * lifecycle actions are not replicated: replaced uploads' old bytes expire.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-what-is-isnot-replicated.html
 */
export function originalsLifecycle(options: OriginalsLifecycle = {}): s3.LifecycleRule[] {
  return [
    ABORT_INCOMPLETE_UPLOADS,
    { id: 'expire-replaced-originals', noncurrentVersionExpiration: options.noncurrent ?? Duration.days(30), expiredObjectDeleteMarker: true },
    // Deployments made before staging tagged unpublished snapshots in place; theirs still expire.
    { id: 'expire-unpublished-snapshots', prefix: SNAPSHOT_PREFIX, tagFilters: LEGACY_UNPUBLISHED_TAG, expiration: Duration.days(7) },
  ];
}

/**
 * The variants' lifecycle: what a render staged for a version that was never
 * published (its run failed for good, or a newer upload won) expires.
 */
export function variantsLifecycle(unpublished: Duration = Duration.days(7)): s3.LifecycleRule[] {
  return [
    ABORT_INCOMPLETE_UPLOADS,
    { id: 'expire-unpublished-staging', prefix: STAGING_PREFIX, expiration: unpublished },
    // Deployments made before staging tagged unpublished variants in place; theirs still expire.
    { id: 'expire-unpublished-variants', tagFilters: LEGACY_UNPUBLISHED_TAG, expiration: unpublished },
  ];
}

/** The tag render used to put on a version's objects until publish retagged them. Nothing writes it now. */
const LEGACY_UNPUBLISHED_TAG = { 'pictor-state': 'unpublished' };

/** Server access logs, kept a year. The target must be in its buckets' region. https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html */
export const ACCESS_LOG_RETENTION: s3.LifecycleRule = { id: 'expire-logs', expiration: Duration.days(365) };

/**
 * Lets one distribution read a variants bucket through Origin Access Control: the
 * CloudFront service principal, for that distribution only, and never the staging
 * area. Without s3:ListBucket a missing key answers 403.
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-restricting-access-to-s3.html
 */
export function allowDistributionRead(bucket: s3.Bucket, distributionId: string): void {
  const stack = Stack.of(bucket);
  const principal = new iam.ServicePrincipal('cloudfront.amazonaws.com');
  const conditions = { StringEquals: { 'AWS:SourceArn': `arn:${stack.partition}:cloudfront::${stack.account}:distribution/${distributionId}` } };
  bucket.addToResourcePolicy(new iam.PolicyStatement({ principals: [principal], actions: ['s3:GetObject'], resources: [bucket.arnForObjects('*')], conditions }));
  bucket.addToResourcePolicy(new iam.PolicyStatement({ effect: iam.Effect.DENY, principals: [principal], actions: ['s3:GetObject'], resources: [bucket.arnForObjects(`${STAGING_PREFIX}*`)] }));
}
