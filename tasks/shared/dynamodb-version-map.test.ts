import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { startLocalDynamoDB, type LocalDynamoDB } from '../../local/dynamodb-server.ts';
import { DynamoDbVersionMap } from './dynamodb-version-map.ts';

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
