import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../core/tenant-config.ts';
import { MemoryS3, memoryReports, MemoryVersionMap } from '../shared/fakes.ts';
import { InventoryManifest } from '../shared/takedown-state.ts';
import { tenantLookup } from '../shared/tenants.ts';
import { inventoryImage, type InventoryDeps } from './inventory-image.ts';

const CONFIG = parseConfig({ tenants: { shop: {} } });
const NOW = new Date('2026-12-01T12:00:00.000Z');
const item = { tenant: 'shop', imageId: 'a', reason: 'dmca' as const, requester: 'legal@example.com' };

async function arrange() {
  const s3 = new MemoryS3();
  const [originals, replica, variants, failover] = [s3.bucket('originals'), s3.bucket('originals-replica'), s3.bucket('variants', { versioned: false }), s3.bucket('variants-failover', { versioned: false })];
  const versions = new MemoryVersionMap(() => NOW);
  await versions.reserve('shop', 'a', '01', 'upload-1');
  await versions.publish('shop', 'a', 1, '01', 'etag-1');
  for (const store of [originals, replica]) {
    store.seed('shop/a', 'v1');
    store.seed('shop/a', 'v2');
    store.seed('_versions/shop/a/1', 'v1');
    store.seed('_published/shop/a', '');
    store.seed('shop/ab', 'a neighbour');
  }
  originals.seed('_quarantine/shop/a/0001', 'bad');
  variants.seed('shop/a/v1/w320_q75.webp', 'w');
  variants.seed('_staging/shop/a/v2/w320_q75.webp', 'staged');
  failover.seed('shop/a/latest/w640_q75.webp', 'rendered at the failover edge');
  const { reports, store: reportsBucket } = memoryReports();
  const deps: InventoryDeps = {
    versions,
    originals: [
      { store: originals, region: 'us-east-1', role: 'original' },
      { store: replica, region: 'eu-west-1', role: 'replica' },
    ],
    variants: [
      { store: variants, region: 'us-east-1' },
      { store: failover, region: 'eu-west-1' },
    ],
    tenant: tenantLookup(CONFIG.tenants),
    reports,
  };
  return { deps, versions, reportsBucket, buckets: [originals, replica, variants, failover] };
}

describe('inventoryImage', () => {
  it('tombstones the image and lists every version of every object it has, in every bucket, into a manifest in the reports bucket', async () => {
    // Arrange
    const { deps, versions, reportsBucket, buckets } = await arrange();
    const before = buckets.map((b) => b.allVersions());
    // Act
    const inventory = await inventoryImage({ batchId: 'b1', item }, deps);
    // Assert
    assert.equal((await versions.get('shop', 'a'))?.tombstonedAt, NOW.toISOString());
    assert.equal(await versions.reserve('shop', 'a', '02', 'upload-2'), null, 'no upload renders it again');
    const manifest = InventoryManifest.parse(JSON.parse(reportsBucket.text('takedowns/b1/images/shop/a/inventory.json')!));
    const listed = Object.fromEntries(manifest.locations.map((l) => [`${l.bucket} ${l.role} ${l.region}`, l.versions.map((v) => v.key).sort()]));
    assert.deepEqual(listed, {
      'originals original us-east-1': ['_published/shop/a', '_quarantine/shop/a/0001', '_versions/shop/a/1', 'shop/a', 'shop/a'],
      'originals-replica replica eu-west-1': ['_published/shop/a', '_versions/shop/a/1', 'shop/a', 'shop/a'],
      'variants variants us-east-1': ['_staging/shop/a/v2/w320_q75.webp', 'shop/a/v1/w320_q75.webp'],
      'variants-failover variants eu-west-1': ['shop/a/latest/w640_q75.webp'],
    });
    assert.deepEqual([manifest.publishedVersion, manifest.publishedVersions, manifest.tombstonedAt], [1, [1], NOW.toISOString()]);
    assert.deepEqual(inventory, { tombstonedAt: NOW.toISOString(), publishedVersion: 1, manifest: { bucket: 'reports', key: 'takedowns/b1/images/shop/a/inventory.json' }, versions: 12 });
    // Nothing is deleted, the neighbour `shop/ab` is not listed.
    assert.deepEqual(buckets.map((b) => b.allVersions()), before);
  });

  it('lists the same objects, at the first takedown time, when run again', async () => {
    const { deps } = await arrange();
    const first = await inventoryImage({ batchId: 'b1', item }, deps);
    assert.deepEqual(await inventoryImage({ batchId: 'b1', item }, deps), first);
  });

  it('fails as InvalidEvent for an unknown tenant before it tombstones anything, and as OriginUnavailable when a store fails', async () => {
    const unknown = await arrange();
    await assert.rejects(inventoryImage({ batchId: 'b1', item: { ...item, tenant: 'nobody' } }, unknown.deps), { name: 'InvalidEvent' });
    assert.equal(await unknown.versions.get('nobody', 'a'), null);
    for (const failing of ['versions', 'replica', 'reports'] as const) {
      const a = await arrange();
      if (failing === 'versions') a.versions.failing.add('tombstone');
      if (failing === 'replica') a.buckets[1]!.failing.add('listVersions');
      if (failing === 'reports') a.reportsBucket.failing.add('put');
      await assert.rejects(inventoryImage({ batchId: 'b1', item }, a.deps), { name: 'OriginUnavailable' }, failing);
    }
  });
});
