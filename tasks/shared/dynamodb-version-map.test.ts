import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { startLocalDynamoDB, type LocalDynamoDB } from '../../local/dynamodb-server.ts';
import type { VersionMap } from '../ports/version-map.ts';
import { DynamoDbVersionMap } from './dynamodb-version-map.ts';
import { MemoryVersionMap } from './fakes.ts';

const TABLES = { versions: 'versions', tombstones: 'tombstones' };
let directory: string;
let server: LocalDynamoDB;
let documents: DynamoDBDocumentClient;
let versions: DynamoDbVersionMap;

before(async () => {
  directory = mkdtempSync(join(tmpdir(), 'pictor-version-map-'));
  server = await startLocalDynamoDB({ directory, tables: Object.values(TABLES) });
  documents = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1', endpoint: server.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }));
  versions = new DynamoDbVersionMap(documents, TABLES.versions, TABLES.tombstones);
});

after(async () => {
  documents.destroy();
  await server.close();
  rmSync(directory, { recursive: true, force: true });
});

describe('DynamoDbVersionMap tombstones', () => {
  it('keeps an image taken down when its row no longer says so, as a role that reserves or publishes could make it', async () => {
    assert.equal(await versions.reserve('shop', 'a', '01', 'upload-1'), 1);
    const { tombstonedAt } = await versions.tombstone('shop', 'a', 'dmca');
    // What render-variants' or publish-version's role may do: its UpdateItem may name tombstonedAt.
    await documents.send(new UpdateCommand({ TableName: TABLES.versions, Key: { id: 'shop/a' }, UpdateExpression: 'REMOVE tombstonedAt' }));
    assert.equal((await versions.get('shop', 'a'))?.tombstonedAt, tombstonedAt);
    // Taking it down again puts the row right, at the first takedown's time.
    assert.equal((await versions.tombstone('shop', 'a', 'dmca')).tombstonedAt, tombstonedAt);
    assert.equal(await versions.reserve('shop', 'a', '02', 'upload-2'), null);
    assert.deepEqual(await versions.publish('shop', 'a', 1, '01', 'etag'), { published: false, reason: 'taken-down' });
  });

  it('reads an image with a tombstone and no row as taken down, and one with neither as unknown', async () => {
    await documents.send(new UpdateCommand({ TableName: TABLES.tombstones, Key: { id: 'shop/b' }, UpdateExpression: 'SET tombstonedAt = :at', ExpressionAttributeValues: { ':at': '2026-01-01T00:00:00.000Z' } }));
    assert.deepEqual(await versions.get('shop', 'b'), { tenant: 'shop', imageId: 'b', version: 0, publishedVersions: [], tombstonedAt: '2026-01-01T00:00:00.000Z' });
    assert.equal(await versions.get('shop', 'c'), null);
  });
});

/**
 * One contract, two VersionMaps: the DynamoDB adapter and the in-memory fake the
 * use-cases' unit tests run on, so that the fake keeps the adapter's conditions.
 */
for (const [name, make] of [
  ['the DynamoDB adapter', (): VersionMap => versions],
  ['the in-memory fake', (): VersionMap => new MemoryVersionMap()],
] as const) {
  describe(`VersionMap, as ${name} keeps it`, () => {
    it('reserves versions in upload order, each reservation once, and publishes only over a lower version', async () => {
      const map = make();
      const image = 'contract';
      const steps: [string, () => Promise<unknown>, unknown][] = [
        ['the first upload reserves 1', () => map.reserve('shop', image, '0001', 'u1'), 1],
        ['its retry gets 1 again', () => map.reserve('shop', image, '0001', 'u1'), 1],
        ['an older upload gets none', () => map.reserve('shop', image, '0000', 'u0'), null],
        ['a newer upload reserves 2', () => map.reserve('shop', image, '0002', 'u2'), 2],
        ['a re-render of that upload reserves 3', () => map.reserve('shop', image, '0002', 'r1', true), 3],
        ['the first upload, late, gets none', () => map.reserve('shop', image, '0001', 'u1'), null],
        ['3 publishes over nothing', () => map.publish('shop', image, 3, '0002', 'e3', 'w320'), { published: true, fresh: true, latest: true, previousVersion: 0 }],
        ['2 lost to 3', () => map.publish('shop', image, 2, '0002', 'e2'), { published: false, reason: 'superseded' }],
        ['3 again is published, not fresh', () => map.publish('shop', image, 3, '0002', 'e3', 'w320'), { published: true, fresh: false, latest: true, previousVersion: 0 }],
      ];
      for (const [what, act, expected] of steps) assert.deepEqual(await act(), expected, what);
      const record = await map.get('shop', image);
      assert.deepEqual([record?.version, record?.publishedVersions, record?.reservedBy, record?.reservedVersion, record?.schema, record?.etag], [3, [3], 'r1', 3, 'w320', 'e3']);
    });

    it('notes the newest upload and its execution, never moving back, beside the reservations and publishes', async () => {
      const map = make();
      const note = (sequencer: string, executionArn: string) => map.noteUpload('shop', 'noted', { sequencer, executionArn, at: '2026-12-02T08:00:00.000Z' });
      await note('0002', 'arn:e2');
      await note('0001', 'arn:e1');
      await note('0002', 'arn:e2-duplicate');
      assert.equal((await map.get('shop', 'noted'))?.lastUpload?.executionArn, 'arn:e2');
      assert.equal(await map.reserve('shop', 'noted', '0002', 'u2'), 1);
      await map.publish('shop', 'noted', 1, '0002', 'e');
      await note('0003', 'arn:e3');
      const record = await map.get('shop', 'noted');
      assert.deepEqual([record?.version, record?.reservedVersion, record?.lastUpload?.executionArn], [1, 1, 'arn:e3']);
      // A note is no publish: an image noted and never published is at version 0.
      await map.noteUpload('shop', 'pending', { sequencer: '0001', executionArn: 'arn:p', at: '2026-12-02T08:00:00.000Z' });
      assert.deepEqual([(await map.get('shop', 'pending'))?.version, (await map.get('shop', 'pending'))?.publishedVersions], [0, []]);
    });

    it('stops reserving and publishing once the image is taken down, keeping the first takedown time', async () => {
      const map = make();
      assert.equal(await map.reserve('shop', 'gone', '0001', 'u1'), 1);
      const { tombstonedAt } = await map.tombstone('shop', 'gone', 'dmca');
      assert.equal((await map.tombstone('shop', 'gone', 'dmca')).tombstonedAt, tombstonedAt);
      assert.equal(await map.reserve('shop', 'gone', '0002', 'u2'), null);
      assert.equal(await map.reserve('shop', 'gone', '0001', 'u1'), null);
      assert.deepEqual(await map.publish('shop', 'gone', 1, '0001', 'e'), { published: false, reason: 'taken-down' });
      assert.equal(await map.get('shop', 'never'), null);
    });
  });
}

