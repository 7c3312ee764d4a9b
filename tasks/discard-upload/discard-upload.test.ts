import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryS3, RecordingPublisher } from '../shared/fakes.ts';
import { discardUpload, type DiscardInput } from './discard-upload.ts';

function arrange() {
  const s3 = new MemoryS3();
  const primary = s3.bucket('originals');
  const replica = s3.bucket('originals-replica');
  const uploaded = primary.seed('shop/a', 'bytes');
  replica.seed('shop/a', 'bytes');
  primary.seed('shop/ab', 'a neighbour');
  const events = new RecordingPublisher();
  const deps = { originals: [{ store: primary, region: 'us-east-1' }, { store: replica, region: 'eu-west-1' }], events };
  const input: DiscardInput = { tenant: 'shop', imageId: 'a', sequencer: '0002', etag: uploaded.etag, versionId: uploaded.versionId, idempotencyKey: 'shop/a/0002', reason: 'shop/a was taken down', takenDownAt: '2026-12-01T12:00:00.000Z' };
  return { primary, replica, events, deps, input };
}

describe('discardUpload', () => {
  it('erases every version of the upload in the primary and each replica, leaves the primary a replicated delete marker, and says why', async () => {
    // Arrange
    const a = arrange();
    // Act
    const result = await discardUpload(a.input, a.deps);
    // Assert
    assert.deepEqual(a.replica.allVersions(), []);
    assert.deepEqual(a.primary.allVersions().filter((v) => v.key === 'shop/a').map((v) => v.deleteMarker), [true], 'the delete marker, which reaches the replicas, stays');
    assert.deepEqual(a.primary.keys(), ['shop/ab']);
    assert.deepEqual(result.erased.map((e) => `${e.bucket} ${e.key}`), ['originals-replica shop/a', 'originals shop/a']);
    assert.deepEqual(a.events.of('Upload Discarded'), [{ schemaVersion: 1, tenant: 'shop', imageId: 'a', code: 'ImageTakenDown', reason: a.input.reason, takenDownAt: a.input.takenDownAt, sequencer: '0002' }]);
  });

  it('is safe to repeat: nothing is left to erase, and the event goes out again', async () => {
    const a = arrange();
    await discardUpload(a.input, a.deps);
    const again = await discardUpload(a.input, a.deps);
    assert.deepEqual(a.replica.allVersions(), []);
    assert.equal(a.primary.keys().includes('shop/a'), false);
    assert.ok(again.erased.every((e) => e.bucket === 'originals'));
    assert.equal(a.events.of('Upload Discarded').length, 2);
  });

  it('waits (ReplicationPending) until replication has delivered the upload everywhere, erasing nothing; a store failure is OriginUnavailable', async () => {
    const pending = arrange();
    pending.primary.replication('shop/a', 'PENDING');
    await assert.rejects(discardUpload(pending.input, pending.deps), { name: 'ReplicationPending' });
    assert.equal(pending.replica.keys().length, 1);
    assert.equal(pending.events.sent.length, 0);

    const down = arrange();
    down.replica.failing.add('listVersions');
    await assert.rejects(discardUpload(down.input, down.deps), { name: 'OriginUnavailable' });
    assert.equal(down.events.sent.length, 0);
  });
});
