import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { DeleteObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { replicate, type ReplicationOptions } from './replication.ts';
import { LOCAL_S3_CREDENTIALS, startLocalS3, type LocalS3 } from './s3-server.ts';

/** A source bucket and its replica per case, so that cases do not see each other's copies. */
const CASES = ['delayed', 'immediate', 'down'] as const;

let s3: LocalS3;
let client: S3Client;
let dataDir: string;

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'pictor-replication-unit-'));
  s3 = await startLocalS3({ directory: dataDir, buckets: CASES.flatMap((c) => [`${c}-source`, `${c}-replica`]) });
  client = new S3Client({
    region: 'us-east-1',
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: LOCAL_S3_CREDENTIALS,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
});

after(async () => {
  client.destroy();
  await s3.close();
  await rm(dataDir, { recursive: true, force: true });
});

/** One replication rule at a time: the LocalS3 reports the status of the latest one's source. */
function rule(name: (typeof CASES)[number], options: ReplicationOptions) {
  return replicate(s3, client, `${name}-source`, `${name}-replica`, options);
}

async function statusIn(bucket: string, key: string): Promise<string | undefined | null> {
  const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).catch(() => null);
  return head === null ? null : (head.ReplicationStatus ?? undefined);
}

describe("the twin's replication", () => {
  it('keeps a copy PENDING, and the replica without it, for the delay; a delete takes as long', async () => {
    const replication = rule('delayed', { delayMs: 400 });
    await client.send(new PutObjectCommand({ Bucket: 'delayed-source', Key: 'a/b', Body: 'x' }));
    assert.equal(await statusIn('delayed-source', 'a/b'), 'PENDING');
    assert.equal(await statusIn('delayed-replica', 'a/b'), null, 'not in the replica yet');
    await sleep(200);
    assert.equal(await statusIn('delayed-source', 'a/b'), 'PENDING');
    await replication.settled();
    assert.equal(await statusIn('delayed-source', 'a/b'), 'COMPLETED');
    assert.notEqual(await statusIn('delayed-replica', 'a/b'), null);

    await client.send(new DeleteObjectCommand({ Bucket: 'delayed-source', Key: 'a/b' }));
    await sleep(200);
    assert.notEqual(await statusIn('delayed-replica', 'a/b'), null, 'the delete has not reached the replica yet');
    await replication.settled();
    assert.equal(await statusIn('delayed-replica', 'a/b'), null);
  });

  it('without a delay, answers a write once the replica has it', async () => {
    rule('immediate', { delayMs: 0 });
    await client.send(new PutObjectCommand({ Bucket: 'immediate-source', Key: 'k', Body: 'x' }));
    assert.equal(await statusIn('immediate-source', 'k'), 'COMPLETED');
    assert.notEqual(await statusIn('immediate-replica', 'k'), null);
  });

  it("replicates nothing into a region that is down, and does not hold a write for it; delivers once it is back", async () => {
    let up = false;
    let wake!: () => void;
    const back = new Promise<void>((resolve) => (wake = resolve));
    const replication = rule('down', { delayMs: 0, region: { up: () => up, healthy: () => (up ? Promise.resolve() : back) } });
    await client.send(new PutObjectCommand({ Bucket: 'down-source', Key: 'k', Body: 'x' }));
    await sleep(100);
    assert.equal(await statusIn('down-source', 'k'), 'PENDING');
    assert.equal(await statusIn('down-replica', 'k'), null);
    up = true;
    wake();
    await replication.settled();
    assert.equal(await statusIn('down-source', 'k'), 'COMPLETED');
    assert.notEqual(await statusIn('down-replica', 'k'), null);
  });

  it('refuses a delay that is not a number of milliseconds from 0', () => {
    assert.throws(() => rule('delayed', { delayMs: -1 }), /Expected a number of milliseconds from 0 for the replication delay but received -1/);
    assert.throws(() => rule('delayed', { delayMs: Number.NaN }), /received NaN/);
  });
});
