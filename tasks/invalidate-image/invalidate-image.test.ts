import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../core/tenant-config.ts';
import { MemoryInvalidator, memoryReports } from '../shared/fakes.ts';
import type { InventoryManifest } from '../shared/takedown-state.ts';
import { tenantLookup } from '../shared/tenants.ts';
import { invalidateImage, type InvalidateDeps } from './invalidate-image.ts';

const CONFIG = parseConfig({ tenants: { shop: {} } });
const TOMBSTONED = '2026-12-01T12:00:00.000Z';
const item = { tenant: 'shop', imageId: 'a', reason: 'dmca' as const, requester: 'legal@example.com' };
const variants = (keys: string[]) => ({ bucket: 'variants', region: 'us-east-1', role: 'variants' as const, versions: keys.map((key) => ({ key, versionId: 'null' })) });

/** The deps, and the state's inventory with its manifest in the reports bucket. */
async function arrange(manifest: Omit<InventoryManifest, 'tombstonedAt'>) {
  const { reports } = memoryReports();
  const invalidator = new MemoryInvalidator();
  const deps: InvalidateDeps = { invalidator, reports, tenant: tenantLookup(CONFIG.tenants) };
  const at = await reports.put('takedowns/b1/images/shop/a/inventory.json', { tombstonedAt: TOMBSTONED, ...manifest });
  const inventory = { tombstonedAt: TOMBSTONED, publishedVersion: manifest.publishedVersion, manifest: at, versions: 1 };
  return { deps, invalidator, reports, inventory };
}

describe('invalidateImage', () => {
  it('invalidates the exact URLs the inventory and the late finds name, or the wildcards where exact paths may miss a copy', async () => {
    const cases = [
      {
        name: 'one published version: its exact URLs',
        manifest: { publishedVersion: 1, publishedVersions: [1], lastPublishedAt: '2026-11-01T00:00:00.000Z', locations: [variants(['shop/a/v1/w320_q75.webp'])] },
        expect: { wildcard: false, paths: ['/img/shop/a', '/img/shop/a/v1', '/img/shop/a/v1?fmt=webp&q=75&w=320', '/img/shop/a?fmt=webp&q=75&w=320'] },
      },
      {
        name: 're-published within the unversioned lifetime: wildcards',
        manifest: { publishedVersion: 2, publishedVersions: [1, 2], lastPublishedAt: '2026-12-01T11:59:00.000Z', locations: [] },
        expect: { wildcard: true, paths: ['/img/shop/a', '/img/shop/a?*', '/img/shop/a/*'] },
      },
      {
        name: 'more URLs than an image may take of the 3,000 exact paths: wildcards',
        manifest: { publishedVersion: 1, publishedVersions: [1], locations: [variants(Array.from({ length: 150 }, (_, i) => `shop/a/v1/w${i + 1}_q75.webp`))] },
        expect: { wildcard: true, paths: ['/img/shop/a', '/img/shop/a?*', '/img/shop/a/*'] },
      },
    ];
    for (const c of cases) {
      // Arrange
      const { deps, invalidator, inventory } = await arrange(c.manifest);
      // Act
      const made = await invalidateImage({ batchId: 'b1', item, inventory }, deps);
      // Assert
      assert.deepEqual(invalidator.made.map((i) => i.paths), [c.expect.paths], c.name);
      assert.deepEqual(made, { id: 'I1', status: 'InProgress', path: c.expect.paths[0], paths: c.expect.paths.length, wildcard: c.expect.wildcard }, c.name);
    }
  });

  it('adds what the erase and the sweep found late to the exact paths', async () => {
    const { deps, invalidator, reports, inventory } = await arrange({ publishedVersion: 1, publishedVersions: [1], locations: [] });
    const late = await reports.put('late.json', { locations: [variants(['shop/a/latest/w640_q75.webp'])] });
    await invalidateImage({ batchId: 'b1', item, inventory, erase: { erasedAt: TOMBSTONED, stragglers: 1, manifest: late } }, deps);
    assert.ok(invalidator.made[0]!.paths.includes('/img/shop/a?fmt=webp&q=75&w=640'));
  });

  it('asks again under the same CallerReference on a retry, so CloudFront answers with the invalidation it made', async () => {
    const { deps, invalidator, inventory } = await arrange({ publishedVersion: 1, publishedVersions: [1], locations: [] });
    const first = await invalidateImage({ batchId: 'b1', item, inventory }, deps);
    const again = await invalidateImage({ batchId: 'b1', item, inventory }, deps);
    assert.deepEqual(again, first);
    assert.equal(invalidator.made.length, 1);
    // Another batch taking the same image down is another invalidation.
    await invalidateImage({ batchId: 'b2', item, inventory }, deps);
    assert.equal(invalidator.made.length, 2);
  });

  it('fails with the typed error of each dependency that fails', async () => {
    const cases: { name: string; arrange: (a: Awaited<ReturnType<typeof arrange>>) => void; tenant?: string; error: string }[] = [
      { name: 'CloudFront has its quota in progress', arrange: (a) => void (a.invalidator.throttled = true), error: 'TooManyInvalidationsInProgress' },
      { name: 'CloudFront does not answer', arrange: (a) => a.invalidator.failing.add('create'), error: 'OriginUnavailable' },
      { name: 'the manifest is gone', arrange: (a) => void (a.inventory.manifest = { bucket: 'reports', key: 'gone.json' }), error: 'InvalidEvent' },
      { name: 'the tenant is not configured', arrange: () => {}, tenant: 'nobody', error: 'InvalidEvent' },
    ];
    for (const c of cases) {
      const a = await arrange({ publishedVersion: 1, publishedVersions: [1], locations: [] });
      c.arrange(a);
      await assert.rejects(invalidateImage({ batchId: 'b1', item: { ...item, tenant: c.tenant ?? 'shop' }, inventory: a.inventory }, a.deps), { name: c.error }, c.name);
    }
  });
});
