import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand, HeadObjectCommand, ListObjectVersionsCommand, PutBucketCorsCommand, S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost, type PresignedPost, type PresignedPostOptions } from '@aws-sdk/s3-presigned-post';
import { localS3Client, startLocalS3, type LocalS3 } from './s3-server.ts';
import { registerS3KeyPair } from './s3-key-pairs.ts';
import { signPolicy } from './s3-post-object.ts';
import type { S3NotificationRecord } from './s3-versioning.ts';

const PLAIN = 'uploads';
const VERSIONED = 'originals';

let s3: LocalS3;
let client: S3Client;
let dataDir: string;
const events: S3NotificationRecord[] = [];

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'pictor-s3-post-'));
  s3 = await startLocalS3({ directory: dataDir, buckets: [PLAIN, VERSIONED], versioned: [VERSIONED] });
  s3.server.on('event', (event) => events.push(...(event.Records as S3NotificationRecord[])));
  client = localS3Client(s3.endpoint);
});

after(async () => {
  client.destroy();
  await s3.close();
  await rm(dataDir, { recursive: true, force: true });
});

/** A presigned POST as the control API makes one: the key, a size range and the declared content type. */
function presign(key: string, options: Partial<PresignedPostOptions> & { max?: number; type?: string; signer?: S3Client } = {}): Promise<PresignedPost> {
  const { max = 16, type = 'image/png', signer = client, ...rest } = options;
  return createPresignedPost(signer, {
    Bucket: PLAIN,
    Key: key,
    Conditions: [['content-length-range', 1, max], ['eq', '$Content-Type', type]],
    Fields: { 'Content-Type': type },
    Expires: 300,
    ...rest,
  });
}

interface Upload {
  /** Fields replaced (or added) before the file; `undefined` drops one. */
  readonly fields?: Record<string, string | undefined>;
  readonly body?: string | Uint8Array<ArrayBuffer>;
  readonly filename?: string;
  /** Fields sent after the file, which S3 ignores. */
  readonly trailing?: Record<string, string>;
}

