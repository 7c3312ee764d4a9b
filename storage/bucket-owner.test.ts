import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CopyObjectCommand, GetObjectCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { accountOfFunctionArn, expectBucketOwner } from './bucket-owner.ts';

/** The headers of the one request a command would send, captured before it leaves. */
async function headersOf(client: S3Client, command: object): Promise<Record<string, string>> {
  let captured: Record<string, string> = {};
  client.middlewareStack.add(
    () => async (args) => {
      captured = (args.request as { headers: Record<string, string> }).headers;
      throw new Error('captured');
    },
    { step: 'finalizeRequest', name: 'capture', priority: 'low' },
  );
  await assert.rejects(client.send(command as never), /captured/);
  return captured;
}

const client = () => new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'AKID', secretAccessKey: 'SECRET' } });

describe('expectBucketOwner', () => {
  it('names the owner on every request, and the source owner on copies, in the signed headers', async () => {
    const get = await headersOf(expectBucketOwner(client(), '123456789012'), new GetObjectCommand({ Bucket: 'b', Key: 'k' }));
    assert.equal(get['x-amz-expected-bucket-owner'], '123456789012');
    assert.equal(get['x-amz-source-expected-bucket-owner'], undefined);
    assert.match(get.authorization ?? '', /SignedHeaders=[^,]*x-amz-expected-bucket-owner/);
    const copy = await headersOf(expectBucketOwner(client(), '123456789012'), new CopyObjectCommand({ Bucket: 'b', Key: 'k', CopySource: 'a/k' }));
    assert.deepEqual([copy['x-amz-expected-bucket-owner'], copy['x-amz-source-expected-bucket-owner']], ['123456789012', '123456789012']);
  });

  it("leaves an owner the call names itself, and operations that take none (ListBuckets), as they are", async () => {
    const own = await headersOf(expectBucketOwner(client(), '123456789012'), new GetObjectCommand({ Bucket: 'b', Key: 'k', ExpectedBucketOwner: '210987654321' }));
    assert.equal(own['x-amz-expected-bucket-owner'], '210987654321');
    const list = await headersOf(expectBucketOwner(client(), '123456789012'), new ListBucketsCommand({}));
    assert.equal(list['x-amz-expected-bucket-owner'], undefined);
  });

  it('refuses an owner that is not a 12-digit account id, saying what it received', () => {
    assert.throws(() => expectBucketOwner(client(), 'arn:aws:iam::123456789012:root'), { name: 'InvalidConfig', message: /12-digit AWS account id .* 'arn:aws:iam::123456789012:root'/ });
  });
});

describe('accountOfFunctionArn', () => {
  it("reads the account from a function's ARN, a Lambda@Edge replica's too", () => {
    assert.equal(accountOfFunctionArn('arn:aws:lambda:us-east-1:123456789012:function:pictor-origin-request:7'), '123456789012');
    assert.equal(accountOfFunctionArn('arn:aws:lambda:eu-west-1:123456789012:function:us-east-1.pictor-origin-request:7'), '123456789012');
  });

  it('refuses anything else as an internal error', () => {
    for (const arn of [undefined, '', 'pictor-origin-request', 'arn:aws:lambda:us-east-1::function:x']) {
      assert.throws(() => accountOfFunctionArn(arn), { name: 'InternalError' }, String(arn));
    }
  });
});
