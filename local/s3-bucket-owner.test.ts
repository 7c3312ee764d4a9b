import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { CopyObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { CloudFrontRequest, CloudFrontResultResponse } from 'aws-lambda';
import { parseConfig } from '../core/tenant-config.ts';
import { createOriginRequestHandler } from '../edge-fallback/origin-request/handler.ts';
import { expectBucketOwner } from '../storage/bucket-owner.ts';
import { awsClients, pipelineStores } from '../tasks/shared/aws-clients.ts';
import { readTaskConfig } from '../tasks/shared/task-config.ts';
import { syntheticPhoto } from '../test/support/images.ts';
import { LOCAL_ACCOUNT } from './account.ts';
import { readDistribution, synthesizeEdge } from './edge/distribution.ts';
import { originRequestContext, originRequestEvent } from './edge/origin-event.ts';
import { LOCAL_S3_CREDENTIALS, localS3Client, startLocalS3, type LocalS3 } from './s3-server.ts';
import { publishDirectly } from './seed.ts';
import { ALL_BUCKETS, BUCKETS, localOriginRequestConfig } from './topology.ts';

const OTHER_ACCOUNT = '111122223333';
const CONFIG = parseConfig({ tenants: { acme: { breakpoints: [100, 320] } } });
const { originals, variants } = { originals: BUCKETS.originals.bucket, variants: BUCKETS.variants.bucket };

/** AWS's answer to a mismatched owner: 403 AccessDenied. */
async function refused(call: Promise<unknown>): Promise<void> {
  await assert.rejects(call, (error: Error & { $metadata?: { httpStatusCode?: number } }) => {
    assert.equal(error.$metadata?.httpStatusCode, 403);
    return true;
  });
}

/** A task's configuration as its Lambda gets it, against this server. */
function taskConfig(endpoint: string, account: string) {
  return readTaskConfig({
    PICTOR_ACCOUNT_ID: account,
    PICTOR_ORIGINALS_BUCKET: originals,
    PICTOR_VARIANTS_BUCKET: variants,
    PICTOR_VERSIONS_TABLE: 'versions',
    PICTOR_IDEMPOTENCY_TABLE: 'idempotency',
    PICTOR_TOMBSTONES_TABLE: 'tombstones',
    PICTOR_EVENT_BUS: 'default',
    PICTOR_TENANT_STORE_ARN: 'arn:aws:cloudfront::000000000000:key-value-store/TenantStore',
    AWS_ENDPOINT_URL_S3: endpoint,
  });
}

describe("The twin's S3: the bucket owner condition, as AWS enforces it", () => {
  let s3: LocalS3;
  let directory: string;
  let plain: S3Client;

  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'pictor-owner-'));
    s3 = await startLocalS3({ directory, buckets: ALL_BUCKETS });
    plain = localS3Client(s3.endpoint);
    await plain.send(new PutObjectCommand({ Bucket: originals, Key: 'acme/a', Body: 'a' }));
  });

  after(async () => {
    plain.destroy();
    await s3.close();
    await rm(directory, { recursive: true, force: true });
  });

  it('refuses every request that expects another account to own the bucket, with 403 AccessDenied', async () => {
    const wrong = expectBucketOwner(localS3Client(s3.endpoint), OTHER_ACCOUNT);
    await refused(wrong.send(new GetObjectCommand({ Bucket: originals, Key: 'acme/a' })));
    await refused(wrong.send(new HeadObjectCommand({ Bucket: originals, Key: 'acme/a' })));
    await refused(wrong.send(new PutObjectCommand({ Bucket: originals, Key: 'acme/b', Body: 'b' })));
    await refused(wrong.send(new ListObjectsV2Command({ Bucket: originals })));
    assert.equal((await plain.send(new ListObjectsV2Command({ Bucket: originals }))).KeyCount, 1, 'the refused write wrote nothing');
    wrong.destroy();
  });

  it("refuses a copy whose source is expected to be another account's, even when the destination's owner matches", async () => {
    const copy = (sourceOwner: string) =>
      plain.send(new CopyObjectCommand({ Bucket: variants, Key: 'acme/copy', CopySource: `${originals}/acme/a`, ExpectedBucketOwner: LOCAL_ACCOUNT, ExpectedSourceBucketOwner: sourceOwner }));
    await refused(copy(OTHER_ACCOUNT));
    await copy(LOCAL_ACCOUNT);
  });

  it('serves requests that name the right owner, and, as AWS does, those that name none', async () => {
    const right = expectBucketOwner(localS3Client(s3.endpoint), LOCAL_ACCOUNT);
    assert.equal(await (await right.send(new GetObjectCommand({ Bucket: originals, Key: 'acme/a' }))).Body!.transformToString(), 'a');
    assert.equal(await (await plain.send(new GetObjectCommand({ Bucket: originals, Key: 'acme/a' }))).Body!.transformToString(), 'a');
    right.destroy();
  });
});

