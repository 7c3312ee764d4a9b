import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PUBLISHED_VERSION_METADATA, publishedKey, snapshotKey, stagedKey, stagedOriginalKey, variantKey, variantPrefix } from '../../core/object-keys.ts';
import { MemoryS3, MemoryVersionMap, RecordingPublisher } from '../shared/fakes.ts';
import { publishVersion, type PublishDeps, type PublishInput } from './publish-version.ts';

const image = { tenant: 'shop', imageId: 'a' };
const spec = { fmt: 'webp', q: 75, w: 320 } as const;

/** The pipeline's buckets and map, and what render-variants staged for `version`. */
function arrange() {
  const s3 = new MemoryS3();
  const originals = s3.bucket('originals');
  const variants = s3.bucket('variants', { versioned: false });
  const failover = s3.bucket('variants-failover', { versioned: false });
  const versions = new MemoryVersionMap();
  const events = new RecordingPublisher();
  const deps: PublishDeps = { originals, variants: [variants, failover], versions, events };
  const stage = (version: number, sequencer = `000${version}`): PublishInput => {
    const key = variantKey({ ...image, version }, spec);
    variants.seed(stagedKey(key), `variant v${version}`, { contentType: 'image/webp' });
    variants.seed(stagedOriginalKey(image, version), `original v${version}`);
    return { ...image, sequencer, etag: `etag-${version}`, idempotencyKey: `shop/a/${sequencer}`, version, variants: [{ key, contentType: 'image/webp', width: 320, bytes: 10 }], schema: 'w320_q75.webp' };
  };
  return { s3, originals, variants, failover, versions, events, deps, stage };
}

const pointer = (a: ReturnType<typeof arrange>) => a.originals.object(publishedKey(image))?.headers.metadata?.[PUBLISHED_VERSION_METADATA];

describe('publishVersion', () => {
  it('records the version, copies its variants into every variants bucket and its snapshot into the originals, points unversioned URLs at it, then announces it', async () => {
    // Arrange
    const a = arrange();
    const input = a.stage(1);
    // Act
    const result = await publishVersion(input, a.deps);
    // Assert
    assert.deepEqual(result, { published: true, version: 1, previousVersion: 0 });
    assert.equal((await a.versions.get('shop', 'a'))?.version, 1);
    for (const bucket of [a.variants, a.failover]) assert.deepEqual(bucket.keys(), ['shop/a/v1/w320_q75.webp'], bucket.bucket);
    assert.equal(a.originals.text(snapshotKey(image, 1)), 'original v1');
    assert.equal(pointer(a), '1');
    assert.deepEqual(a.events.of('Version Bumped'), [{ schemaVersion: 1, ...image, version: 1, previousVersion: 0, sequencer: '0001' }]);
    assert.deepEqual(a.events.of('Variants Rendered'), [{ schemaVersion: 1, ...image, version: 1, variants: input.variants }]);
  });

  it("moves unversioned URLs to a new version and empties every bucket's `latest` renders of the old one", async () => {
    const a = arrange();
    await publishVersion(a.stage(1), a.deps);
    for (const bucket of [a.variants, a.failover]) bucket.seed(variantKey(image, spec), 'rendered from v1 at the edge');
    const result = await publishVersion(a.stage(2), a.deps);
    assert.deepEqual(result, { published: true, version: 2, previousVersion: 1 });
    assert.equal(pointer(a), '2');
    for (const bucket of [a.variants, a.failover]) assert.deepEqual(bucket.keys(variantPrefix(image)), [], bucket.bucket);
  });

  it('waits (ReplicationPending) until every replica has the snapshot, then the pointer, and completes on a retry without copying again', async () => {
    // Arrange: the originals replicate, and nothing lands until told.
    const a = arrange();
    a.originals.replicates = true;
    const input = a.stage(1);
    // Act, Assert: each wait is a retry of the task.
    await assert.rejects(publishVersion(input, a.deps), { name: 'ReplicationPending', message: new RegExp(snapshotKey(image, 1)) });
    assert.equal(pointer(a), undefined, 'no pointer before the snapshot is everywhere');
    a.originals.replicate();
    await assert.rejects(publishVersion(input, a.deps), { name: 'ReplicationPending', message: new RegExp(publishedKey(image)) });
    assert.equal(a.events.sent.length, 0);
    const copies = a.s3.log.filter((w) => w.includes(': put ')).length;
    a.originals.replicate();
    assert.deepEqual(await publishVersion(input, a.deps), { published: true, version: 1, previousVersion: 0 });
    assert.equal(a.s3.log.filter((w) => w.includes(': put ')).length, copies, 'the retries copied nothing again');
    assert.equal(a.events.of('Version Bumped').length, 1);
  });

  it('publishes nothing of a version that lost, and leaves nothing of it behind', async () => {
    const cases = [
      { name: 'a higher version was published first', arrange: async (a: ReturnType<typeof arrange>) => void (await publishVersion(a.stage(2, '0009'), a.deps)), reason: 'a higher version was published first', pointer: '2' },
      { name: 'the image was taken down', arrange: async (a: ReturnType<typeof arrange>) => void (await a.versions.tombstone('shop', 'a', 'dmca')), reason: 'the image was taken down', pointer: undefined },
    ];
    for (const c of cases) {
      const a = arrange();
      await c.arrange(a);
      const sent = a.events.sent.length;
      const result = await publishVersion(a.stage(1), a.deps);
      assert.deepEqual(result, { published: false, version: 1, reason: c.reason }, c.name);
      assert.equal(a.variants.keys().some((k) => k.includes('/v1/')), false, c.name);
      assert.equal(a.originals.text(snapshotKey(image, 1)), undefined, c.name);
      assert.equal(pointer(a), c.pointer, c.name);
      assert.equal(a.events.sent.length, sent, c.name);
    }
  });

  it('fails with the typed error of a failing store, and a retry then completes the work', async () => {
    const cases = [
      { name: 'a failover bucket', fail: (a: ReturnType<typeof arrange>) => a.failover.failing, method: 'copyFrom' },
      { name: 'the originals', fail: (a: ReturnType<typeof arrange>) => a.originals.failing, method: 'put' },
      { name: 'the version map', fail: (a: ReturnType<typeof arrange>) => a.versions.failing, method: 'publish' },
      { name: 'the event bus', fail: (a: ReturnType<typeof arrange>) => a.events.failing, method: 'publish' },
    ];
    for (const c of cases) {
      const a = arrange();
      const input = a.stage(1);
      c.fail(a).add(c.method);
      await assert.rejects(publishVersion(input, a.deps), { name: 'OriginUnavailable' }, c.name);
      c.fail(a).clear();
      assert.deepEqual(await publishVersion(input, a.deps), { published: true, version: 1, previousVersion: 0 }, c.name);
      assert.equal(pointer(a), '1', c.name);
      assert.deepEqual(a.failover.keys(), ['shop/a/v1/w320_q75.webp'], c.name);
    }
  });
});
