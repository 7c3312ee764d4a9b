import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { DeleteObjectCommand, DeleteObjectsCommand, GetObjectCommand, HeadObjectCommand, ListObjectVersionsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { replicate, type ReplicationOptions } from './replication.ts';
import { localS3Client, startLocalS3, type LocalS3 } from './s3-server.ts';

/** A source bucket and its replica per case, so that cases do not see each other's copies. */
const CASES = ['lagging', 'next-tick', 'down', 'markers', 'no-markers', 'by-version', 'erased', 'dropped'] as const;

let s3: LocalS3;
let client: S3Client;
let dataDir: string;

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'pictor-replication-unit-'));
  const buckets = CASES.flatMap((c) => [`${c}-source`, `${c}-replica`]);
  s3 = await startLocalS3({ directory: dataDir, buckets: [...buckets, 'unversioned'], versioned: buckets });
  client = localS3Client(s3.endpoint);
});

after(async () => {
  client.destroy();
  await s3.close();
  await rm(dataDir, { recursive: true, force: true });
});

function rule(name: (typeof CASES)[number], options: ReplicationOptions) {
  return replicate(s3, `${name}-source`, `${name}-replica`, options);
}

/** The object's replication status (undefined when it has none), or null when it is absent. */
async function statusIn(bucket: string, key: string, VersionId?: string): Promise<string | undefined | null> {
  const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key, VersionId })).catch(() => null);
  return head === null ? null : (head.ReplicationStatus ?? undefined);
}

async function versionsIn(Bucket: string): Promise<{ versions: string[]; markers: string[] }> {
  const listed = await client.send(new ListObjectVersionsCommand({ Bucket }));
  return { versions: (listed.Versions ?? []).map((v) => v.VersionId!), markers: (listed.DeleteMarkers ?? []).map((m) => m.VersionId!) };
}

const put = (Bucket: string, Key: string, Body: string) => client.send(new PutObjectCommand({ Bucket, Key, Body, ContentType: 'text/plain', CacheControl: 'max-age=60', Metadata: { kept: Body } }));

