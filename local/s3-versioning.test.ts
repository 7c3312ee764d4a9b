import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type ListObjectVersionsCommandOutput,
} from '@aws-sdk/client-s3';
import { localS3Client, startLocalS3, type LocalS3 } from './s3-server.ts';
import { keyOf, versionIdOf, type S3NotificationRecord } from './s3-versioning.ts';

const VERSIONED = ['versions', 'markers', 'paging', 'batch', 'events', 'restart'];
const BUCKETS = [...VERSIONED, 'plain'];

let s3: LocalS3;
let client: S3Client;
let dataDir: string;
const events: S3NotificationRecord[] = [];

async function start(): Promise<void> {
  s3 = await startLocalS3({ directory: dataDir, buckets: BUCKETS, versioned: VERSIONED });
  s3.server.on('event', (event) => events.push(...(event.Records as S3NotificationRecord[])));
  client = localS3Client(s3.endpoint);
}

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'pictor-s3-versioning-'));
  await start();
});

after(async () => {
  client.destroy();
  await s3.close();
  await rm(dataDir, { recursive: true, force: true });
});

const put = (Bucket: string, Key: string, Body: string) => client.send(new PutObjectCommand({ Bucket, Key, Body, ContentType: 'text/plain', Metadata: { body: Body } }));
const text = async (Bucket: string, Key: string, VersionId?: string) => (await client.send(new GetObjectCommand({ Bucket, Key, VersionId }))).Body!.transformToString();
/** The error name S3 answers with, or null when the call succeeds. */
const failure = (call: Promise<unknown>) => call.then(
  () => null,
  (error: Error & { $metadata?: { httpStatusCode?: number } }) => `${error.name} ${error.$metadata?.httpStatusCode}`,
);

async function allVersions(Bucket: string, Prefix?: string): Promise<ListObjectVersionsCommandOutput> {
  return client.send(new ListObjectVersionsCommand({ Bucket, Prefix }));
}

