import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent as HttpAgent } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { CloudFrontClient, CreateInvalidationCommand } from '@aws-sdk/client-cloudfront';
import { isPictorError } from '../core/errors.ts';
import { formatImagePath } from '../core/image-path.ts';
import { parseConfig, standardVariants } from '../core/tenant-config.ts';
import { variantName } from '../core/variant.ts';
import { INVALIDATION_QUOTAS } from '../local/edge/invalidations.ts';
import { localS3Client } from '../local/s3-server.ts';
import { BUCKETS } from '../local/topology.ts';
import { LOCAL_DISTRIBUTION_ID, startTwin } from '../local/twin.ts';
import { checkInvalidation } from '../tasks/check-invalidation/check-invalidation.ts';
import { invalidateImage, invalidationPlan } from '../tasks/invalidate-image/invalidate-image.ts';
import { CloudFrontInvalidator } from '../tasks/shared/cloudfront-invalidator.ts';
import { S3ObjectStore } from '../tasks/shared/s3-object-store.ts';
import { Reports } from '../tasks/shared/reports.ts';
import { takedownKeys, type Invalidation, type Inventory, type TakedownItem } from '../tasks/shared/takedown-state.ts';
import { tenantLookup } from '../tasks/shared/tenants.ts';
import { DEFAULT_INVALIDATION_DEADLINE, INVALIDATION_POLL, TAKEDOWN_CONCURRENCY } from '../workflows/takedown-batch.ts';
import { goal, type BenchResult } from './support/report.ts';

export interface TakedownFanoutOptions {
  readonly images: number;
  /** How long the local CloudFront keeps each invalidation in progress. */
  readonly completionDelayMs: number;
  /**
   * The Wait between two GetInvalidation calls. Every other time constant of
   * TakedownBatch (its throttling retry) is scaled by pollMs ÷ its 15 s Wait.
   * @default completionDelayMs / 10
   */
  readonly pollMs?: number;
  /** The share of images re-published within their unversioned URLs' lifetime, which need wildcards. @default 0.05 */
  readonly republishedShare?: number;
}

/**
 * CloudFront's invalidations take minutes; at a 60th of that (2 s), the tasks' own
 * work (a manifest read, a CreateInvalidation) stays small beside the wait, as it is on AWS.
 */
export const TAKEDOWN_FANOUT_FULL: TakedownFanoutOptions = { images: 1_200, completionDelayMs: 2_000 };

/** Each task is a Lambda with clients of its own: the driver's shared clients must not queue them on the SDK's 50 sockets. */
const UNQUEUED = { requestHandler: { httpAgent: new HttpAgent({ keepAlive: true, maxSockets: 1_000 }) } };

/** TakedownBatch's retry of TooManyInvalidationsInProgress before (20 attempts) and now (workflows/takedown-batch.ts), in its own seconds. */
const THROTTLE_RETRY = { intervalSeconds: 5, backoffRate: 2, maxDelaySeconds: 60 };
/** And of transient errors (workflows/task-states.ts). */
const TRANSIENT_RETRY = { intervalSeconds: 1, backoffRate: 2, maxDelaySeconds: 30, maxAttempts: 6 };

/** The tenant every image belongs to: the default variant set (9 variants: 3 widths × 3 formats). */
const CONFIG = parseConfig({ tenants: { shop: {} } });

interface Design {
  readonly name: string;
  readonly concurrency: number;
  readonly maxThrottleAttempts: number;
  /** Creates the image's invalidation; returns it and the paths it named. */
  readonly invalidate: (item: TakedownItem, index: number) => Promise<{ invalidation: Invalidation; paths: string[] }>;
}

/**
 * Image takedowns' invalidations against the twin's CloudFront API (its quotas,
 * a configurable completion time), driven as TakedownBatch drives them, in two
 * designs side by side in one run, each on a fresh twin:
 * - wildcard only (the design before): 15 images at a time, one `/img/t/id*` each;
 * - as TakedownBatch now: the real invalidate-image task code reading each image's
 *   inventory from the reports bucket, exact URLs for most images and two
 *   collision-free wildcards for those re-published lately, 150 at a time;
 * each then waiting and polling with check-invalidation until Completed.
 */
