import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryS3 } from '../shared/fakes.ts';
import { rerenderKeys, type RerenderJob } from '../shared/rerender-state.ts';
import { listOriginals } from './list-originals.ts';

const job = (tenants: string[], pageSize = 2): RerenderJob => ({
  jobId: 'j1',
  tenants,
  onlyStale: false,
  toleratedFailurePercentage: 5,
  pageSize,
  pagesPerExecution: 200,
  resultsPrefix: rerenderKeys.results('j1'),
});

function originals() {
  const store = new MemoryS3().bucket('originals');
  for (const key of ['cat/a', 'cat/b', 'cat/c', 'dog/x', '_versions/cat/a/1', '_quarantine/cat/z/1', '_published/cat/a', 'cat/a/odd']) store.seed(key, 'bytes');
  return store;
}

describe('listOriginals', () => {
  it("lists each tenant's uploads a page at a time, then the next tenant's, and ends after the last", async () => {
    // Arrange
    const store = originals();
    const pages: unknown[] = [];
    let cursor: { tenantIndex: number; token?: string } | undefined = { tenantIndex: 0 };
    // Act
    while (cursor) {
      const page = await listOriginals({ job: job(['cat', 'dog']), cursor }, { originals: store });
      pages.push(page.items.map((i) => `${i.tenant}/${i.imageId}`));
      cursor = page.cursor;
    }
    // Assert: system keys (snapshots, quarantine, pointers) and deeper keys are never listed.
    assert.deepEqual(pages, [['cat/a', 'cat/b'], ['cat/c'], ['dog/x']]);
  });

  it('lists the same page again for the same cursor', async () => {
    const store = originals();
    const input = { job: job(['cat']), cursor: { tenantIndex: 0 } };
    assert.deepEqual(await listOriginals(input, { originals: store }), await listOriginals(input, { originals: store }));
  });

  it('refuses a page whose state would pass 256 KiB as StateTooLarge, and passes an S3 failure on as OriginUnavailable', async () => {
    const store = new MemoryS3().bucket('originals');
    for (let i = 0; i < 1000; i++) store.seed(`cat/${String(i).padStart(4, '0')}${'x'.repeat(124)}`, 'bytes');
    const padded = { job: job(['cat'], 1000), cursor: { tenantIndex: 0 }, padding: 'p'.repeat(150_000) };
    await assert.rejects(listOriginals(padded, { originals: store }), { name: 'StateTooLarge', message: /lower the page size/ });
    store.failing.add('listPage');
    await assert.rejects(listOriginals({ job: job(['cat']), cursor: { tenantIndex: 0 } }, { originals: store }), { name: 'OriginUnavailable' });
  });
});
