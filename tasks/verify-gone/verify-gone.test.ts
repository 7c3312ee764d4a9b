import type { EdgeAnswer } from '../ports/viewer-edge.ts';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../core/tenant-config.ts';
import { PictorError } from '../../core/errors.ts';
import { fixedSigningKeys, memoryReports, recordingEdge } from '../shared/fakes.ts';
import { tenantLookup } from '../shared/tenants.ts';
import { verifyGone, type VerifyDeps } from './verify-gone.ts';

const NOW = new Date('2026-12-01T12:00:00Z');
const CONFIG = parseConfig({
  tenants: {
    shop: {},
    vault: { signing: { required: true, maxTtl: 120 } },
  },
});

/** The edge as a function of the path: every path it is asked for, answered with `status`. */
function edge(status: (path: string) => number | EdgeAnswer) {
  const viewerEdge = recordingEdge(status);
  const { reports } = memoryReports();
  const signingKey = fixedSigningKeys({ vault: { kid: 'k1', secret: 'vault-secret-0123456789abcdefghijklmnopqrstuv' } });
  return { asked: viewerEdge.asked, reports, deps: { edge: viewerEdge, tenant: tenantLookup(CONFIG.tenants), signingKey, now: () => NOW, reports } };
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
    const paths = [...asked].sort();
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
      const exp = Number(new URL(url, 'https://edge.example').searchParams.get('exp'));
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

  it('takes a server error for no answer, to be asked again, but a URL still served over it for a failed takedown', async () => {
    const { deps, reports } = edge((url) => (url.includes('/v1') ? 503 : 404));
    const inventory = await inventoryOf(reports, 'shop', 1, []);
    await assert.rejects(verifyGone({ item: item('shop'), inventory }, deps), { name: 'OriginUnavailable', message: /1 of 2 URLs with a server error: \/img\/shop\/a\/v1 → 503/ });
    const mixed = edge((url) => (url.includes('/v1') ? 503 : 200));
    await assert.rejects(verifyGone({ item: item('shop'), inventory: await inventoryOf(mixed.reports, 'shop', 1, []) }, mixed.deps), { name: 'TakedownUnverified', message: /1 of 2 URLs still answer other than 404: \/img\/shop\/a → 200/ });
  });

  it("takes S3's own 403 passed through the edge for no answer, but Pictor's own 403 for a URL not gone", async () => {
    const { deps, reports } = edge((url) => (url.includes('/v1') ? { status: 403, fromStorage: true } : 404));
    const inventory = await inventoryOf(reports, 'shop', 1, []);
    await assert.rejects(verifyGone({ item: item('shop'), inventory }, deps), { name: 'OriginUnavailable', message: /\/img\/shop\/a\/v1 → 403 \(S3\)/ });
    const refused = edge((url) => (url.includes('/v1') ? 403 : 404));
    await assert.rejects(verifyGone({ item: item('shop'), inventory: await inventoryOf(refused.reports, 'shop', 1, []) }, refused.deps), { name: 'TakedownUnverified', message: /\/img\/shop\/a\/v1 → 403/ });
  });

  it('fails with a typed error for each thing that can go wrong, and checks again the same way on a retry', async () => {
    const cases: { name: string; arrange: (deps: VerifyDeps) => VerifyDeps; tenant: string; error: string; message?: RegExp }[] = [
      {
        name: 'the edge does not answer',
        arrange: (deps) => ({ ...deps, edge: { status: async () => Promise.reject(new PictorError('OriginUnavailable', 'The edge at https://d111.cloudfront.net did not answer.')) } }),
        tenant: 'shop',
        error: 'OriginUnavailable',
        message: /The edge did not answer \/img\/shop\/a/,
      },
      { name: 'a private tenant has no signing key', arrange: (deps) => ({ ...deps, signingKey: fixedSigningKeys({}) }), tenant: 'vault', error: 'InvalidConfig' },
      { name: 'the tenant is not configured', arrange: (deps) => deps, tenant: 'gone', error: 'InvalidEvent' },
    ];
    for (const c of cases) {
      // Arrange
      const { deps, reports } = edge(() => 404);
      const inventory = await inventoryOf(reports, c.tenant, 1, []);
      // Act, Assert
      await assert.rejects(verifyGone({ item: item(c.tenant), inventory }, c.arrange(deps)), { name: c.error, ...(c.message ? { message: c.message } : {}) }, c.name);
    }
    // A retry asks for the same URLs again and comes to the same answer.
    const { asked, deps, reports } = edge(() => 404);
    const inventory = await inventoryOf(reports, 'shop', 1, []);
    const first = await verifyGone({ item: item('shop'), inventory }, deps);
    const again = await verifyGone({ item: item('shop'), inventory }, deps);
    assert.deepEqual(again, first);
    assert.deepEqual(asked.slice(0, 2).sort(), asked.slice(2).sort());
  });
});