export async function runTakedownFanout(options: TakedownFanoutOptions): Promise<BenchResult> {
  const pollMs = options.pollMs ?? options.completionDelayMs / 10;
  const scale = pollMs / INVALIDATION_POLL.toSeconds();
  const republishedShare = options.republishedShare ?? 0.05;
  const items: TakedownItem[] = Array.from({ length: options.images }, (_, i) => ({ tenant: 'shop', imageId: `img-${String(i).padStart(6, '0')}`, reason: 'dmca', requester: 'bench@example.com' }));
  const specs = standardVariants(CONFIG.tenants.shop!);
  const tombstonedAt = new Date().toISOString();

  const wildcardOnly: Design = {
    name: 'wildcard only, 15 at a time (before)',
    concurrency: INVALIDATION_QUOTAS.wildcardPaths,
    maxThrottleAttempts: 20,
    async invalidate(item) {
      throw new Error(`unbound ${item.imageId}`);
    },
  };
  const results = [];
  // Today's design first: the other's 15-at-a-time run leaves nothing behind to slow it.
  for (const design of ['exact', 'wildcard'] as const) {
    const dataDir = await mkdtemp(join(tmpdir(), 'pictor-bench-takedown-'));
    const twin = await startTwin({ config: CONFIG, dataDir, logLevel: 'SILENT', pipeline: false, invalidationDelayMs: options.completionDelayMs });
    const cloudfront = new CloudFrontClient({ region: 'us-east-1', endpoint: twin.controlUrl, ...UNQUEUED });
    const s3 = localS3Client(twin.s3.endpoint, 'us-east-1', UNQUEUED);
    const reports = new Reports(new S3ObjectStore(s3, BUCKETS.reports.bucket));
    const deps = { invalidator: new CloudFrontInvalidator(cloudfront, LOCAL_DISTRIBUTION_ID), reports, tenant: tenantLookup(CONFIG.tenants) };
    // What inventory-image leaves for each image: its published version's variants in both origins.
    const inventories: Inventory[] = [];
    const planned: string[][] = [];
    if (design === 'exact') {
      for (const [i, item] of items.entries()) {
        const republished = i % Math.round(1 / republishedShare) === 0;
        const keys = specs.map((s) => `${item.tenant}/${item.imageId}/v1/${variantName(s)}`);
        const locations = [BUCKETS.variants, BUCKETS.failoverVariants].map((b) => ({ bucket: b.bucket, region: b.region, role: 'variants' as const, versions: keys.map((key) => ({ key, versionId: 'null' })) }));
        const manifest = await reports.put(takedownKeys.image('bench', item, 'inventory'), {
          tombstonedAt,
          publishedVersion: 1,
          publishedVersions: republished ? [1, 2] : [1],
          lastPublishedAt: tombstonedAt,
          locations,
        });
        inventories.push({ tombstonedAt, publishedVersion: 1, manifest, versions: keys.length * 2 });
        // What the image's invalidation will name, planned before the clock starts.
        planned.push((await invalidationPlan({ item, inventory: inventories[i]! }, deps)).paths);
      }
    }
    const chosen: Design =
      design === 'wildcard'
        ? {
            ...wildcardOnly,
            async invalidate(item) {
              const path = formatImagePath(item) + '*';
              const result = await cloudfront.send(
                new CreateInvalidationCommand({ DistributionId: LOCAL_DISTRIBUTION_ID, InvalidationBatch: { CallerReference: `bench-${item.imageId}`, Paths: { Quantity: 1, Items: [path] } } }),
              ).catch((error: Error) => {
                throw error.name === 'TooManyInvalidationsInProgress' ? Object.assign(new Error(error.message), { name: 'TooManyInvalidationsInProgress', code: 'TooManyInvalidationsInProgress' }) : error;
              });
              return { invalidation: { id: result.Invalidation!.Id!, status: result.Invalidation!.Status!, path, paths: 1, wildcard: true }, paths: [path] };
            },
          }
        : {
            name: `as TakedownBatch now: exact URLs (${republishedShare * 100}% re-published: wildcards), ${TAKEDOWN_CONCURRENCY} at a time`,
            concurrency: TAKEDOWN_CONCURRENCY,
            maxThrottleAttempts: 90,
            async invalidate(item, i) {
              const invalidation = await invalidateImage({ batchId: 'bench', item, inventory: inventories[i]! }, deps);
              return { invalidation, paths: planned[i]! };
            },
          };
    const run = await drive(chosen, items, { pollMs, scale, cloudfront });
    const invalidated = new Set(twin.invalidations.list().filter((i) => i.status === 'Completed').flatMap((i) => i.paths));
    const lost = run.named.filter((paths) => !paths.every((p) => invalidated.has(p))).length;
    results.push({ design: chosen, ...run, lost, stats: { ...twin.invalidations.stats } });
    cloudfront.destroy();
    s3.destroy();
    await twin.close();
    await rm(dataDir, { recursive: true, force: true });
  }

  // The wildcard-only design's floor: 15 images' wildcards in progress at a time, each for the completion time.
  const minimumMs = Math.ceil(options.images / INVALIDATION_QUOTAS.wildcardPaths) * options.completionDelayMs;
  const [now, before] = results as [(typeof results)[number], (typeof results)[number]];
  const speedup = minimumMs / now.elapsedMs;
  return {
    name: 'takedown-fanout',
    parameters: { ...options, pollMs, republishedShare, retryScale: scale, quotas: INVALIDATION_QUOTAS, variantsPerImage: specs.length },
    tables: [
      {
        title: `${options.images.toLocaleString('en-US')} takedowns, ${options.completionDelayMs} ms completion, polled every ${pollMs} ms; minimum for wildcards only ⌈n ÷ 15⌉ × completion = ${(minimumMs / 1000).toFixed(1)} s`,
        columns: ['design', 'images lost', 'given up', 'invalidations', 'paths', 'peak wildcard paths', 'peak file paths', 'throttled', 'total s', 'wildcard minimum ÷ total'],
        rows: results.map((r) => [
          r.design.name,
          r.lost,
          r.given.length,
          r.stats.created,
          r.named.reduce((n, p) => n + p.length, 0),
          `${r.stats.peakWildcardPaths} (quota ${INVALIDATION_QUOTAS.wildcardPaths})`,
          `${r.stats.peakFilePaths} (quota ${INVALIDATION_QUOTAS.filePaths})`,
          r.stats.throttled,
          (r.elapsedMs / 1000).toFixed(1),
          `${(minimumMs / r.elapsedMs).toFixed(2)}x`,
        ]),
      },
    ],
    goals: [
      goal('0 images lost or given up', `${before.lost + now.lost} lost, ${before.given.length + now.given.length} given up`, before.lost + now.lost + before.given.length + now.given.length === 0),
      goal(
        'peak in progress within the quotas',
        `${Math.max(before.stats.peakWildcardPaths, now.stats.peakWildcardPaths)} of ${INVALIDATION_QUOTAS.wildcardPaths} wildcard, ${Math.max(before.stats.peakFilePaths, now.stats.peakFilePaths)} of ${INVALIDATION_QUOTAS.filePaths} file paths`,
        Math.max(before.stats.peakWildcardPaths, now.stats.peakWildcardPaths) <= INVALIDATION_QUOTAS.wildcardPaths && Math.max(before.stats.peakFilePaths, now.stats.peakFilePaths) <= INVALIDATION_QUOTAS.filePaths,
      ),
      goal('10x less than ⌈n ÷ 15⌉ × completion', `${speedup.toFixed(2)}x (${(now.elapsedMs / 1000).toFixed(1)} s against ${(minimumMs / 1000).toFixed(1)} s)`, speedup >= 10),
    ],
    figures: {
      minimumMs,
      designs: results.map((r) => ({ name: r.design.name, lost: r.lost, givenUp: r.given, stats: r.stats, calls: r.calls, retries: r.retries, elapsedMs: r.elapsedMs, meanCreateMs: r.meanCreateMs, meanWaitMs: r.meanWaitMs })),
    },
  };
}

