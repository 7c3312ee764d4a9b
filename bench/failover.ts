import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { cacheControlFor } from '../core/cache-control.ts';
import { variantKey } from '../core/object-keys.ts';
import { normalizeQuery, queryPairs } from '../core/normalize.ts';
import { parseConfig, policyOf } from '../core/tenant-config.ts';
import { ORIGIN_CONNECTION_TIMEOUT, ORIGIN_RESPONSE_TIMEOUT } from '../infra/edge.ts';
import { S3_DEADLINES_MS } from '../edge-fallback/origin-request/s3-adapters.ts';
import { renderVariant } from '../imaging/render.ts';
import { DEFAULT_RENDER_LIMITS } from '../imaging/render-limits.ts';
import type { FaultMode } from '../local/regions.ts';
import { publishDirectly } from '../local/seed.ts';
import { BUCKETS } from '../local/topology.ts';
import { startTwin } from '../local/twin.ts';
import { photoLike } from './support/photo.ts';
import { goal, type BenchResult } from './support/report.ts';
import { alternate, msSince, summarize } from './support/stats.ts';

export interface FailoverOptions {
  readonly rounds: number;
  /** Misses of each kind per case and round, sent together. */
  readonly requests: number;
  /** The original's size. @default 1600x1067 */
  readonly photo?: { readonly width: number; readonly height: number };
}

export const FAILOVER_FULL: FailoverOptions = { rounds: 5, requests: 8 };

const CONFIG = parseConfig({ tenants: { shop: { breakpoints: [160, 320, 480, 640, 960, 1280] } } });
const POLICY = policyOf(CONFIG.tenants.shop!);
const MODES = ['up', '503', 'hang', 'refuse'] as const;
type Mode = (typeof MODES)[number];
const KINDS = ['stored variant', 'long-tail render'] as const;
type Kind = (typeof KINDS)[number];

/**
 * Misses through the twin's edge while the primary region's S3 answers 503,
 * hangs or refuses connections, against the same misses with every region up,
 * in one run: a stored variant (in both origins' buckets; CloudFront's cache
 * emptied) and a long-tail variant rendered on the miss. Each mode's added
 * latency is what the configuration bounds: 503 and refusals fail over at once;
 * a hang costs the function's HEAD deadline plus CloudFront's response timeout.
 */
