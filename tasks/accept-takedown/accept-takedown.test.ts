import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { memoryReports } from '../shared/fakes.ts';
import { acceptTakedown, AcceptTakedownInput } from './accept-takedown.ts';

const NOW = new Date('2026-12-01T12:00:00.000Z');
const item = (imageId: string, reason = 'dmca') => ({ tenant: 'shop', imageId, reason, requester: 'legal@example.com' });
const detail = (...items: ReturnType<typeof item>[]) => ({ schemaVersion: 1, items });

describe('acceptTakedown', () => {
  it('writes the items to the reports bucket, each image once (its first mention), and counts them', async () => {
    // Arrange
    const { reports, store } = memoryReports();
    // Act
    const accepted = await acceptTakedown(AcceptTakedownInput.parse({ batchId: 'b1', detail: detail(item('a'), item('b'), item('a', 'gdpr')) }), { reports, now: () => NOW });
    // Assert
    assert.deepEqual(accepted, { batchId: 'b1', requestedAt: NOW.toISOString(), count: 2, request: { bucket: 'reports', key: 'takedowns/b1/request.json' } });
    assert.deepEqual(JSON.parse(store.text('takedowns/b1/request.json')!), [item('a'), item('b')]);
  });

  it("keeps the request's own time, and writes the same items to the same key when run again", async () => {
    const { reports, store } = memoryReports();
    const input = AcceptTakedownInput.parse({ batchId: 'b2', requestedAt: '2026-11-30T00:00:00.000Z', detail: detail(item('a')) });
    const first = await acceptTakedown(input, { reports, now: () => NOW });
    const again = await acceptTakedown(input, { reports, now: () => NOW });
    assert.deepEqual(again, first);
    assert.equal(first.requestedAt, '2026-11-30T00:00:00.000Z');
    assert.deepEqual(store.keys(), ['takedowns/b2/request.json']);
  });

  it('refuses a bad request as InvalidEvent before it writes anything, and fails as OriginUnavailable when the bucket does', async () => {
    const cases = [
      { name: 'no items', detail: { schemaVersion: 1, items: [] }, error: 'InvalidEvent' },
      { name: 'an unknown reason', detail: detail({ ...item('a'), reason: 'because' }), error: 'InvalidEvent' },
      { name: 'a partial image id', detail: detail(item('a/b')), error: 'InvalidEvent' },
      { name: 'another schema version', detail: { ...detail(item('a')), schemaVersion: 2 }, error: 'InvalidEvent' },
      { name: 'the reports bucket is down', detail: detail(item('a')), error: 'OriginUnavailable', down: true },
    ];
    for (const c of cases) {
      const { reports, store } = memoryReports();
      if (c.down) store.failing.add('put');
      await assert.rejects(acceptTakedown({ batchId: 'b3', detail: c.detail }, { reports, now: () => NOW }), { name: c.error }, c.name);
      assert.deepEqual(store.keys(), [], c.name);
    }
    assert.equal(AcceptTakedownInput.safeParse({ batchId: '../b', detail: {} }).success, false, 'a batch id becomes part of keys');
  });
});