describe("the twin's replication", () => {
  it('answers a write at once; the replica has nothing for the lag, then the same version, bytes and metadata, as REPLICA', async () => {
    // A lag far longer than the checks below take, however busy the machine: had the write waited for
    // its replica, the replica would have the object at once.
    const replication = rule('lagging', { delayMs: 1500 });
    const written = await put('lagging-source', 'a/b', 'x');
    assert.equal(await statusIn('lagging-source', 'a/b'), 'PENDING');
    assert.equal(await statusIn('lagging-replica', 'a/b'), null, 'not in the replica yet');
    await sleep(200);
    assert.equal(await statusIn('lagging-source', 'a/b'), 'PENDING');
    assert.equal(await statusIn('lagging-replica', 'a/b'), null, 'still not in the replica');
    await replication.settled();
    assert.equal(await statusIn('lagging-source', 'a/b'), 'COMPLETED');
    const copy = await client.send(new GetObjectCommand({ Bucket: 'lagging-replica', Key: 'a/b' }));
    assert.equal(copy.VersionId, written.VersionId);
    assert.equal(copy.ReplicationStatus, 'REPLICA');
    assert.equal(await copy.Body!.transformToString(), 'x');
    assert.equal(copy.ETag, written.ETag);
    assert.equal(copy.ContentType, 'text/plain');
    assert.equal(copy.CacheControl, 'max-age=60');
    assert.deepEqual(copy.Metadata, { kept: 'x' });
  });

  it('with no lag still replicates after the write has answered, never within it', async () => {
    const replication = rule('next-tick', { delayMs: 0 });
    const seen: (string | undefined)[] = [];
    // Registered after the rule's own listener: what the source reports as the write answers.
    s3.server.on('event', (event) => {
      for (const r of event.Records) if (r.s3.bucket.name === 'next-tick-source') seen.push(s3.replicationStatus('next-tick-source', 'k'));
    });
    const written = await put('next-tick-source', 'k', 'x');
    assert.deepEqual(seen, ['PENDING']);
    await replication.settled();
    assert.equal(await statusIn('next-tick-source', 'k'), 'COMPLETED');
    assert.equal((await client.send(new HeadObjectCommand({ Bucket: 'next-tick-replica', Key: 'k' }))).VersionId, written.VersionId);
  });

  it('replicates nothing into a region that is down, and does not hold a write for it; delivers once it is back', async () => {
    let up = false;
    let wake!: () => void;
    const back = new Promise<void>((resolve) => (wake = resolve));
    const replication = rule('down', { delayMs: 0, region: { up: () => up, healthy: () => (up ? Promise.resolve() : back) } });
    await put('down-source', 'k', 'x');
    await sleep(100);
    assert.equal(await statusIn('down-source', 'k'), 'PENDING');
    assert.equal(await statusIn('down-replica', 'k'), null);
    up = true;
    wake();
    await replication.settled();
    assert.equal(await statusIn('down-source', 'k'), 'COMPLETED');
    assert.equal(await statusIn('down-replica', 'k'), 'REPLICA');
  });

  it('replicates delete markers, with their version ids, when the rule says so', async () => {
    const replication = rule('markers', { delayMs: 100 });
    await put('markers-source', 'k', 'x');
    await replication.settled();
    const marker = await client.send(new DeleteObjectCommand({ Bucket: 'markers-source', Key: 'k' }));
    assert.equal(await statusIn('markers-replica', 'k'), 'REPLICA', 'the marker has not reached the replica yet');
    await replication.settled();
    assert.equal(await statusIn('markers-replica', 'k'), null);
    assert.deepEqual((await versionsIn('markers-replica')).markers, [marker.VersionId]);
  });

  it('leaves delete markers in the source when the rule does not replicate them', async () => {
    const replication = rule('no-markers', { delayMs: 0, deleteMarkerReplication: false });
    await put('no-markers-source', 'k', 'x');
    await replication.settled();
    await client.send(new DeleteObjectCommand({ Bucket: 'no-markers-source', Key: 'k' }));
    await replication.settled();
    assert.equal(await statusIn('no-markers-replica', 'k'), 'REPLICA');
    assert.deepEqual((await versionsIn('no-markers-replica')).markers, []);
  });

  it('never replicates a delete that names a version id', async () => {
    const replication = rule('by-version', { delayMs: 0 });
    const v1 = await put('by-version-source', 'k', 'one');
    const v2 = await put('by-version-source', 'k', 'two');
    await replication.settled();
    await client.send(new DeleteObjectsCommand({ Bucket: 'by-version-source', Delete: { Objects: [{ Key: 'k', VersionId: v1.VersionId }, { Key: 'k', VersionId: v2.VersionId }] } }));
    await replication.settled();
    assert.deepEqual(await versionsIn('by-version-source'), { versions: [], markers: [] });
    assert.deepEqual(await versionsIn('by-version-replica'), { versions: [v2.VersionId, v1.VersionId], markers: [] });
  });

  it('lands a version picked up before the source erased every version of it, as S3 does', async () => {
    const replication = rule('erased', { delayMs: 300 });
    const written = await put('erased-source', 'k', 'x');
    await sleep(50);
    const marker = await client.send(new DeleteObjectCommand({ Bucket: 'erased-source', Key: 'k' }));
    await client.send(new DeleteObjectsCommand({ Bucket: 'erased-source', Delete: { Objects: [{ Key: 'k', VersionId: written.VersionId }] } }));
    assert.deepEqual(await versionsIn('erased-source'), { versions: [], markers: [marker.VersionId] });
    assert.equal(await statusIn('erased-replica', 'k'), null);
    await replication.settled();
    // The marker, newer, hides the version that landed.
    assert.deepEqual(await versionsIn('erased-replica'), { versions: [written.VersionId], markers: [marker.VersionId] });
    assert.equal(await statusIn('erased-replica', 'k', written.VersionId), 'REPLICA');
  });

  it('drops a version permanently deleted before its replication could start', async () => {
    let up = false;
    let wake!: () => void;
    const back = new Promise<void>((resolve) => (wake = resolve));
    const replication = rule('dropped', { delayMs: 0, region: { up: () => up, healthy: () => (up ? Promise.resolve() : back) } });
    const written = await put('dropped-source', 'k', 'x');
    await client.send(new DeleteObjectCommand({ Bucket: 'dropped-source', Key: 'k', VersionId: written.VersionId }));
    up = true;
    wake();
    await replication.settled();
    assert.deepEqual(await versionsIn('dropped-replica'), { versions: [], markers: [] });
  });

  it('refuses a delay that is not a number of milliseconds from 0, and buckets without versioning', () => {
    assert.throws(() => rule('lagging', { delayMs: -1 }), /Expected a number of milliseconds from 0 for the replication delay but received -1/);
    assert.throws(() => rule('lagging', { delayMs: Number.NaN }), /received NaN/);
    assert.throws(() => replicate(s3, 'lagging-source', 'unversioned'), /Expected versioning on replication bucket unversioned/);
  });
});