describe("The product's S3 calls name the bucket owner, every one", () => {
  let s3: LocalS3;
  let directory: string;
  let seeding: S3Client;

  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'pictor-owner-required-'));
    // Stricter than AWS: a request that names no owner is refused too, so any call that forgets it fails here.
    s3 = await startLocalS3({ directory, buckets: ALL_BUCKETS, bucketOwner: { owner: LOCAL_ACCOUNT, required: true } });
    seeding = expectBucketOwner(localS3Client(s3.endpoint), LOCAL_ACCOUNT);
    process.env.AWS_ACCESS_KEY_ID ??= LOCAL_S3_CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY ??= LOCAL_S3_CREDENTIALS.secretAccessKey;
    await publishDirectly(seeding, { tenant: 'acme', imageId: 'photo' }, await syntheticPhoto(400, 300));
  });

  after(async () => {
    seeding.destroy();
    await s3.close();
    await rm(directory, { recursive: true, force: true });
  });

  it('a request naming none is refused on this strict server', async () => {
    const plain = localS3Client(s3.endpoint);
    await refused(plain.send(new HeadObjectCommand({ Bucket: originals, Key: 'acme/photo' })));
    plain.destroy();
  });

  it("the tasks' clients, with the account from PICTOR_ACCOUNT_ID: reads, writes, copies, lists and deletes pass; another account's are refused", async () => {
    const clients = awsClients(taskConfig(s3.endpoint, LOCAL_ACCOUNT));
    const stores = pipelineStores(taskConfig(s3.endpoint, LOCAL_ACCOUNT), clients);
    await stores.variants.put('acme/owned/x', 'x', { contentType: 'text/plain' });
    assert.equal((await stores.variants.get('acme/owned/x'))?.body.toString(), 'x');
    assert.ok(await stores.variants.copyFrom(variants, 'acme/owned/x', 'acme/owned/y'));
    assert.deepEqual(await stores.variants.list('acme/owned/'), ['acme/owned/x', 'acme/owned/y']);
    await stores.variants.delete(['acme/owned/x', 'acme/owned/y']);
    assert.deepEqual(await stores.variants.list('acme/owned/'), []);
    clients.s3.destroy();

    const elsewhere = awsClients(taskConfig(s3.endpoint, OTHER_ACCOUNT));
    await refused(elsewhere.s3.send(new PutObjectCommand({ Bucket: variants, Key: 'acme/owned/z', Body: 'z' })));
    elsewhere.s3.destroy();
  });

  it('a task refuses to start without a 12-digit account id, saying which variable', () => {
    assert.throws(() => taskConfig(s3.endpoint, 'me'), { name: 'InvalidConfig', message: /PICTOR_ACCOUNT_ID must be the 12-digit AWS account id .* not 'me'/ });
    assert.throws(() => taskConfig(s3.endpoint, ''), { name: 'InvalidConfig', message: /needs the environment variable PICTOR_ACCOUNT_ID/ });
  });

  it('the origin-request function, with the account from its invoked ARN: a render reads the original and stores the variant; invoked in another account, it reaches nothing', async () => {
    const distribution = readDistribution(synthesizeEdge(CONFIG));
    const [origin] = distribution.originGroup.members;
    const handle = createOriginRequestHandler(localOriginRequestConfig(CONFIG, { 'us-east-1': s3.endpoint, 'eu-west-1': s3.endpoint }, 'SILENT'));
    const event = () => originRequestEvent({ uri: '/img/acme/photo', querystring: 'fmt=webp&q=75&w=320', originDomain: origin.domain, originHeaders: origin.customHeaders });

    const key = 'acme/photo/latest/w320_q75.webp';
    const head = () => seeding.send(new HeadObjectCommand({ Bucket: variants, Key: key }));

    // Its variants bucket refuses it, so it leaves the request to CloudFront and its failover, having stored nothing.
    const foreign = distribution.originRequestFunctionArn.replace(`:${LOCAL_ACCOUNT}:`, `:${OTHER_ACCOUNT}:`);
    assert.notEqual(foreign, distribution.originRequestFunctionArn);
    const unrendered = (await handle(event(), originRequestContext(foreign))) as CloudFrontRequest | CloudFrontResultResponse;
    assert.ok(!('status' in unrendered && unrendered.status === '200'), `answered ${JSON.stringify(unrendered)}`);
    await assert.rejects(head(), { name: 'NotFound' });

    const rendered = (await handle(event(), originRequestContext(distribution.originRequestFunctionArn))) as CloudFrontRequest;
    assert.ok(!('status' in rendered), `answered ${JSON.stringify(rendered)}`);
    assert.equal(rendered.uri, `/${key}`);
    assert.equal((await head()).ContentType, 'image/webp');
  });
});

describe("Where the product makes S3 clients", () => {
  it('every S3Client in product code is made where the bucket owner middleware is applied: the tasks\' and the origin-request function\'s factories', async () => {
    const root = fileURLToPath(new URL('..', import.meta.url));
    const sources = async (dir: string): Promise<string[]> =>
      (await readdir(dir, { withFileTypes: true, recursive: true }))
        .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts'))
        .map((e) => join(e.parentPath, e.name));
    const product = (await Promise.all(['core', 'edge-fallback', 'tasks', 'imaging', 'signer', 'storage', 'events', 'workflows'].map((d) => sources(join(root, d))))).flat();
    const making: string[] = [];
    for (const file of product) {
      const text = await readFile(file, 'utf8');
      if (!/new S3Client\(/.test(text)) continue;
      making.push(relative(root, file));
      assert.match(text, /expectBucketOwner\(\s*new S3Client\(/, `${relative(root, file)} makes an S3Client without expectBucketOwner`);
    }
    assert.deepEqual(making.sort(), ['edge-fallback/origin-request/s3-adapters.ts', 'tasks/shared/aws-clients.ts']);
  });
});
