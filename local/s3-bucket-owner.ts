import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const S3Error = require('s3rver/lib/models/error.js') as new (code: string, message?: string, detail?: Record<string, unknown>) => Error;

/** The slice of Koa's context the check reads. */
interface Ctx {
  path: string;
  headers: Record<string, string | string[] | undefined>;
}

export interface BucketOwnerOptions {
  /** The account that owns every bucket of the server. */
  readonly owner: string;
  /**
   * Refuse, as a mismatch is refused, any request on a bucket that names no
   * expected owner. AWS does not (the condition is the caller's choice); tests
   * turn this on to show that every call of the product names one.
   * @default false
   */
  readonly required?: boolean;
}

/**
 * S3's bucket owner condition, which s3rver lacks: a request whose
 * `x-amz-expected-bucket-owner` (or, on a copy, `x-amz-source-expected-bucket-owner`)
 * is not the account owning the bucket fails with 403 AccessDenied before anything
 * else happens. Requests without a bucket (ListBuckets) are not checked, as on AWS.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-owner-condition.html
 */
export function bucketOwnerMiddleware(options: BucketOwnerOptions) {
  return async (ctx: Ctx, next: () => Promise<void>) => {
    const bucket = /^\/([^/]+)/.exec(ctx.path)?.[1];
    if (bucket) {
      check(ctx.headers['x-amz-expected-bucket-owner'], bucket, 'x-amz-expected-bucket-owner');
      const copySource = ctx.headers['x-amz-copy-source'];
      if (copySource !== undefined) {
        const source = decodeURIComponent(String(copySource)).replace(/^\//, '').split('/')[0]!;
        check(ctx.headers['x-amz-source-expected-bucket-owner'], source, 'x-amz-source-expected-bucket-owner');
      }
    }
    return next();
  };

  function check(expected: string | string[] | undefined, bucket: string, header: string): void {
    if (expected === undefined) {
      if (options.required) throw new S3Error('AccessDenied', `Access Denied: this twin requires ${header} on every request (BucketOwnerOptions.required).`, { BucketName: bucket });
      return;
    }
    if (String(expected) !== options.owner) throw new S3Error('AccessDenied', 'Access Denied', { BucketName: bucket });
  }
}