/** Posts the form as a browser does (fetch, FormData, Blob); the answer's status, S3 error code and message, and headers. */
async function upload(post: PresignedPost, { fields = {}, body = 'png!', filename = 'photo.png', trailing = {} }: Upload = {}) {
  const form = new FormData();
  for (const [name, value] of Object.entries({ ...post.fields, ...fields })) if (value !== undefined) form.append(name, value);
  form.append('file', new Blob([body]), filename);
  for (const [name, value] of Object.entries(trailing)) form.append(name, value);
  const response = await fetch(post.url, { method: 'POST', body: form });
  const text = await response.text();
  return {
    status: response.status,
    code: /<Code>([^<]*)<\/Code>/.exec(text)?.[1],
    message: /<Message>([^<]*)<\/Message>/.exec(text)?.[1]?.replace(/&quot;|&#34;/g, '"').replace(/&apos;|&#39;/g, "'"),
    text,
    headers: response.headers,
  };
}

const stored = (Key: string, Bucket = PLAIN) =>
  client.send(new HeadObjectCommand({ Bucket, Key })).then(
    () => true,
    (error: Error & { $metadata?: { httpStatusCode?: number } }) => (error.$metadata?.httpStatusCode === 404 ? false : Promise.reject(error)),
  );

describe("the twin's S3 takes a presigned POST as S3 does", () => {
  it('stores a good upload with its declared type and answers 204 with the ETag', async () => {
    const post = await presign('shop/good', { type: 'image/webp' });
    const answer = await upload(post, { body: 'webp bytes', fields: { 'Content-Type': 'image/webp' } });
    assert.equal(answer.status, 204, answer.text);
    assert.equal(answer.headers.get('etag'), `"${createHash('md5').update('webp bytes').digest('hex')}"`);
    assert.equal(answer.text, '');
    const object = await client.send(new GetObjectCommand({ Bucket: PLAIN, Key: 'shop/good' }));
    assert.equal(await object.Body!.transformToString(), 'webp bytes');
    assert.equal(object.ContentType, 'image/webp');
    assert.equal(object.ETag, answer.headers.get('etag'));
    assert.equal(answer.headers.get('location'), `${s3.endpoint}/${PLAIN}/shop%2Fgood`);
  });

  it('refuses a file one byte over content-length-range with 400 EntityTooLarge, and stores nothing', async () => {
    const post = await presign('shop/large', { max: 8 });
    const answer = await upload(post, { body: '123456789' });
    assert.deepEqual([answer.status, answer.code], [400, 'EntityTooLarge']);
    assert.match(answer.text, /<MaxSizeAllowed>8<\/MaxSizeAllowed>/);
    assert.equal(await stored('shop/large'), false);
    // The bounds are inclusive: exactly the maximum is taken.
    assert.equal((await upload(post, { body: '12345678' })).status, 204);
  });

  it('refuses a large file at the range without reading it into the bucket, and stays usable', async () => {
    const post = await presign('shop/huge', { max: 1024 });
    const answer = await upload(post, { body: new Uint8Array(8 * 1024 * 1024) });
    assert.deepEqual([answer.status, answer.code], [400, 'EntityTooLarge']);
    assert.equal(await stored('shop/huge'), false);
    assert.equal((await upload(post)).status, 204);
  });

  it('refuses an empty file under a range starting at 1 with 400 EntityTooSmall', async () => {
    const post = await presign('shop/empty');
    const answer = await upload(post, { body: '' });
    assert.deepEqual([answer.status, answer.code], [400, 'EntityTooSmall']);
    assert.equal(await stored('shop/empty'), false);
  });

  it('refuses another key or another content type than the policy names, with the failed condition', async () => {
    const post = await presign('shop/mine');
    const otherKey = await upload(post, { fields: { key: 'other/theirs' } });
    assert.deepEqual([otherKey.status, otherKey.code], [403, 'AccessDenied']);
    assert.equal(otherKey.message, 'Invalid according to Policy: Policy Condition failed: ["eq", "$key", "shop/mine"]');
    const otherType = await upload(post, { fields: { 'Content-Type': 'text/html' } });
    assert.deepEqual([otherType.status, otherType.code], [403, 'AccessDenied']);
    assert.equal(otherType.message, 'Invalid according to Policy: Policy Condition failed: ["eq", "$Content-Type", "image/png"]');
    assert.equal(await stored('shop/mine'), false);
    assert.equal(await stored('other/theirs'), false);
  });

  it('refuses a tampered policy or signature with 403 SignatureDoesNotMatch', async () => {
    const post = await presign('shop/tampered');
    const policy = JSON.parse(Buffer.from(post.fields.Policy!, 'base64').toString());
    policy.conditions = policy.conditions.map((c: unknown) => (Array.isArray(c) && c[0] === 'content-length-range' ? ['content-length-range', 1, 1e9] : c));
    const widened = await upload(post, { fields: { Policy: Buffer.from(JSON.stringify(policy)).toString('base64') } });
    assert.deepEqual([widened.status, widened.code], [403, 'SignatureDoesNotMatch']);
    const signature = post.fields['X-Amz-Signature']!;
    const forged = await upload(post, { fields: { 'X-Amz-Signature': signature.replace(/^./, (c) => (c === '0' ? '1' : '0')) } });
    assert.deepEqual([forged.status, forged.code], [403, 'SignatureDoesNotMatch']);
    assert.equal(await stored('shop/tampered'), false);
  });

  it('refuses an expired policy with 403 AccessDenied', async () => {
    const post = await presign('shop/late', { Expires: -1 });
    const answer = await upload(post);
    assert.deepEqual([answer.status, answer.code, answer.message], [403, 'AccessDenied', 'Invalid according to Policy: Policy expired.']);
    assert.equal(await stored('shop/late'), false);
  });

  it('requires every signed field, and a key before the file', async () => {
    const post = await presign('shop/missing');
    for (const name of ['X-Amz-Signature', 'X-Amz-Date', 'Policy']) {
      const answer = await upload(post, { fields: { [name]: undefined } });
      assert.deepEqual([answer.status, answer.code], [400, 'InvalidArgument'], name);
      assert.match(answer.message ?? '', new RegExp(`field named '${name}'`));
    }
    // Fields after the file are ignored: a key there is no key.
    const late = await upload(post, { fields: { key: undefined }, trailing: { key: 'shop/missing' } });
    assert.deepEqual([late.status, late.code], [400, 'InvalidArgument']);
    assert.match(late.message ?? '', /field named 'key'/);
    // Without any signed field the request is anonymous, which a private bucket refuses.
    const anonymous = await upload(post, { fields: { 'X-Amz-Signature': undefined, 'X-Amz-Date': undefined, 'X-Amz-Credential': undefined, 'X-Amz-Algorithm': undefined } });
    assert.deepEqual([anonymous.status, anonymous.code], [403, 'AccessDenied']);
    assert.equal(await stored('shop/missing'), false);
  });

  it('refuses a field no condition names, and ignores x-ignore- fields', async () => {
    const post = await presign('shop/extra');
    const extra = await upload(post, { fields: { 'x-amz-meta-owner': 'mallory' } });
    assert.deepEqual([extra.status, extra.code, extra.message], [403, 'AccessDenied', 'Invalid according to Policy: Extra input fields: x-amz-meta-owner']);
    assert.equal(await stored('shop/extra'), false);
    assert.equal((await upload(post, { fields: { 'x-ignore-tracking': '1' } })).status, 204);
  });

  it('refuses an unknown access key and a credential scoped to another region', async () => {
    const stranger = new S3Client({ region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'AKIANOTKNOWN', secretAccessKey: 'x' } });
    const unknown = await upload(await presign('shop/stranger', { signer: stranger }));
    stranger.destroy();
    assert.deepEqual([unknown.status, unknown.code], [403, 'InvalidAccessKeyId']);
    const elsewhere = localS3Client(s3.endpoint, 'eu-west-1');
    const wrongRegion = await upload(await presign('shop/stranger', { signer: elsewhere }));
    elsewhere.destroy();
    assert.deepEqual([wrongRegion.status, wrongRegion.code, wrongRegion.message], [400, 'InvalidArgument', "the region 'eu-west-1' is wrong; expecting 'us-east-1'"]);
    assert.equal(await stored('shop/stranger'), false);
  });

  it("takes a session's upload only with its token, in the form and in the policy", async () => {
    const session = { accessKeyId: 'ASIATESTSESSION01', secretAccessKey: 'session-secret', sessionToken: 'session-token' };
    registerS3KeyPair(session.accessKeyId, session.secretAccessKey, session.sessionToken);
    const signer = new S3Client({ region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: session });
    const post = await presign('shop/session', { signer });
    signer.destroy();
    assert.ok(JSON.parse(Buffer.from(post.fields.Policy!, 'base64').toString()).conditions.some((c: object) => 'X-Amz-Security-Token' in c));
    const withoutToken = await upload(post, { fields: { 'X-Amz-Security-Token': undefined } });
    assert.deepEqual([withoutToken.status, withoutToken.code], [403, 'InvalidAccessKeyId']);
    const wrongToken = await upload(post, { fields: { 'X-Amz-Security-Token': 'another' } });
    assert.deepEqual([wrongToken.status, wrongToken.code], [400, 'InvalidToken']);
    // The token in the form but not in the signed policy: a field no condition names.
    const policy = JSON.parse(Buffer.from(post.fields.Policy!, 'base64').toString());
    policy.conditions = policy.conditions.filter((c: object) => !('X-Amz-Security-Token' in c));
    const unsigned = Buffer.from(JSON.stringify(policy)).toString('base64');
    const day = post.fields['X-Amz-Date']!.slice(0, 8);
    const tokenOutsidePolicy = await upload(post, { fields: { Policy: unsigned, 'X-Amz-Signature': signPolicy(unsigned, session.secretAccessKey, day, 'us-east-1') } });
    assert.deepEqual([tokenOutsidePolicy.status, tokenOutsidePolicy.message], [403, 'Invalid according to Policy: Extra input fields: X-Amz-Security-Token']);
    assert.equal(await stored('shop/session'), false);
    assert.equal((await upload(post)).status, 204);
    assert.equal(await stored('shop/session'), true);
  });

  it('checks a policy it signs itself exactly: starts-with, case-insensitive names, content-type lists, success_action_status', async () => {
    // A hand-made policy, signed as the SDK signs: what createPresignedPost cannot express.
    const date = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
    const credential = `S3RVER/${date.slice(0, 8)}/us-east-1/s3/aws4_request`;
    const sign = (conditions: unknown[]) => {
      const policy = Buffer.from(JSON.stringify({ expiration: new Date(Date.now() + 60_000).toISOString(), conditions })).toString('base64');
      return { policy, 'x-amz-signature': signPolicy(policy, 'S3RVER', date.slice(0, 8), 'us-east-1') };
    };
    const signed = [{ 'x-amz-algorithm': 'AWS4-HMAC-SHA256' }, { 'X-AMZ-CREDENTIAL': credential }, ['eq', '$x-amz-date', date]];
    const post = (conditions: unknown[], fields: Record<string, string>): PresignedPost => ({
      url: `${s3.endpoint}/${PLAIN}`,
      fields: { 'X-Amz-Algorithm': 'AWS4-HMAC-SHA256', 'x-amz-credential': credential, 'X-Amz-Date': date, ...fields, ...sign([...signed, ...conditions]) },
    });
    const conditions = [['StArTs-WiTh', '$KEY', 'user/'], ['starts-with', '$Content-Type', 'image/'], ['starts-with', '$success_action_status', '']];
    const created = await upload(post(conditions, { key: 'user/${filename}', 'Content-Type': 'image/png,image/gif', success_action_status: '201' }), { filename: 'C:\\photos\\cat.png' });
    assert.equal(created.status, 201, created.text);
    assert.match(created.text, /<PostResponse><Location>[^<]*\/uploads\/user%2Fcat\.png<\/Location><Bucket>uploads<\/Bucket><Key>user\/cat\.png<\/Key><ETag>/);
    assert.equal(await stored('user/cat.png'), true);

    const mixed = await upload(post(conditions, { key: 'user/dog.png', 'Content-Type': 'image/png, text/html', success_action_status: '201' }));
    assert.deepEqual([mixed.status, mixed.code, mixed.message], [403, 'AccessDenied', 'Invalid according to Policy: Policy Condition failed: ["starts-with", "$Content-Type", "image/"]']);
    const absent = await upload(post([...conditions, ['starts-with', '$x-amz-meta-tag', '']], { key: 'user/dog.png', 'Content-Type': 'image/png' }));
    assert.deepEqual([absent.status, absent.code], [403, 'AccessDenied'], 'a condition on an absent field fails');
    const malformed = await upload(post([{ key: 'user/dog.png', acl: 'private' }], { key: 'user/dog.png' }));
    assert.deepEqual([malformed.status, malformed.code], [400, 'InvalidPolicyDocument']);
    assert.equal(await stored('user/dog.png'), false);

    const redirected = await fetch(`${s3.endpoint}/${PLAIN}`, {
      method: 'POST',
      redirect: 'manual',
      body: (() => {
        const form = new FormData();
        const fields = post([['eq', '$key', 'user/r 1'], ['starts-with', '$success_action_redirect', 'https://app.example/']], { key: 'user/r 1', success_action_redirect: 'https://app.example/done?x=1' }).fields;
        for (const [name, value] of Object.entries(fields)) form.append(name, value);
        form.append('file', new Blob(['r']), 'r.png');
        return form;
      })(),
    });
    assert.equal(redirected.status, 303);
    assert.match(redirected.headers.get('location') ?? '', /^https:\/\/app\.example\/done\?x=1&bucket=uploads&key=user%2Fr\+1&etag=%22[0-9a-f]{32}%22$/);
  });

  it("answers a browser's origin with the bucket's CORS rule, on success and on refusal, and not another origin", async () => {
    await client.send(new PutBucketCorsCommand({ Bucket: PLAIN, CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['https://app.example'], AllowedMethods: ['POST'] }] } }));
    const post = await presign('shop/cors', { max: 4 });
    const send = async (origin: string, body: string) => {
      const form = new FormData();
      for (const [name, value] of Object.entries(post.fields)) form.append(name, value);
      form.append('file', new Blob([body]), 'c.png');
      const answer = await fetch(post.url, { method: 'POST', body: form, headers: { origin } });
      await answer.arrayBuffer();
      return [answer.status, answer.headers.get('access-control-allow-origin')];
    };
    assert.deepEqual(await send('https://app.example', 'ok'), [204, 'https://app.example']);
    assert.deepEqual(await send('https://app.example', 'too large'), [400, 'https://app.example']);
    assert.deepEqual(await send('https://elsewhere.example', 'ok'), [204, null]);
  });

  it('answers 412 to a body that is not multipart/form-data, as S3 does', async () => {
    const answer = await fetch(`${s3.endpoint}/${PLAIN}`, { method: 'POST', body: 'key=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(answer.status, 412);
    assert.match(await answer.text(), /<Code>PreconditionFailed<\/Code>/);
  });

  it('makes a version of a POST to a versioned bucket and notifies ObjectCreated:Post with its id', async () => {
    const key = 'shop/versioned';
    const first = await upload(await presign(key, { Bucket: VERSIONED }), { body: 'one' });
    const second = await upload(await presign(key, { Bucket: VERSIONED }), { body: 'two' });
    assert.deepEqual([first.status, second.status], [204, 204]);
    const ids = [first.headers.get('x-amz-version-id'), second.headers.get('x-amz-version-id')];
    assert.ok(ids.every(Boolean) && ids[0] !== ids[1], String(ids));
    const listed = await client.send(new ListObjectVersionsCommand({ Bucket: VERSIONED, Prefix: key }));
    assert.deepEqual(listed.Versions?.map((v) => v.VersionId), [ids[1], ids[0]]);
    const old = await client.send(new GetObjectCommand({ Bucket: VERSIONED, Key: key, VersionId: ids[0]! }));
    assert.equal(await old.Body!.transformToString(), 'one');
    const posted = events.filter((e) => e.s3.bucket.name === VERSIONED && e.s3.object.key === 'shop/versioned');
    assert.deepEqual(
      posted.map((e) => [e.eventName, e.s3.object.versionId, e.s3.object.size]),
      [
        ['ObjectCreated:Post', ids[0], 3],
        ['ObjectCreated:Post', ids[1], 3],
      ],
    );
    // A refused POST makes no version and no event.
    await upload(await presign(key, { Bucket: VERSIONED, max: 2 }), { body: 'three' });
    assert.equal((await client.send(new ListObjectVersionsCommand({ Bucket: VERSIONED, Prefix: key }))).Versions?.length, 2);
    assert.equal(events.filter((e) => e.s3.object.key === 'shop/versioned').length, 2);
  });
});
