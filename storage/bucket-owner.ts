import type { S3Client } from '@aws-sdk/client-s3';
import { PictorError } from '../core/errors.ts';

/** An AWS account id: S3 takes nothing else as a bucket owner condition. */
const ACCOUNT_ID = /^[0-9]{12}$/;

/**
 * Makes every request of this S3 client name the account its bucket must
 * belong to: ExpectedBucketOwner, and ExpectedSourceBucketOwner on copies. S3
 * refuses a request whose bucket another account owns with 403 AccessDenied, so
 * a bucket name someone else holds (names are global, and Pictor's derive from
 * the account and region) never receives our data nor feeds us its own. Set at
 * the first step, on the command's input, so the SDK serializes it only for the
 * operations that take it and signs it like any other header.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-owner-condition.html
 * @throws {PictorError} InvalidConfig when `account` is not a 12-digit account id.
 */
export function expectBucketOwner(client: S3Client, account: string): S3Client {
  if (!ACCOUNT_ID.test(account)) throw new PictorError('InvalidConfig', `Expected a 12-digit AWS account id for the S3 bucket owner but received '${account}'.`);
  client.middlewareStack.add(
    (next) => async (args) => {
      const input = args.input as { ExpectedBucketOwner?: string; ExpectedSourceBucketOwner?: string; CopySource?: string };
      input.ExpectedBucketOwner ??= account;
      if (input.CopySource !== undefined) input.ExpectedSourceBucketOwner ??= account;
      return next(args);
    },
    { step: 'initialize', name: 'pictorExpectedBucketOwner', override: true },
  );
  return client;
}

/**
 * The account a Lambda function runs in, from its context's invokedFunctionArn
 * (`arn:aws:lambda:region:account:function:name[:qualifier]`). Lambda@Edge has
 * no environment variables, so this is how it learns its own account.
 * https://docs.aws.amazon.com/lambda/latest/dg/nodejs-context.html
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html
 * @throws {PictorError} InternalError when the ARN names no account.
 */
export function accountOfFunctionArn(arn: string | undefined): string {
  const account = (arn ?? '').split(':')[4] ?? '';
  if (!ACCOUNT_ID.test(account)) throw new PictorError('InternalError', `Expected a Lambda function ARN naming its account but received '${arn}'.`);
  return account;
}