/** Runs every image's invalidation and its polling, `design.concurrency` at a time, with the state machine's retry policies. */
async function drive(design: Design, items: readonly TakedownItem[], context: { pollMs: number; scale: number; cloudfront: CloudFrontClient }) {
  const checkDeps = { invalidator: new CloudFrontInvalidator(context.cloudfront, LOCAL_DISTRIBUTION_ID), deadlineSeconds: Math.ceil(DEFAULT_INVALIDATION_DEADLINE.toSeconds() * context.scale), now: () => new Date() };
  const named: string[][] = [];
  const given: string[] = [];
  let calls = 0;
  let retries = 0;
  const withRetry = async <T>(call: () => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      calls++;
      try {
        return await call();
      } catch (error) {
        const throttled = (isPictorError(error) && error.code === 'TooManyInvalidationsInProgress') || (error as Error).name === 'TooManyInvalidationsInProgress';
        const policy = throttled ? { ...THROTTLE_RETRY, maxAttempts: design.maxThrottleAttempts } : TRANSIENT_RETRY;
        if (attempt >= policy.maxAttempts) throw error;
        retries++;
        // FULL jitter: a uniform pause up to the backoff. https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
        const ceiling = Math.min(policy.intervalSeconds * policy.backoffRate ** (attempt - 1), policy.maxDelaySeconds) * 1000 * context.scale;
        await sleep(Math.random() * ceiling);
      }
    }
  };
  const timing = { create: 0, wait: 0 };
  let next = 0;
  const started = process.hrtime.bigint();
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) {
      const item = items[i]!;
      try {
        const t0 = Date.now();
        const made = await withRetry(() => design.invalidate(item, i));
        timing.create += Date.now() - t0;
        const t1 = Date.now();
        named.push(made.paths);
        let invalidation = made.invalidation;
        while (invalidation.status !== 'Completed') {
          await sleep(context.pollMs);
          invalidation = await withRetry(() => checkInvalidation({ invalidation }, checkDeps));
        }
        timing.wait += Date.now() - t1;
      } catch {
        given.push(`${item.tenant}/${item.imageId}`);
      }
    }
  };
  await Promise.all(Array.from({ length: design.concurrency }, worker));
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
  return { named, given, calls, retries, elapsedMs, meanCreateMs: timing.create / items.length, meanWaitMs: timing.wait / items.length };
}
