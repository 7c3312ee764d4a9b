import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig, standardVariants } from '../../core/tenant-config.ts';
import { MemoryS3, MemoryVersionMap } from '../shared/fakes.ts';
import { rerenderKeys, type RerenderJob } from '../shared/rerender-state.ts';
import { tenantLookup } from '../shared/tenants.ts';
import { variantSchema } from '../shared/variant-schema.ts';
import { prepareRerender, type PrepareDeps } from './prepare-rerender.ts';

const CONFIG = parseConfig({ tenants: { cat: { breakpoints: [320, 640], formats: ['webp'] } } });
const SCHEMA = variantSchema(standardVariants(CONFIG.tenants.cat!));
const job = (over: Partial<RerenderJob> = {}): RerenderJob => ({ jobId: 'j1', tenants: ['cat'], onlyStale: false, toleratedFailurePercentage: 5, pageSize: 10, pagesPerExecution: 2, resultsPrefix: rerenderKeys.results('j1'), ...over });
const image = { tenant: 'cat', imageId: 'a' };

/** An original published once (version 1, at the tenant's schema, from its current bytes) unless told otherwise. */
async function arrange(state: { uploaded?: boolean; published?: boolean; schema?: string; takenDown?: boolean } = {}) {
  const originals = new MemoryS3().bucket('originals');
  const versions = new MemoryVersionMap();
  const etag = state.uploaded === false ? '"gone"' : originals.seed('cat/a', 'bytes').etag;
  if (state.published !== false) {
    await versions.reserve('cat', 'a', '0009', 'cat/a/0009');
    await versions.publish('cat', 'a', 1, '0009', etag.replace(/"/g, ''), state.schema ?? SCHEMA);
  }
  if (state.takenDown) await versions.tombstone('cat', 'a', 'dmca');
  const deps: PrepareDeps = { originals, versions, tenant: tenantLookup(CONFIG.tenants) };
  return { deps, originals, versions, etag: etag.replace(/"/g, '') };
}

describe('prepareRerender', () => {
  it('renders a listed original again as the upload the version map last reserved for, or skips it, saying why', async () => {
    const cases = [
      { name: 'published: render', state: {}, job: job(), expect: 'render' },
      { name: 'never published (no event reserved for it): render', state: { published: false }, job: job(), expect: 'render' },
      { name: 'only stale ones wanted, at another schema: render', state: { schema: 'w320_q75.webp' }, job: job({ onlyStale: true }), expect: 'render' },
      { name: 'only stale ones wanted, already at this schema: skip', state: {}, job: job({ onlyStale: true }), expect: 'already rendered at this schema' },
      { name: 'taken down: skip', state: { takenDown: true }, job: job(), expect: 'taken down' },
      { name: 'deleted since the listing: skip', state: { uploaded: false, published: false }, job: job(), expect: 'deleted since the listing' },
    ];
    for (const c of cases) {
      // Arrange
      const a = await arrange(c.state);
      // Act
      const prepared = await prepareRerender({ job: c.job, image }, a.deps);
      // Assert
      if (c.expect === 'render') {
        assert.deepEqual(
          prepared,
          { action: 'render', tenant: 'cat', imageId: 'a', sequencer: c.state.published === false ? '0' : (await a.versions.get('cat', 'a'))!.reservedSequencer, etag: a.etag, idempotencyKey: 'rerender/j1/cat/a', rerender: true },
          c.name,
        );
      } else {
        assert.deepEqual(prepared, { action: 'skip', tenant: 'cat', imageId: 'a', reason: c.expect }, c.name);
      }
    }
  });

  it("carries the job's variant schema to the render, and reads nothing but answers the same when run again", async () => {
    const a = await arrange();
    const variants = { widths: [320] };
    const input = { job: job({ variants }), image };
    const first = await prepareRerender(input, a.deps);
    assert.deepEqual(first.action === 'render' && first.variants, variants);
    assert.deepEqual(await prepareRerender(input, a.deps), first);
    assert.deepEqual(a.originals.writes, []);
  });

  it('fails as InvalidEvent for a tenant no longer configured and as OriginUnavailable when a store fails', async () => {
    const a = await arrange();
    await assert.rejects(prepareRerender({ job: job(), image }, { ...a.deps, tenant: tenantLookup({}) }), { name: 'InvalidEvent' });
    a.versions.failing.add('get');
    await assert.rejects(prepareRerender({ job: job(), image }, a.deps), { name: 'OriginUnavailable' });
    const b = await arrange();
    b.originals.failing.add('head');
    await assert.rejects(prepareRerender({ job: job(), image }, b.deps), { name: 'OriginUnavailable' });
  });
});
