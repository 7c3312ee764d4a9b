import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../core/tenant-config.ts';
import { memoryReports } from '../shared/memory-reports.ts';
import { tenantLookup } from '../shared/tenants.ts';
import { verifyGone } from './verify-gone.ts';

const NOW = new Date('2026-12-01T12:00:00Z');
const CONFIG = parseConfig({
  tenants: {
    shop: {},
    vault: { signing: { required: true, maxTtl: 120 } },
  },
});

/** The edge as a function of the URL: every URL it is asked for, answered with `status`. */
function edge(status: (url: string) => number) {
  const asked: string[] = [];
  const fetch = (async (url: string) => {
    asked.push(url);
    return new Response(null, { status: status(url) });
  }) as unknown as typeof globalThis.fetch;
  const { reports } = memoryReports();
  const signingKey = async (tenant: string) => ({ kid: 'k1', secret: `${tenant}-secret-0123456789abcdefghijklmnopqrstuv` });
  return { asked, reports, deps: { edgeUrl: 'https://d111.cloudfront.net', tenant: tenantLookup(CONFIG.tenants), signingKey, fetch, now: () => NOW, reports } };
}

const variants = (keys: string[]) => ({ bucket: 'variants', region: 'us-east-1', role: 'variants' as const, versions: keys.map((key) => ({ key, versionId: 'null' })) });
const item = (tenant: string) => ({ tenant, imageId: 'a', reason: 'dmca' as const, requester: 'legal@example.com' });

/** An inventory as inventory-image leaves it: the manifest in the reports bucket, its location in the state. */
async function inventoryOf(reports: ReturnType<typeof memoryReports>['reports'], tenant: string, publishedVersion: number, locations: ReturnType<typeof variants>[]) {
  const tombstonedAt = NOW.toISOString();
  const manifest = await reports.put(`${tenant}/inventory.json`, { tombstonedAt, publishedVersion, publishedVersions: [], locations });
  return { tombstonedAt, publishedVersion, manifest, versions: locations.reduce((n, l) => n + l.versions.length, 0) };
}

describe('verifyGone', () => {
  it('asks for every URL a variant was served at, those found late by the erase and the sweep included', async () => {
    const { asked, deps, reports } = edge(() => 404);
    const inventory = await inventoryOf(reports, 'shop', 2, [variants(['shop/a/v2/w320_q75.webp'])]);
    const erase = { erasedAt: NOW.toISOString(), stragglers: 1, manifest: await reports.put('erase.json', { locations: [variants(['shop/a/latest/w640_q75.webp'])] }) };
    const sweep = { erasedAt: NOW.toISOString(), stragglers: 1, manifest: await reports.put('sweep.json', { locations: [variants(['shop/a/v2/w1280_q75.legacy'])] }) };
    const result = await verifyGone({ item: item('shop'), inventory, erase, sweep }, deps);
    const paths = asked.map((u) => u.replace(deps.edgeUrl, '')).sort();
    assert.deepEqual(paths, [
      '/img/shop/a',
      '/img/shop/a/v1',
      '/img/shop/a/v2',
      '/img/shop/a/v2?fmt=legacy&q=75&w=1280',
      '/img/shop/a/v2?fmt=webp&q=75&w=320',
      '/img/shop/a?fmt=legacy&q=75&w=1280',
      '/img/shop/a?fmt=webp&q=75&w=320',
      '/img/shop/a?fmt=webp&q=75&w=640',
    ]);
    assert.equal(result.urls, 8);
  });

  it("signs a private tenant's URLs for no longer than the tenant allows", async () => {
    const { asked, deps, reports } = edge(() => 404);
    await verifyGone({ item: item('vault'), inventory: await inventoryOf(reports, 'vault', 1, []) }, deps);
    assert.equal(asked.length, 2);
    for (const url of asked) {
      const exp = Number(new URL(url).searchParams.get('exp'));
      assert.ok(exp - NOW.getTime() / 1000 <= 120, `${url} lives at most the tenant's 120 s`);
    }
  });

  it('names the URLs still served', async () => {
    const { deps, reports } = edge((url) => (url.includes('/v1') ? 200 : 404));
    await assert.rejects(verifyGone({ item: item('shop'), inventory: await inventoryOf(reports, 'shop', 1, []) }, deps), {
      name: 'TakedownUnverified',
      message: /1 of 2 URLs still answer other than 404: \/img\/shop\/a\/v1 → 200/,
    });
  });
});
