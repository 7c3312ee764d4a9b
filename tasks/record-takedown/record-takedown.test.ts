import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ObjectStore } from '../shared/object-store.ts';
import { recordTakedown, type RecordInput } from './record-takedown.ts';

/** The audit bucket as the use-case sees it: append-only. */
function auditBucket() {
  const objects = new Map<string, string>();
  const store = {
    bucket: 'audit',
    async putIfAbsent(key: string, body: string) {
      if (objects.has(key)) return false;
      objects.set(key, body);
      return true;
    },
  } as unknown as ObjectStore;
  return { store, objects };
}

const base: RecordInput = {
  batchId: 'b1',
  requestedAt: '2026-11-22T10:00:00.000Z',
  item: { tenant: 'shop', imageId: 'sku-1', reason: 'gdpr', requester: 'dpo@example.com' },
  inventory: {
    tombstonedAt: '2026-11-22T10:00:01.000Z',
    publishedVersion: 1,
    locations: [{ bucket: 'originals', region: 'us-east-1', role: 'original', versions: [{ key: 'shop/sku-1', versionId: 'a' }] }],
  },
};
const now = () => new Date('2026-11-22T10:05:00.000Z');

describe('recordTakedown', () => {
  it('records a complete takedown as verified, with what was deleted', async () => {
    const { store, objects } = auditBucket();
    const result = await recordTakedown(
      {
        ...base,
        erase: { erasedAt: '2026-11-22T10:00:02.000Z', stragglers: [] },
        invalidation: { id: 'I1', status: 'Completed', path: '/img/shop/sku-1*' },
        verification: { verifiedAt: '2026-11-22T10:04:00.000Z', urls: ['/img/shop/sku-1'] },
      },
      { audit: store, now },
    );
    assert.deepEqual(result, { auditKey: 'takedowns/shop/sku-1/b1.json', bucket: 'audit', verified: true, invalidationId: 'I1', failure: null });
    const record = JSON.parse(objects.get(result.auditKey)!);
    assert.deepEqual(record.deleted, [{ bucket: 'originals', region: 'us-east-1', role: 'original', key: 'shop/sku-1', versionId: 'a' }]);
    assert.equal(record.legalBasis, 'gdpr');
  });

  it('still records a takedown that failed after the inventory, saying how far it got', async () => {
    const { store, objects } = auditBucket();
    const result = await recordTakedown({ ...base, failure: { Error: 'OriginUnavailable', Cause: 'S3 failed on originals.' } }, { audit: store, now });
    assert.equal(result.verified, false);
    assert.equal(result.invalidationId, null);
    const record = JSON.parse(objects.get(result.auditKey)!);
    assert.deepEqual(record.deleted, []);
    assert.equal(record.listedForDeletion.length, 1);
    assert.deepEqual(record.failure, { error: 'OriginUnavailable', cause: 'S3 failed on originals.' });
    assert.equal(record.verification.verified, false);
  });

  it('never replaces a record that exists', async () => {
    const { store, objects } = auditBucket();
    await recordTakedown({ ...base, failure: { Error: 'X' } }, { audit: store, now });
    const first = objects.get('takedowns/shop/sku-1/b1.json');
    await recordTakedown({ ...base, erase: { erasedAt: 'later', stragglers: [] } }, { audit: store, now });
    assert.equal(objects.get('takedowns/shop/sku-1/b1.json'), first);
  });
});
