import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryS3, memoryReports, MemoryVersionMap, type MemoryBucket } from '../shared/fakes.ts';
import { Stragglers } from '../shared/takedown-state.ts';
import { inventoryImage } from '../inventory-image/inventory-image.ts';
import { tenantLookup } from '../shared/tenants.ts';
import { parseConfig } from '../../core/tenant-config.ts';
import { eraseObjects, type EraseDeps } from './erase-objects.ts';

const item = { tenant: 'shop', imageId: 'a', reason: 'gdpr' as const, requester: 'dpo@example.com' };

/** An image in the originals (and a replica) and in two variants buckets, inventoried as inventory-image leaves it. */
async function arrange() {
  const s3 = new MemoryS3();
  const originals = s3.bucket('originals');
  const replica = s3.bucket('originals-replica');
  const variants = s3.bucket('variants', { versioned: false });
  const failover = s3.bucket('variants-failover', { versioned: false });
  for (const store of [originals, replica]) {
    store.seed('shop/a', 'bytes');
    store.seed('_versions/shop/a/1', 'bytes');
    store.seed('shop/ab', 'a neighbour');
  }
  variants.seed('shop/a/v1/w320_q75.webp', 'w');
  failover.seed('shop/a/v1/w320_q75.webp', 'w');
  const { reports, store: reportsBucket } = memoryReports();
  const originalsEverywhere = [
    { store: originals, region: 'us-east-1', role: 'original' as const },
    { store: replica, region: 'eu-west-1', role: 'replica' as const },
  ];
  const variantsEverywhere = [
    { store: variants, region: 'us-east-1', role: 'variants' as const },
    { store: failover, region: 'eu-west-1', role: 'variants' as const },
  ];
  const deps: EraseDeps = { buckets: [...originalsEverywhere, ...variantsEverywhere], reports, now: () => ERASED_AT };
  const inventory = await inventoryImage(
    { batchId: 'b1', item },
    { versions: new MemoryVersionMap(), originals: originalsEverywhere, variants: variantsEverywhere, tenant: tenantLookup(parseConfig({ tenants: { shop: {} } }).tenants), reports },
  );
  return { s3, deps, inventory, originals, replica, variants, failover, reportsBucket };
}

const imageKeys = (bucket: MemoryBucket) => bucket.allVersions().filter((v) => v.key.includes('shop/a') && !v.key.includes('shop/ab'));

const ERASED_AT = new Date('2026-12-01T10:00:00.000Z');

describe('eraseObjects', () => {
  it('deletes every version the inventory listed, originals before variants, and leaves neighbours alone', async () => {
    // Arrange
    const a = await arrange();
    // Act
    const erased = await eraseObjects({ batchId: 'b1', item, inventory: a.inventory }, a.deps);
    // Assert
    for (const bucket of [a.originals, a.replica, a.variants, a.failover]) assert.deepEqual(imageKeys(bucket), [], bucket.bucket);
    assert.deepEqual(a.originals.keys(), ['shop/ab']);
    assert.deepEqual(erased, { erasedAt: ERASED_AT.toISOString(), stragglers: 0 });
    // No variant goes before every original has: none could be rendered again from an original left behind.
    const deletes = a.s3.log.filter((w) => w.includes(': delete '));
    const lastOriginal = deletes.map((w) => w.startsWith('originals')).lastIndexOf(true);
    const firstVariant = deletes.findIndex((w) => w.startsWith('variants'));
    assert.ok(lastOriginal >= 0 && firstVariant > lastOriginal, deletes.join('\n'));
  });

  it('on the sweep, erases what appeared after the inventory in any bucket and lists it in the reports bucket', async () => {
    const a = await arrange();
    const first = await eraseObjects({ batchId: 'b1', item, inventory: a.inventory }, a.deps);
    // A render at the failover's edge and a late upload replicated after the first pass.
    a.failover.seed('shop/a/latest/w640_q75.webp', 'late');
    a.replica.seed('shop/a', 'late upload');
    const sweep = await eraseObjects({ batchId: 'b1', item, inventory: a.inventory, erase: first }, a.deps);
    assert.equal(sweep.stragglers, 2);
    const listed = Stragglers.parse(JSON.parse(a.reportsBucket.text('takedowns/b1/images/shop/a/sweep.json')!));
    assert.deepEqual(listed.locations.map((l) => [l.bucket, l.versions.map((v) => v.key)]), [['originals-replica', ['shop/a']], ['variants-failover', ['shop/a/latest/w640_q75.webp']]]);
    assert.deepEqual([...imageKeys(a.replica), ...imageKeys(a.failover)], []);
    // A second sweep finds nothing, and writes nothing.
    assert.equal((await eraseObjects({ batchId: 'b1', item, inventory: a.inventory, erase: first }, a.deps)).stragglers, 0);
  });

  it('is safe to run again after a failure midway: it erases the rest', async () => {
    const a = await arrange();
    a.variants.failing.add('deleteVersions');
    await assert.rejects(eraseObjects({ batchId: 'b1', item, inventory: a.inventory }, a.deps), { name: 'OriginUnavailable' });
    a.variants.failing.clear();
    await eraseObjects({ batchId: 'b1', item, inventory: a.inventory }, a.deps);
    for (const bucket of [a.originals, a.replica, a.variants, a.failover]) assert.deepEqual(imageKeys(bucket), [], bucket.bucket);
  });

  it('waits (ReplicationPending) while an original is on its way to a replica, and refuses a bucket not its own (InvalidEvent), deleting nothing', async () => {
    const pending = await arrange();
    pending.originals.replication('shop/a', 'PENDING');
    await assert.rejects(eraseObjects({ batchId: 'b1', item, inventory: pending.inventory }, pending.deps), { name: 'ReplicationPending' });
    assert.equal(imageKeys(pending.originals).length, 2);

    const foreign = await arrange();
    const deps = { ...foreign.deps, buckets: foreign.deps.buckets.filter((b) => b.store.bucket !== 'variants-failover') };
    await assert.rejects(eraseObjects({ batchId: 'b1', item, inventory: foreign.inventory }, deps), { name: 'InvalidEvent', message: /variants-failover/ });
    assert.equal(imageKeys(foreign.originals).length, 2);
  });
});
