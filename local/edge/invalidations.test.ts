import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import {
  CloudFrontClient,
  CreateInvalidationCommand,
  GetInvalidationCommand,
  ListInvalidationsCommand,
  paginateListInvalidations,
  type CreateInvalidationCommandOutput,
} from '@aws-sdk/client-cloudfront';
import { controlPlane } from '../aws-api.ts';
import { EdgeCache, type CachedResponse } from './edge-cache.ts';
import { DEFAULT_TTLS, freshnessOf } from './freshness.ts';
import { INVALIDATION_QUOTAS, InvalidationService, MAX_PATH_LENGTH, pathProblem, type CompletionDelay, type CompletionTimer } from './invalidations.ts';
import { manualTimer } from '../../test/support/manual-timer.ts';

const DISTRIBUTION = 'ETESTDIST';

interface Harness {
  readonly service: InvalidationService;
  readonly cache: EdgeCache;
  readonly cloudfront: CloudFrontClient;
  create(reference: string, paths: readonly string[], quantity?: number): Promise<CreateInvalidationCommandOutput>;
  /** Polls GetInvalidation until the batch is Completed. */
  completed(id: string): Promise<void>;
  close(): Promise<void>;
}

/** The service behind the twin's control plane, purging a real edge cache, driven by the real SDK client. */
async function start(delay: CompletionDelay, keys: readonly string[] = [], timer?: CompletionTimer): Promise<Harness> {
  const cache = new EdgeCache(1e6);
  for (const key of keys) cache.set(key, cached());
  const service = new InvalidationService(DISTRIBUTION, (path) => cache.invalidate(path), delay, timer);
  const serve = controlPlane({ invalidations: service });
  const server: Server = createServer((request, response) => void serve(request, response));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const cloudfront = new CloudFrontClient({
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  return {
    service,
    cache,
    cloudfront,
    create: (reference, paths, quantity = paths.length) =>
      cloudfront.send(new CreateInvalidationCommand({ DistributionId: DISTRIBUTION, InvalidationBatch: { CallerReference: reference, Paths: { Quantity: quantity, Items: [...paths] } } })),
    async completed(id) {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const { Invalidation } = await cloudfront.send(new GetInvalidationCommand({ DistributionId: DISTRIBUTION, Id: id }));
        if (Invalidation?.Status === 'Completed') return;
        assert.ok(Date.now() < deadline, `invalidation ${id} still ${Invalidation?.Status}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    async close() {
      service.close();
      cloudfront.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Rejects with the SDK's exception of that name, from a response with that HTTP status when given. */
async function rejectsWith(call: Promise<unknown>, name: string, status?: number, message?: string): Promise<void> {
  await assert.rejects(call, (error: Error & { $metadata?: { httpStatusCode?: number } }) => {
    assert.equal(error.name, name, message);
    if (status !== undefined) assert.equal(error.$metadata?.httpStatusCode, status, message);
    return true;
  });
}

function cached(): CachedResponse {
  return { status: 200, headers: {}, body: Buffer.alloc(1), freshness: freshnessOf(200, 'max-age=86400', DEFAULT_TTLS), storedAt: 0 };
}

function present(cache: EdgeCache, keys: readonly string[]): string[] {
  return keys.filter((key) => cache.get(key) !== undefined);
}

const KEYS = [
  '/img/t/photo',
  '/img/t/photo?w=640&f=webp',
  '/img/t/photo?w=320&f=webp',
  '/img/t/photo/v2?w=640&f=webp',
  '/img/t/photo2?w=640&f=webp',
  '/img/t/other?w=640&f=webp',
];

describe('InvalidationService', () => {
  it('purges the edge cache when a batch completes, not when it is created', async () => {
    const cf = await start(400, KEYS);
    try {
      const created = await cf.create('purge-at-completion', ['/img/t/photo*']);
      assert.equal(created.$metadata.httpStatusCode, 201);
      assert.equal(created.Invalidation?.Status, 'InProgress');
      assert.deepEqual(present(cf.cache, KEYS), KEYS, 'everything is still served while the batch is in progress');
      assert.equal(cf.service.stats.inProgress, 1);

      await cf.completed(created.Invalidation!.Id!);
      assert.deepEqual(present(cf.cache, KEYS), ['/img/t/other?w=640&f=webp']);
      assert.deepEqual(
        { inProgress: cf.service.stats.inProgress, completed: cf.service.stats.completed, purged: cf.service.stats.purged, wildcards: cf.service.stats.inProgressWildcardPaths },
        { inProgress: 0, completed: 1, purged: 5, wildcards: 0 },
      );
    } finally {
      await cf.close();
    }
  });

  it('never purges a batch whose delay is Infinity', async () => {
    const cache = new EdgeCache(1e6);
    for (const key of KEYS) cache.set(key, cached());
    const service = new InvalidationService(DISTRIBUTION, (path) => cache.invalidate(path), (paths) => (paths.includes('/stuck*') ? Infinity : 0));
    try {
      const stuck = service.create('stuck', ['/stuck*', '/img/*']).invalidation;
      const quick = service.create('quick', ['/nothing-cached']).invalidation;
      // Until the quick batch completes: the stuck one, created first, has had at least as long.
      while (quick.status !== 'Completed') await new Promise((resolve) => setTimeout(resolve, 1));
      assert.deepEqual([stuck.status, quick.status], ['InProgress', 'Completed']);
      assert.deepEqual(present(cache, KEYS), KEYS);
      assert.equal(service.stats.inProgressWildcardPaths, 2);
    } finally {
      service.close();
    }
  });

  it('purges, through the API, an exact path with its query string alone, and a wildcard across ? into neighbours', async () => {
    const cf = await start(200, KEYS);
    try {
      const exact = await cf.create('exact', ['/img/t/photo?w=640&f=webp']);
      assert.deepEqual(exact.Invalidation?.InvalidationBatch?.Paths?.Items, ['/img/t/photo?w=640&f=webp'], 'the path comes back as sent, & and all');
      await cf.completed(exact.Invalidation!.Id!);
      assert.deepEqual(
        KEYS.filter((k) => !present(cf.cache, KEYS).includes(k)),
        ['/img/t/photo?w=640&f=webp'],
      );

      const query = await cf.create('query-variants', ['/img/t/photo?*']);
      await cf.completed(query.Invalidation!.Id!);
      assert.deepEqual(present(cf.cache, KEYS), ['/img/t/photo', '/img/t/photo/v2?w=640&f=webp', '/img/t/photo2?w=640&f=webp', '/img/t/other?w=640&f=webp']);

      const wildcard = await cf.create('wildcard', ['/img/t/photo*']);
      await cf.completed(wildcard.Invalidation!.Id!);
      assert.deepEqual(present(cf.cache, KEYS), ['/img/t/other?w=640&f=webp'], '/img/t/photo* reaches /img/t/photo2?...');
    } finally {
      await cf.close();
    }
  });

  it('refuses the 16th wildcard path and the 3,001st file path while the others are in progress, and admits them once those complete', async () => {
    // Completions wait for the test: a busy machine cannot complete a batch before the quota is checked.
    const completions = manualTimer();
    const cf = await start(1500, [], completions.timer);
    try {
      const ids: string[] = [];
      for (let i = 0; i < INVALIDATION_QUOTAS.wildcardPaths; i++) ids.push((await cf.create(`wild-${i}`, [`/img/t/w${i}*`])).Invalidation!.Id!);
      await rejectsWith(cf.create('wild-15', ['/img/t/w15*']), 'TooManyInvalidationsInProgress', 400);

      const files = Array.from({ length: INVALIDATION_QUOTAS.filePaths - 1 }, (_, i) => `/img/t/f${i}?w=640&f=webp`);
      ids.push((await cf.create('files-a', files)).Invalidation!.Id!);
      ids.push((await cf.create('files-b', ['/img/t/the-3000th'])).Invalidation!.Id!);
      await rejectsWith(cf.create('files-c', ['/img/t/the-3001st']), 'TooManyInvalidationsInProgress', 400);
      // A `*` anywhere makes a wildcard path, counted against the 15.
      await rejectsWith(cf.create('mid-star', ['/img/t/a*b']), 'TooManyInvalidationsInProgress');
      assert.deepEqual(
        [cf.service.stats.inProgressWildcardPaths, cf.service.stats.inProgressFilePaths, cf.service.stats.throttled],
        [INVALIDATION_QUOTAS.wildcardPaths, INVALIDATION_QUOTAS.filePaths, 3],
      );

      assert.equal(completions.pending, ids.length);
      completions.fire();
      for (const id of ids) await cf.completed(id);
      await cf.create('wild-15', ['/img/t/w15*']);
      await cf.create('files-c', ['/img/t/the-3001st']);
      assert.equal(cf.service.stats.peakWildcardPaths, INVALIDATION_QUOTAS.wildcardPaths);
      assert.equal(cf.service.stats.peakFilePaths, INVALIDATION_QUOTAS.filePaths);
    } finally {
      await cf.close();
    }
  });

  it('refuses a batch no quota could ever hold as BatchTooLarge (413)', async () => {
    const cf = await start(Infinity);
    try {
      const files = Array.from({ length: INVALIDATION_QUOTAS.filePaths + 1 }, (_, i) => `/f${i}`);
      await rejectsWith(cf.create('too-many-files', files), 'BatchTooLarge', 413);
      const wildcards = Array.from({ length: INVALIDATION_QUOTAS.wildcardPaths + 1 }, (_, i) => `/w${i}*`);
      await rejectsWith(cf.create('too-many-wildcards', wildcards), 'BatchTooLarge');
      assert.deepEqual([cf.service.stats.created, cf.service.stats.throttled], [0, 0]);
    } finally {
      await cf.close();
    }
  });

  it('answers a repeated CallerReference with the same invalidation, and fails one with other paths', async () => {
    const cf = await start(Infinity);
    try {
      const first = await cf.create('ref-1', ['/a', '/b*']);
      const again = await cf.create('ref-1', ['/b*', '/a']);
      assert.equal(again.Invalidation?.Id, first.Invalidation?.Id);
      await rejectsWith(cf.create('ref-1', ['/a', '/c*']), 'InvalidationBatchAlreadyExists', 409);
      assert.deepEqual([cf.service.stats.created, cf.service.stats.inProgressFilePaths, cf.service.stats.inProgressWildcardPaths], [1, 1, 1]);

      // A retry is answered even when the quota is full.
      for (let i = 1; i < INVALIDATION_QUOTAS.wildcardPaths; i++) await cf.create(`fill-${i}`, [`/w${i}*`]);
      assert.equal((await cf.create('ref-1', ['/a', '/b*'])).Invalidation?.Id, first.Invalidation?.Id);
    } finally {
      await cf.close();
    }
  });

  it('answers the errors CloudFront documents', async () => {
    const cf = await start(Infinity);
    try {
      await rejectsWith(cf.cloudfront.send(new GetInvalidationCommand({ DistributionId: DISTRIBUTION, Id: 'INOSUCHID' })), 'NoSuchInvalidation', 404);
      await rejectsWith(
        cf.cloudfront.send(new CreateInvalidationCommand({ DistributionId: 'EOTHER', InvalidationBatch: { CallerReference: 'x', Paths: { Quantity: 1, Items: ['/a'] } } })),
        'NoSuchDistribution',
        404,
      );
      await rejectsWith(cf.create('quantities', ['/a'], 2), 'InconsistentQuantities');
      await rejectsWith(cf.create('', ['/a']), 'InvalidArgument');
      await rejectsWith(cf.create('empty', []), 'InvalidArgument');
      for (const path of ['img/t/photo', '/img/t/~photo', '/img/t/%7Ephoto', '/img/t/my photo', '/img/t/café', '/img/t/100%', '/img/t/a#b', '/' + 'a'.repeat(MAX_PATH_LENGTH)]) {
        await rejectsWith(cf.create(`bad ${path}`, [path]), 'InvalidArgument', 400, path);
      }
      assert.equal(cf.service.stats.created, 0);
    } finally {
      await cf.close();
    }
  });

  it('refuses a negative completion delay', () => {
    assert.throws(() => new InvalidationService(DISTRIBUTION, () => 0, -1), { name: 'TypeError', message: /0 ms or more, or Infinity/ });
  });

  it('lists invalidations newest first, a page at a time', async () => {
    const cf = await start(Infinity);
    try {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await cf.create(`list-${i}`, [`/p${i}`])).Invalidation!.Id!);
      const first = await cf.cloudfront.send(new ListInvalidationsCommand({ DistributionId: DISTRIBUTION, MaxItems: 2 }));
      assert.deepEqual(
        { truncated: first.InvalidationList?.IsTruncated, quantity: first.InvalidationList?.Quantity, next: first.InvalidationList?.NextMarker, statuses: first.InvalidationList?.Items?.map((i) => i.Status) },
        { truncated: true, quantity: 2, next: ids[3], statuses: ['InProgress', 'InProgress'] },
      );
      const listed: string[] = [];
      for await (const page of paginateListInvalidations({ client: cf.cloudfront, pageSize: 2 }, { DistributionId: DISTRIBUTION })) {
        listed.push(...(page.InvalidationList?.Items ?? []).map((i) => i.Id!));
      }
      assert.deepEqual(listed, [...ids].reverse());
      await rejectsWith(cf.cloudfront.send(new ListInvalidationsCommand({ DistributionId: DISTRIBUTION, Marker: 'INOSUCHID' })), 'InvalidArgument');
    } finally {
      await cf.close();
    }
  });
});

describe('pathProblem', () => {
  it('takes the paths CloudFront documents and names what is wrong with the others', () => {
    const cases: [path: string, problem: RegExp | undefined][] = [
      ['/images/image1.jpg', undefined],
      ['/images/image*', undefined],
      ['/*', undefined],
      ['/img/t/photo?w=640&f=webp', undefined],
      ['/img/t/photo?*', undefined],
      ['/img/t/caf%C3%A9', undefined],
      ['/img/t/a*b', undefined],
      ['/' + 'a'.repeat(MAX_PATH_LENGTH - 1), undefined],
      ['images/image1.jpg', /start with \//],
      ['/' + 'a'.repeat(MAX_PATH_LENGTH), /4000/],
      ['/a~b', /~/],
      ['/a%7eb', /~/],
      ['/a b', /" " must be percent-encoded/],
      ['/café', /"é" must be percent-encoded/],
      ['/a\tb', /percent-encoded/],
      ['/a{b}', /percent-encoded/],
      ['/a%zz', /percent-encoded octet/],
    ];
    for (const [path, problem] of cases) {
      const found = pathProblem(path);
      if (problem) assert.match(found ?? '', problem, path);
      else assert.equal(found, undefined, path);
    }
  });
});