describe("the twin's S3 versioning", () => {
  it('makes a version of each write, serves any of them by id, and lists them newest first', async () => {
    const first = await put('versions', 'a/k', 'one');
    const second = await put('versions', 'a/k', 'two');
    assert.match(first.VersionId ?? '', /^[\w.]{32}$/);
    assert.notEqual(first.VersionId, second.VersionId);

    assert.equal(await text('versions', 'a/k'), 'two');
    const old = await client.send(new GetObjectCommand({ Bucket: 'versions', Key: 'a/k', VersionId: first.VersionId }));
    assert.equal(await old.Body!.transformToString(), 'one');
    assert.equal(old.VersionId, first.VersionId);
    assert.equal(old.ContentType, 'text/plain');
    assert.deepEqual(old.Metadata, { body: 'one' });
    const head = await client.send(new HeadObjectCommand({ Bucket: 'versions', Key: 'a/k' }));
    assert.equal(head.VersionId, second.VersionId);

    const listed = await allVersions('versions', 'a/');
    assert.deepEqual(
      listed.Versions?.map((v) => [v.Key, v.VersionId, v.IsLatest, v.Size]),
      [
        ['a/k', second.VersionId, true, 3],
        ['a/k', first.VersionId, false, 3],
      ],
    );
    assert.equal(listed.DeleteMarkers, undefined);
    assert.equal(listed.IsTruncated, false);
    assert.equal(await failure(text('versions', 'a/k', 'NoSuchVersionAtAll.............')), 'NoSuchVersion 404');
  });

  it('hides a key behind a delete marker, which a GET by its id answers 405, and shows it again once the marker is deleted', async () => {
    const v1 = await put('markers', 'k', 'one');
    const deleted = await client.send(new DeleteObjectCommand({ Bucket: 'markers', Key: 'k' }));
    assert.equal(deleted.DeleteMarker, true);
    assert.ok(deleted.VersionId && deleted.VersionId !== v1.VersionId);

    assert.equal(await failure(text('markers', 'k')), 'NoSuchKey 404');
    assert.equal(await failure(client.send(new HeadObjectCommand({ Bucket: 'markers', Key: 'k' }))), 'NotFound 404');
    assert.equal(await failure(text('markers', 'k', deleted.VersionId)), 'MethodNotAllowed 405');
    assert.equal((await client.send(new ListObjectsV2Command({ Bucket: 'markers' }))).KeyCount, 0);
    const listed = await allVersions('markers');
    assert.deepEqual(listed.DeleteMarkers?.map((m) => [m.Key, m.VersionId, m.IsLatest]), [['k', deleted.VersionId, true]]);
    assert.deepEqual(listed.Versions?.map((v) => [v.VersionId, v.IsLatest]), [[v1.VersionId, false]]);
    assert.equal(await text('markers', 'k', v1.VersionId), 'one', 'a noncurrent version is still there');

    const unmarked = await client.send(new DeleteObjectCommand({ Bucket: 'markers', Key: 'k', VersionId: deleted.VersionId }));
    assert.equal(unmarked.DeleteMarker, true);
    assert.equal(unmarked.VersionId, deleted.VersionId);
    assert.equal(await text('markers', 'k'), 'one');
  });

  it('promotes the newest remaining version when the current one is deleted by id, and keeps the key absent when that is a marker', async () => {
    const v1 = await put('markers', 'p', 'one');
    const v2 = await put('markers', 'p', 'two');
    await client.send(new DeleteObjectCommand({ Bucket: 'markers', Key: 'p', VersionId: v2.VersionId }));
    assert.equal(await text('markers', 'p'), 'one');
    const head = await client.send(new HeadObjectCommand({ Bucket: 'markers', Key: 'p' }));
    assert.equal(head.VersionId, v1.VersionId);

    const marker = await client.send(new DeleteObjectCommand({ Bucket: 'markers', Key: 'p' }));
    const v3 = await put('markers', 'p', 'three');
    await client.send(new DeleteObjectCommand({ Bucket: 'markers', Key: 'p', VersionId: v3.VersionId }));
    assert.equal(await failure(text('markers', 'p')), 'NoSuchKey 404', 'the newest remaining is the delete marker');
    await client.send(new DeleteObjectCommand({ Bucket: 'markers', Key: 'p', VersionId: marker.VersionId }));
    await client.send(new DeleteObjectCommand({ Bucket: 'markers', Key: 'p', VersionId: v1.VersionId }));
    assert.equal(await failure(text('markers', 'p')), 'NoSuchKey 404');
    const listed = await allVersions('markers', 'p');
    assert.equal(listed.Versions, undefined);
    assert.equal(listed.DeleteMarkers, undefined);
  });

  it('copies a given version of the source into a new version', async () => {
    const v1 = await put('versions', 'copy/source', 'one');
    await put('versions', 'copy/source', 'two');
    const copied = await client.send(new CopyObjectCommand({ Bucket: 'versions', Key: 'copy/target', CopySource: `versions/copy/source?versionId=${v1.VersionId}` }));
    assert.equal(copied.CopySourceVersionId, v1.VersionId);
    assert.ok(copied.VersionId);
    assert.equal(await text('versions', 'copy/target'), 'one');
    assert.equal(
      await failure(client.send(new CopyObjectCommand({ Bucket: 'versions', Key: 'copy/other', CopySource: 'versions/copy/source?versionId=NoSuchVersionAtAll.............' }))),
      'NoSuchVersion 404',
    );
  });

  it('deletes many objects at once, with and without version ids, answering as S3 does; Quiet answers nothing but errors', async () => {
    const a1 = await put('batch', 'a', 'a1');
    const a2 = await put('batch', 'a', 'a2');
    await put('batch', 'b', 'b1');
    const result = await client.send(
      new DeleteObjectsCommand({ Bucket: 'batch', Delete: { Objects: [{ Key: 'a', VersionId: a2.VersionId }, { Key: 'b' }, { Key: 'never-written', VersionId: 'NoSuchVersionAtAll.............' }] } }),
    );
    assert.equal(result.Errors, undefined);
    const [byVersion, plain, absent] = result.Deleted ?? [];
    assert.deepEqual(byVersion, { Key: 'a', VersionId: a2.VersionId });
    assert.equal(plain?.Key, 'b');
    assert.equal(plain?.DeleteMarker, true);
    assert.ok(plain?.DeleteMarkerVersionId);
    assert.deepEqual(absent, { Key: 'never-written', VersionId: 'NoSuchVersionAtAll.............' });
    assert.equal(await text('batch', 'a'), 'a1', 'the previous version is current again');
    assert.equal(await failure(text('batch', 'b')), 'NoSuchKey 404');

    const quiet = await client.send(
      new DeleteObjectsCommand({ Bucket: 'batch', Delete: { Quiet: true, Objects: [{ Key: 'a', VersionId: a1.VersionId }, { Key: 'b', VersionId: plain!.DeleteMarkerVersionId }] } }),
    );
    assert.equal(quiet.Deleted, undefined);
    assert.equal(quiet.Errors, undefined);
    const markerDeleted = (await allVersions('batch')).DeleteMarkers;
    assert.equal(markerDeleted, undefined, 'deleting a delete marker by id removes it');
    assert.deepEqual((await allVersions('batch')).Versions?.map((v) => v.Key), ['b']);
  });

  it('pages through more than 1,000 versions, 1,000 at most at a time', async () => {
    const written = new Set<string>();
    // 15 keys of 67 versions: writes to one key take turns, to different keys they need not.
    const keys = Array.from({ length: 15 }, (_, i) => `k${String(i + 1).padStart(2, '0')}`);
    for (let round = 0; round < 67; round++) {
      const answers = await Promise.all(keys.map((key) => put('paging', key, `${key}-${round}`)));
      for (const a of answers) written.add(a.VersionId!);
    }
    const first = await client.send(new ListObjectVersionsCommand({ Bucket: 'paging', MaxKeys: 5000 }));
    assert.equal(first.MaxKeys, 1000);
    assert.equal(first.Versions?.length, 1000);
    assert.equal(first.IsTruncated, true);
    assert.equal(first.NextKeyMarker, 'k15');
    assert.equal(first.NextVersionIdMarker, first.Versions?.at(-1)?.VersionId);
    const second = await client.send(new ListObjectVersionsCommand({ Bucket: 'paging', KeyMarker: first.NextKeyMarker, VersionIdMarker: first.NextVersionIdMarker }));
    assert.equal(second.IsTruncated, false);
    assert.equal(second.Versions?.length, 5);
    const listed = [...first.Versions!, ...second.Versions!];
    assert.deepEqual(new Set(listed.map((v) => v.VersionId)), written);
    assert.equal(listed.filter((v) => v.IsLatest).length, 15, 'one latest per key');
    assert.deepEqual(
      second.Versions?.map((v) => v.Key),
      ['k15', 'k15', 'k15', 'k15', 'k15'],
    );
    assert.equal(await text('paging', 'k15', second.Versions?.at(-1)?.VersionId), 'k15-0', 'the oldest comes last');

    const small = await client.send(new ListObjectVersionsCommand({ Bucket: 'paging', MaxKeys: 2, Prefix: 'k02' }));
    assert.equal(small.Versions?.length, 2);
    assert.equal(small.IsTruncated, true);
    const rolled = await client.send(new ListObjectVersionsCommand({ Bucket: 'versions', Delimiter: '/' }));
    assert.deepEqual(rolled.CommonPrefixes?.map((p) => p.Prefix), ['a/', 'copy/']);
    assert.equal(rolled.Versions, undefined);
  });

  it('emits S3 notification records with version ids: Put, Copy, CompleteMultipartUpload, DeleteMarkerCreated, Delete, also for DeleteObjects', async () => {
    events.length = 0;
    const put1 = await put('events', 'e', 'one');
    const copy = await client.send(new CopyObjectCommand({ Bucket: 'events', Key: 'e copy', CopySource: 'events/e' }));
    const upload = await client.send(new CreateMultipartUploadCommand({ Bucket: 'events', Key: 'multi' }));
    const part = await client.send(new UploadPartCommand({ Bucket: 'events', Key: 'multi', UploadId: upload.UploadId, PartNumber: 1, Body: 'parts' }));
    const completed = await client.send(
      new CompleteMultipartUploadCommand({ Bucket: 'events', Key: 'multi', UploadId: upload.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }),
    );
    const marker = await client.send(new DeleteObjectCommand({ Bucket: 'events', Key: 'e' }));
    await client.send(new DeleteObjectCommand({ Bucket: 'events', Key: 'e', VersionId: put1.VersionId }));
    const batch = await client.send(new DeleteObjectsCommand({ Bucket: 'events', Delete: { Objects: [{ Key: 'multi' }, { Key: 'e copy', VersionId: copy.VersionId }] } }));
    await put('plain', 'p', 'x');
    await client.send(new DeleteObjectsCommand({ Bucket: 'plain', Delete: { Objects: [{ Key: 'p' }, { Key: 'never-written' }] } }));

    assert.deepEqual(
      events.map((r) => [r.s3.bucket.name, r.eventName, keyOf(r), versionIdOf(r)]),
      [
        ['events', 'ObjectCreated:Put', 'e', put1.VersionId],
        ['events', 'ObjectCreated:Copy', 'e copy', copy.VersionId],
        ['events', 'ObjectCreated:CompleteMultipartUpload', 'multi', completed.VersionId],
        ['events', 'ObjectRemoved:DeleteMarkerCreated', 'e', marker.VersionId],
        ['events', 'ObjectRemoved:Delete', 'e', put1.VersionId],
        ['events', 'ObjectRemoved:DeleteMarkerCreated', 'multi', batch.Deleted?.[0]?.DeleteMarkerVersionId],
        ['events', 'ObjectRemoved:Delete', 'e copy', copy.VersionId],
        ['plain', 'ObjectCreated:Put', 'p', undefined],
        ['plain', 'ObjectRemoved:Delete', 'p', undefined],
      ],
    );
    assert.equal(events[0]?.s3.object.size, 3);
    assert.equal(events[0]?.s3.object.eTag, put1.ETag?.replace(/"/g, ''));
    assert.equal(events[1]?.s3.object.key, 'e+copy', 'keys come URL-encoded, a space as +');
    assert.ok(events.every((r, i) => i === 0 || r.s3.object.sequencer > events[i - 1]!.s3.object.sequencer), 'sequencers grow');
  });

  it('keeps one "null" version per object in a bucket without versioning', async () => {
    const written = await put('plain', 'n', 'x');
    assert.equal(written.VersionId, undefined);
    const listed = await allVersions('plain', 'n');
    assert.deepEqual(listed.Versions?.map((v) => [v.Key, v.VersionId, v.IsLatest]), [['n', 'null', true]]);
    await client.send(new DeleteObjectsCommand({ Bucket: 'plain', Delete: { Objects: [{ Key: 'n', VersionId: 'null' }] } }));
    assert.equal((await allVersions('plain', 'n')).Versions, undefined);
  });

  it('keeps versions and delete markers across a restart', async () => {
    const v1 = await put('restart', 'r', 'one');
    const v2 = await put('restart', 'r', 'two');
    const marker = await client.send(new DeleteObjectCommand({ Bucket: 'restart', Key: 'r' }));
    const before = await allVersions('restart');
    client.destroy();
    await s3.close();
    await start();
    const after = await allVersions('restart');
    assert.deepEqual(after.Versions, before.Versions);
    assert.deepEqual(after.DeleteMarkers?.map((m) => m.VersionId), [marker.VersionId]);
    assert.equal(await failure(text('restart', 'r')), 'NoSuchKey 404');
    assert.equal(await text('restart', 'r', v1.VersionId), 'one');
    await client.send(new DeleteObjectCommand({ Bucket: 'restart', Key: 'r', VersionId: marker.VersionId }));
    assert.equal(await text('restart', 'r'), 'two');
    assert.equal((await client.send(new HeadObjectCommand({ Bucket: 'restart', Key: 'r' }))).VersionId, v2.VersionId);
  });
});