export async function runFailover(options: FailoverOptions): Promise<BenchResult> {
  const size = options.photo ?? { width: 1600, height: 1067 };
  const { jpeg } = await photoLike(size.width, size.height);
  const dataDir = await mkdtemp(join(tmpdir(), 'pictor-bench-failover-'));
  const twin = await startTwin({ config: CONFIG, dataDir, logLevel: 'SILENT', pipeline: false });
  const latencies = Object.fromEntries(MODES.map((m) => [m, Object.fromEntries(KINDS.map((k) => [k, [] as number[]]))])) as Record<Mode, Record<Kind, number[]>>;
  const statuses: Record<string, number> = {};
  let images = 0;
  try {
    // One image per case and round, published and replicated; its stored variant is in both origins' buckets.
    const prepare = async () => {
      const image = { tenant: 'shop', imageId: `photo-${images++}` };
      await publishDirectly(twin.s3Client, image, jpeg);
      const query = 'fmt=webp&q=75&w=640';
      const normalized = normalizeQuery(queryPairs(query), POLICY, undefined);
      if (!normalized.ok) throw new Error(normalized.message);
      const variant = await renderVariant(jpeg, normalized.normalized.spec, { ...DEFAULT_RENDER_LIMITS, maxDimension: 1280 });
      for (const bucket of [BUCKETS.variants.bucket, BUCKETS.failoverVariants.bucket]) {
        await twin.s3Client.send(
          new PutObjectCommand({ Bucket: bucket, Key: variantKey(image, normalized.normalized.spec), Body: variant.body, ContentType: variant.contentType, CacheControl: cacheControlFor({}, POLICY) }),
        );
      }
      await twin.replication.settled();
      return image.imageId;
    };
    const get = async (path: string) => {
      const start = process.hrtime.bigint();
      const response = await fetch(twin.edgeUrl + path);
      await response.arrayBuffer();
      statuses[response.status] = (statuses[response.status] ?? 0) + 1;
      return msSince(start);
    };
    const widths = [160, 320, 480, 960, 1280];
    await alternate(options.rounds, MODES, async (mode) => {
      const ids = await Promise.all(Array.from({ length: options.requests }, prepare));
      twin.edge.cache.invalidate('/img/*');
      if (mode !== 'up') await twin.regions.fault(BUCKETS.variants.region, mode satisfies FaultMode);
      try {
        const stored = await Promise.all(ids.map((id) => get(`/img/shop/${id}?fmt=webp&q=75&w=640`)));
        const rendered = await Promise.all(ids.map((id, i) => get(`/img/shop/${id}?fmt=jpeg&q=75&w=${widths[i % widths.length]}`)));
        latencies[mode]['stored variant'].push(...stored);
        latencies[mode]['long-tail render'].push(...rendered);
      } finally {
        if (mode !== 'up') await twin.regions.fault(BUCKETS.variants.region, 'off');
      }
    });
  } finally {
    await twin.close();
    await rm(dataDir, { recursive: true, force: true });
  }

  const rows = KINDS.flatMap((kind) => {
    const up = summarize(latencies.up[kind]);
    return MODES.map((mode) => {
      const s = summarize(latencies[mode][kind]);
      return [kind, mode === 'up' ? 'all regions up' : `primary ${mode}`, s.n, s.median.toFixed(0), s.p99.toFixed(0), (s.median / up.median).toFixed(2), (s.p99 / up.p99).toFixed(2)];
    });
  });
  const fiveXX = Object.entries(statuses).filter(([status]) => Number(status) >= 500).reduce((sum, [, n]) => sum + n, 0);
  // The hang bound: the function's HEAD deadline, then CloudFront's response timeout, then the same miss in the other region.
  const hangBoundMs = S3_DEADLINES_MS.head + ORIGIN_RESPONSE_TIMEOUT.toMilliseconds();
  const worstHang = Math.max(...KINDS.map((k) => summarize(latencies.hang[k]).p99 - summarize(latencies.up[k]).p99));
  return {
    name: 'failover',
    parameters: {
      rounds: options.rounds,
      requestsPerKind: options.requests,
      original: `${size.width}x${size.height} JPEG, ${(jpeg.length / 1e6).toFixed(1)} MB`,
      outageBoundMs: { functionHeadDeadline: S3_DEADLINES_MS.head, cloudFrontResponseTimeout: ORIGIN_RESPONSE_TIMEOUT.toMilliseconds(), cloudFrontConnectionTimeout: ORIGIN_CONNECTION_TIMEOUT.toMilliseconds() },
    },
    tables: [
      {
        title: `Misses through the twin's edge, ms, with the primary region's S3 up or failing (${options.rounds} alternated rounds of ${options.requests} concurrent misses of each kind; ratios against all regions up)`,
        columns: ['miss', 'regions', 'n', 'p50 ms', 'p99 ms', 'p50 ratio', 'p99 ratio'],
        rows,
      },
    ],
    goals: [
      goal('no viewer sees a 5xx in any mode', `${fiveXX} of ${Object.values(statuses).reduce((a, b) => a + b, 0)} (statuses ${JSON.stringify(statuses)})`, fiveXX === 0),
      goal(`a hang adds at most the HEAD deadline plus CloudFront's response timeout (${hangBoundMs} ms) to p99`, `${worstHang.toFixed(0)} ms`, worstHang <= hangBoundMs + 1000),
    ],
    figures: { statuses, summaries: Object.fromEntries(MODES.map((m) => [m, Object.fromEntries(KINDS.map((k) => [k, summarize(latencies[m][k])]))])) },
  };
}
