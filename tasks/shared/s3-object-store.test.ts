import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { S3Client } from '@aws-sdk/client-s3';
import { localS3Client, startLocalS3, type LocalS3 } from '../../local/s3-server.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import { MemoryS3 } from './fakes.ts';
import { S3ObjectStore } from './s3-object-store.ts';

/**
 * One contract, two ObjectStores: the S3 adapter against the twin's S3 server,
 * and the in-memory fake the use-cases' unit tests run on. Each case holds for
 * both, so that the fake cannot drift from what the adapter does.
 */
let directory: string;
let server: LocalS3;
let client: S3Client;
const memory = new MemoryS3();
const stores: Record<string, (bucket: string) => ObjectStore> = {
  'the S3 adapter': (bucket) => new S3ObjectStore(client, bucket),
  'the in-memory fake': (bucket) => memory.bucket(bucket),
};

before(async () => {
  directory = mkdtempSync(join(tmpdir(), 'pictor-object-store-'));
  server = await startLocalS3({ directory, buckets: ['s3-a', 's3-b'], versioned: ['s3-a', 's3-b'] });
  client = localS3Client(server.endpoint);
});

after(async () => {
  client.destroy();
  await server.close();
  rmSync(directory, { recursive: true, force: true });
});

for (const [name, make] of Object.entries(stores)) {
  const prefix = name === 'the S3 adapter' ? 's3' : 'memory';
  describe(`ObjectStore, as ${name} keeps it`, () => {
    it('reads what it wrote, with its headers; nothing for a missing key, a replaced one (If-Match), and ImageTooLarge past the limit', async () => {
      const store = make(`${prefix}-a`);
      await store.put('shop/a', 'hello', { contentType: 'text/plain', cacheControl: 'max-age=60', metadata: { 'pictor-version': '3' } });
      const got = await store.get('shop/a');
      assert.equal(got?.body.toString(), 'hello');
      const head = await store.head('shop/a');
      assert.deepEqual([head?.etag, head?.size, head?.metadata['pictor-version']], [got?.etag, 5, '3']);
      assert.equal(await store.get('shop/missing'), null);
      assert.equal(await store.head('shop/missing'), null);
      assert.equal(await store.get('shop/a', '"0123456789abcdef0123456789abcdef"'), null);
      assert.equal((await store.get('shop/a', got!.etag.replace(/"/g, '')))?.body.toString(), 'hello');
      await assert.rejects(store.get('shop/a', undefined, 4), { name: 'ImageTooLarge' });
    });

    it('writes only where nothing is (putIfAbsent), lists a page of keys directly under a prefix, and every key under it', async () => {
      const store = make(`${prefix}-a`);
      assert.equal(await store.putIfAbsent('audit/1.json', '{}', 'application/json'), true);
      assert.equal(await store.putIfAbsent('audit/1.json', '{"again":1}', 'application/json'), false);
      assert.equal((await store.get('audit/1.json'))?.body.toString(), '{}');
      for (const key of ['cat/a', 'cat/b', 'cat/c', 'cat/c/deeper', 'cats/x']) await store.put(key, 'x', { contentType: 'text/plain' });
      const first = await store.listPage('cat/', 2);
      assert.deepEqual(first.keys, ['cat/a', 'cat/b']);
      assert.ok(first.next);
      const second = await store.listPage('cat/', 2, first.next);
      assert.deepEqual([second.keys, second.next], [['cat/c'], undefined]);
      // Sorted: S3 lists in UTF-8 binary order, the twin's server in its directory's.
      assert.deepEqual((await store.list('cat/')).sort(), ['cat/a', 'cat/b', 'cat/c', 'cat/c/deeper']);
    });

    it('keeps versions and delete markers, lists an exact key without its neighbours, and deletes versions for good', async () => {
      const store = make(`${prefix}-b`);
      await store.put('shop/v', 'one', { contentType: 'text/plain' });
      await store.put('shop/v', 'two', { contentType: 'text/plain' });
      await store.put('shop/vv', 'neighbour', { contentType: 'text/plain' });
      await store.delete(['shop/v']);
      assert.equal(await store.get('shop/v'), null);
      const versions = await store.listVersions('shop/v');
      assert.deepEqual(versions.map((v) => [v.key, Boolean(v.deleteMarker)]).sort(), [['shop/v', false], ['shop/v', false], ['shop/v', true]]);
      assert.equal((await store.listVersions('shop/')).length, 4);
      await store.deleteVersions(versions);
      await store.deleteVersions(versions);
      assert.deepEqual((await store.listVersions('shop/')).map((v) => v.key), ['shop/vv']);
    });

    it('copies the current or a given version from another bucket, and nothing when the source is gone or replaced', async () => {
      const source = make(`${prefix}-b`);
      const target = make(`${prefix}-a`);
      await source.put('src', 'first', { contentType: 'text/plain' });
      const [old] = await source.listVersions('src');
      await source.put('src', 'second', { contentType: 'text/plain' });
      assert.equal(await target.copyFrom(`${prefix}-b`, 'src', 'copy'), true);
      assert.equal((await target.get('copy'))?.body.toString(), 'second');
      assert.equal(await target.copyFrom(`${prefix}-b`, 'src', 'old', { sourceVersionId: old!.versionId }), true);
      assert.equal((await target.get('old'))?.body.toString(), 'first');
      // CopySourceIfMatch is left out: the twin's S3 server ignores conditional requests (LOCAL_STACK.md), the fake keeps S3's rule.
      assert.equal(await target.copyFrom(`${prefix}-b`, 'nothing-here', 'y'), false);
    });
  });
}
