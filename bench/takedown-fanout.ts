import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { isPictorError } from '../core/errors.ts';
import { invalidationPath } from '../core/takedown.ts';
import { parseConfig } from '../core/tenant-config.ts';
import { INVALIDATION_QUOTAS } from '../local/edge/invalidations.ts';
import { LOCAL_DISTRIBUTION_ID, startTwin } from '../local/twin.ts';
import { checkInvalidation, invalidateImage } from '../tasks/invalidate-image/invalidate-image.ts';
import type { Invalidation, TakedownItem } from '../tasks/shared/takedown-state.ts';
import { DEFAULT_INVALIDATION_DEADLINE, INVALIDATION_POLL, WILDCARD_INVALIDATIONS_IN_PROGRESS } from '../workflows/takedown-batch.ts';
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
}

export const TAKEDOWN_FANOUT_FULL: TakedownFanoutOptions = { images: 10_000, completionDelayMs: 200 };

/** TakedownBatch's retry of TooManyInvalidationsInProgress (workflows/takedown-batch.ts), in its own seconds. */
const THROTTLE_RETRY = { intervalSeconds: 5, backoffRate: 2, maxDelaySeconds: 60, maxAttempts: 20 };
/** And of transient errors (workflows/task-states.ts). */
const TRANSIENT_RETRY = { intervalSeconds: 1, backoffRate: 2, maxDelaySeconds: 30, maxAttempts: 6 };

/**
 * 10,000 image takedowns' invalidations against the twin's CloudFront API (its
 * quotas, a configurable completion delay), driven as TakedownBatch drives them:
 * the real invalidate-image and check-invalidation task code through
 * @aws-sdk/client-cloudfront, 15 images at a time (the Map's MaxConcurrency),
 * each invalidating its one wildcard, then waiting and polling until Completed.
 */
export async function runTakedownFanout(options: TakedownFanoutOptions): Promise<BenchResult> {
  const pollMs = options.pollMs ?? options.completionDelayMs / 10;
  const scale = pollMs / INVALIDATION_POLL.toSeconds();
  const dataDir = await mkdtemp(join(tmpdir(), 'pictor-bench-takedown-'));
  const twin = await startTwin({ config: parseConfig({ tenants: { shop: {} } }), dataDir, logLevel: 'SILENT', pipeline: false, invalidationDelayMs: options.completionDelayMs });
  const cloudfront = new CloudFrontClient({ region: 'us-east-1', endpoint: twin.controlUrl });
  // The deadline is TakedownBatch's default, in the run's scaled time.
  const deps = { cloudfront, distributionId: LOCAL_DISTRIBUTION_ID, deadlineSeconds: Math.ceil(DEFAULT_INVALIDATION_DEADLINE.toSeconds() * scale), now: () => new Date() };
  const items: TakedownItem[] = Array.from({ length: options.images }, (_, i) => ({ tenant: 'shop', imageId: `img-${String(i).padStart(6, '0')}`, reason: 'dmca', requester: 'bench@example.com' }));
  const given: string[] = [];
  let calls = 0;
  let retries = 0;
  let elapsedMs = 0;
  try {
    let next = 0;
    const started = process.hrtime.bigint();
    const worker = async () => {
      for (let i = next++; i < items.length; i = next++) {
        const item = items[i]!;
        try {
          let invalidation: Invalidation = await withRetry(() => invalidateImage({ batchId: 'bench-fanout', item }, deps));
          while (invalidation.status !== 'Completed') {
            await sleep(pollMs);
            invalidation = await withRetry(() => checkInvalidation({ invalidation }, deps));
          }
        } catch {
          given.push(`${item.tenant}/${item.imageId}`);
        }
      }
    };
    const withRetry = async <T>(call: () => Promise<T>): Promise<T> => {
      for (let attempt = 1; ; attempt++) {
        calls++;
        try {
          return await call();
        } catch (error) {
          const policy = isPictorError(error) && error.code === 'TooManyInvalidationsInProgress' ? THROTTLE_RETRY : TRANSIENT_RETRY;
          if (attempt >= policy.maxAttempts) throw error;
          retries++;
          // FULL jitter: a uniform pause up to the backoff. https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
          const ceiling = Math.min(policy.intervalSeconds * policy.backoffRate ** (attempt - 1), policy.maxDelaySeconds) * 1000 * scale;
          await sleep(Math.random() * ceiling);
        }
      }
    };
    await Promise.all(Array.from({ length: WILDCARD_INVALIDATIONS_IN_PROGRESS }, worker));
    elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
  } finally {
    cloudfront.destroy();
  }
  const invalidations = twin.invalidations.list();
  const stats = { ...twin.invalidations.stats };
  await twin.close();
  await rm(dataDir, { recursive: true, force: true });

  const invalidated = new Set(invalidations.filter((i) => i.status === 'Completed').flatMap((i) => i.paths));
  const lost = items.filter((item) => !invalidated.has(invalidationPath(item))).length;
  // The quotas allow 15 wildcard paths in progress, each for the completion delay: waves of 15.
  const minimumMs = Math.ceil(options.images / INVALIDATION_QUOTAS.wildcardPaths) * options.completionDelayMs;
  const ratio = elapsedMs / minimumMs;
  return {
    name: 'takedown-fanout',
    parameters: { ...options, pollMs, retryScale: scale, concurrency: WILDCARD_INVALIDATIONS_IN_PROGRESS, quotas: INVALIDATION_QUOTAS },
    tables: [
      {
        title: `${options.images.toLocaleString('en-US')} takedowns, ${options.completionDelayMs} ms completion delay, polled every ${pollMs} ms`,
        columns: ['paths lost', 'invalidations created', 'peak wildcard paths in progress', 'peak file paths in progress', 'throttled', 'API calls', 'total s', 'minimum s', 'total ÷ minimum'],
        rows: [[lost, stats.created, `${stats.peakWildcardPaths} (quota ${INVALIDATION_QUOTAS.wildcardPaths})`, `${stats.peakFilePaths} (quota ${INVALIDATION_QUOTAS.filePaths})`, stats.throttled, calls, (elapsedMs / 1000).toFixed(1), (minimumMs / 1000).toFixed(1), `${ratio.toFixed(3)}x`]],
      },
    ],
    goals: [
      goal('0 paths lost', `${lost} lost, ${given.length} given up`, lost === 0),
      goal('peak in progress within the quotas', `${stats.peakWildcardPaths} of ${INVALIDATION_QUOTAS.wildcardPaths} wildcard, ${stats.peakFilePaths} of ${INVALIDATION_QUOTAS.filePaths} file paths`, stats.peakWildcardPaths <= INVALIDATION_QUOTAS.wildcardPaths && stats.peakFilePaths <= INVALIDATION_QUOTAS.filePaths),
      goal('total ≤ 1.1x the minimum the quotas allow', `${ratio.toFixed(3)}x (${(elapsedMs / 1000).toFixed(1)} s against ${(minimumMs / 1000).toFixed(1)} s)`, ratio <= 1.1),
    ],
    figures: { lost, givenUp: given, stats, calls, retries, elapsedMs, minimumMs },
  };
}
