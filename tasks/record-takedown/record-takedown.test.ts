import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryS3, memoryReports, type MemoryBucket } from '../shared/fakes.ts';
import { recordTakedown, type RecordDeps, type RecordInput } from './record-takedown.ts';

/** The audit bucket: versioned (Object Lock needs it), written append-only. */
function auditBucket() {
  const store = new MemoryS3().bucket('audit');
  return { store, objects: { get: (key: string) => store.text(key) } };
}

const { reports } = memoryReports();
const locations = [
  { bucket: 'originals', region: 'us-east-1', role: 'original' as const, versions: [{ key: 'shop/sku-1', versionId: 'a' }, { key: 'shop/sku-1', versionId: 'm', deleteMarker: true }] },
  { bucket: 'variants', region: 'us-east-1', role: 'variants' as const, versions: [{ key: 'shop/sku-1/v1/w320_q75.webp', versionId: 'null' }] },
];
const base: RecordInput = {
  batchId: 'b1',
  requestedAt: '2026-11-22T10:00:00.000Z',
  item: { tenant: 'shop', imageId: 'sku-1', reason: 'gdpr', requester: 'dpo@example.com' },
  inventory: {
    tombstonedAt: '2026-11-22T10:00:01.000Z',
    publishedVersion: 1,
    manifest: await reports.put('takedowns/b1/images/shop/sku-1/inventory.json', { tombstonedAt: '2026-11-22T10:00:01.000Z', publishedVersion: 1, publishedVersions: [1], locations }),
    versions: 3,
  },
};
const now = () => new Date('2026-11-22T10:05:00.000Z');
const PATHS = ['/img/shop/sku-1', '/img/shop/sku-1/v1', '/img/shop/sku-1/v1?fmt=webp&q=75&w=320', '/img/shop/sku-1?fmt=webp&q=75&w=320'];
const deps = (audit: MemoryBucket): RecordDeps => ({ audit, reports, now, invalidationPlan: async () => ({ paths: PATHS, wildcard: false, reason: 'exact' }) });

describe('recordTakedown', () => {
  it('records a complete takedown as verified, with what was deleted', async () => {
    const { store, objects } = auditBucket();
    const result = await recordTakedown(
      {
        ...base,
        erase: { erasedAt: '2026-11-22T10:00:02.000Z', stragglers: 1, manifest: await reports.put('late.json', { locations: [{ ...locations[1]!, versions: [{ key: 'shop/sku-1/latest/w640_q75.webp', versionId: 'null' }] }] }) },
        invalidation: { id: 'I1', status: 'Completed', path: PATHS[0]!, paths: 4, wildcard: false },
        verification: { verifiedAt: '2026-11-22T10:04:00.000Z', urls: 5 },
      },
      deps(store),
    );
    assert.deepEqual(result, { auditKey: 'takedowns/shop/sku-1/b1.json', bucket: 'audit', verified: true, invalidationId: 'I1', failure: null });
    const record = JSON.parse(objects.get(result.auditKey)!);
    // Every version and delete marker, those found late included.
    assert.deepEqual(record.deleted, [
      { bucket: 'originals', region: 'us-east-1', role: 'original', key: 'shop/sku-1', versionId: 'a' },
      { bucket: 'originals', region: 'us-east-1', role: 'original', key: 'shop/sku-1', versionId: 'm', deleteMarker: true },
      { bucket: 'variants', region: 'us-east-1', role: 'variants', key: 'shop/sku-1/v1/w320_q75.webp', versionId: 'null' },
      { bucket: 'variants', region: 'us-east-1', role: 'variants', key: 'shop/sku-1/latest/w640_q75.webp', versionId: 'null' },
    ]);
    assert.equal(record.legalBasis, 'gdpr');
    assert.deepEqual(record.invalidation, { id: 'I1', status: 'Completed', wildcard: false, paths: PATHS });
    // The verified URLs are those of everything erased, the late render's unversioned URL included.
    assert.ok(record.verification.urls.includes('/img/shop/sku-1?fmt=webp&q=75&w=640'));
    assert.equal(record.verification.urls.length, 5);
  });

  it('still records a takedown that failed after the inventory, saying how far it got', async () => {
    const { store, objects } = auditBucket();
    const result = await recordTakedown({ ...base, failure: { Error: 'OriginUnavailable', Cause: 'S3 failed on originals.' } }, deps(store));
    assert.equal(result.verified, false);
    assert.equal(result.invalidationId, null);
    const record = JSON.parse(objects.get(result.auditKey)!);
    assert.deepEqual(record.deleted, []);
    assert.equal(record.listedForDeletion.length, 3);
    assert.deepEqual(record.failure, { error: 'OriginUnavailable', cause: 'S3 failed on originals.' });
    assert.equal(record.verification.verified, false);
  });

  it('never replaces a record that exists', async () => {
    const { store, objects } = auditBucket();
    await recordTakedown({ ...base, failure: { Error: 'X' } }, deps(store));
    const first = objects.get('takedowns/shop/sku-1/b1.json');
    await recordTakedown({ ...base, erase: { erasedAt: 'later', stragglers: 0 } }, deps(store));
    assert.equal(objects.get('takedowns/shop/sku-1/b1.json'), first);
  });

  it('fails with the reports bucket\'s or the audit bucket\'s error, and writes nothing when the inventory is unreadable', async () => {
    const cases = [
      { name: 'the audit bucket does not answer', arrange: (audit: MemoryBucket) => audit.failing.add('putIfAbsent'), input: base, error: 'OriginUnavailable' },
      { name: 'the inventory is missing', arrange: () => {}, input: { ...base, inventory: { ...base.inventory, manifest: { bucket: 'reports', key: 'nowhere.json' } } }, error: 'InvalidEvent' },
      { name: 'the inventory is in another bucket', arrange: () => {}, input: { ...base, inventory: { ...base.inventory, manifest: { bucket: 'elsewhere', key: 'x.json' } } }, error: 'InvalidEvent' },
    ];
    for (const c of cases) {
      // Arrange
      const { store } = auditBucket();
      c.arrange(store);
      // Act, Assert
      await assert.rejects(recordTakedown(c.input, deps(store)), { name: c.error }, c.name);
      assert.deepEqual(store.keys(), [], c.name);
    }
  });
});

