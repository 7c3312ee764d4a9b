import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CompleteMultipartUploadCommand, CopyObjectCommand, CreateMultipartUploadCommand, PutObjectCommand, S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { parseConfig } from '../../core/tenant-config.ts';
import { localNames } from '../pipeline/storage.ts';
import { synthesizePipeline } from '../pipeline/template.ts';
import { localS3Client, startLocalS3, type LocalS3 } from '../s3-server.ts';
import { BUCKETS } from '../twin-names.ts';
import { LocalEventBus } from './event-bus.ts';
import { bridgeS3Events } from './s3-bridge.ts';

const ORIGINALS = BUCKETS.originals.bucket;

let s3: LocalS3;
let client: S3Client;
let bus: LocalEventBus;
let dataDir: string;

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'pictor-s3-bridge-'));
  s3 = await startLocalS3({ directory: dataDir, buckets: [ORIGINALS], versioned: [ORIGINALS] });
  client = localS3Client(s3.endpoint);
  // The rules as a deployment has them: the synthesized pipeline's, OnOriginalUploaded among them.
  const template = synthesizePipeline(parseConfig({ tenants: { shop: {} } }));
  bus = LocalEventBus.fromTemplate(template, localNames(template), () => {}, { duplicateRate: 0 });
  bridgeS3Events(s3, bus, new Set([ORIGINALS]));
});

after(async () => {
  client.destroy();
  await s3.close();
  await rm(dataDir, { recursive: true, force: true });
});

/** The "Object Created" event the bus got for `key`, and the rules it matched. */
function created(key: string) {
  const events = bus.events.filter((e) => e['detail-type'] === 'Object Created' && (e.detail as { object: { key: string } }).object.key === key);
  assert.equal(events.length, 1, `one event for ${key}`);
  const event = events[0]!;
  return { detail: event.detail as { reason: string; object: { 'version-id'?: string; size?: number } }, rules: bus.delivered.filter((d) => d.event.id === event.id).map((d) => d.rule) };
}

describe("S3's Object Created events on the twin's bus, by the API that wrote the object", () => {
  it('names PutObject, POST Object, CopyObject and CompleteMultipartUpload in reason, and each starts RenderOnUpload', async () => {
    await client.send(new PutObjectCommand({ Bucket: ORIGINALS, Key: 'shop/put', Body: 'put' }));
    const post = await createPresignedPost(client, { Bucket: ORIGINALS, Key: 'shop/post', Conditions: [['content-length-range', 1, 100]], Expires: 60 });
    const form = new FormData();
    for (const [name, value] of Object.entries(post.fields)) form.append(name, value);
    form.append('file', new Blob(['post']), 'post.png');
    const answer = await fetch(post.url, { method: 'POST', body: form });
    assert.equal(answer.status, 204, await answer.text());
    await client.send(new CopyObjectCommand({ Bucket: ORIGINALS, Key: 'shop/copy', CopySource: `${ORIGINALS}/shop/put` }));
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: ORIGINALS, Key: 'shop/multipart' }));
    const part = await client.send(new UploadPartCommand({ Bucket: ORIGINALS, Key: 'shop/multipart', UploadId, PartNumber: 1, Body: 'multipart' }));
    await client.send(new CompleteMultipartUploadCommand({ Bucket: ORIGINALS, Key: 'shop/multipart', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
    await bus.settled();

    const rule = bus.rules.map((r) => r.name).find((name) => name.startsWith('PipelineOnOriginalUploaded'));
    assert.ok(rule, 'the pipeline has its upload rule');
    for (const [key, reason] of [
      ['shop/put', 'PutObject'],
      ['shop/post', 'PostObject'],
      ['shop/copy', 'CopyObject'],
      ['shop/multipart', 'CompleteMultipartUpload'],
    ] as const) {
      const { detail, rules } = created(key);
      assert.equal(detail.reason, reason, key);
      assert.ok(detail.object['version-id'], `${key} names its version`);
      assert.deepEqual(rules, [rule], `${key} starts RenderOnUpload`);
    }
    assert.equal(created('shop/post').detail.object.size, 4);
  });
});
