import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { SNAPSHOT_PREFIX, UNPUBLISHED_TAG } from '../core/object-keys.ts';

/** Every Pictor bucket: private, encrypted, TLS only, kept when its stack is deleted. */
export const PRIVATE_BUCKET = {
  blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
  encryption: s3.BucketEncryption.S3_MANAGED,
  enforceSSL: true,
  removalPolicy: RemovalPolicy.RETAIN,
} as const;

export const ABORT_INCOMPLETE_UPLOADS: s3.LifecycleRule = { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) };

export interface OriginalsLifecycle {
  /** @default 7 days */
  readonly unpublished?: Duration;
  /** @default 30 days */
  readonly noncurrent?: Duration;
}

/**
 * The originals' lifecycle, in the primary bucket and in each replica, since
 * lifecycle actions are not replicated: replaced uploads' old bytes expire, and so
 * do snapshots of versions that were never published (render tags them, publish untags them).
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-what-is-isnot-replicated.html
 */
export function originalsLifecycle(options: OriginalsLifecycle = {}): s3.LifecycleRule[] {
  return [
    ABORT_INCOMPLETE_UPLOADS,
    { id: 'expire-replaced-originals', noncurrentVersionExpiration: options.noncurrent ?? Duration.days(30), expiredObjectDeleteMarker: true },
    { id: 'expire-unpublished-snapshots', prefix: SNAPSHOT_PREFIX, tagFilters: UNPUBLISHED_TAG, expiration: options.unpublished ?? Duration.days(7) },
  ];
}

/** Server access logs, kept a year. The target must be in its buckets' region. https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html */
export const ACCESS_LOG_RETENTION: s3.LifecycleRule = { id: 'expire-logs', expiration: Duration.days(365) };
