import { VARIANT_PARAMS } from '../core/normalize.ts';
import { edgeStoreEntries, parseConfig, standardVariants, type PictorConfig } from '../core/tenant-config.ts';
import { variantQuery } from '../core/variant.ts';
import { buildViewerFunction } from '../edge-fallback/viewer-request/build.ts';
import { EdgeCache, type CachedResponse } from '../local/edge/edge-cache.ts';
import { isFunctionResponse, ViewerFunctionRuntime } from '../local/edge/function-runtime.ts';
import { viewerRequestEvent } from '../local/edge/viewer-event.ts';
import { loadTenants } from '../local/settings.ts';
import { readAccessLog } from './support/access-log.ts';
import { monthlyBill, REFERENCE, referenceBill, TRANSFORM_GB_SECONDS, type MonthlyBill } from './support/cost-model.ts';
import { goal, type BenchResult } from './support/report.ts';
import { syntheticWorkload, type ReplayRequest } from './support/workload.ts';

export interface HitRatioOptions {
  /** Synthetic requests to replay (ignored with `log`). */
  readonly requests: number;
  /** Images in the synthetic catalogue. */
  readonly images: number;
  /** @default 1 */
  readonly zipf?: number;
  /** @default 1 */
  readonly seed?: number;
  /**
   * Byte bounds of the caches replayed side by side; the first is the headline.
   * 64 GiB holds every object a 1M-request pass makes (300k at 40 KB is 12 GB), so
   * its misses are the key's alone; 4 GiB (about 100k objects) adds capacity misses.
   * @default [64 GiB, 4 GiB]
   */
  readonly cacheBytes?: readonly number[];
  /** A CloudFront standard access log to replay instead of the synthetic workload. */
  readonly log?: string;
  /** The tenant configuration for a log. @default local/demo-tenants.json */
  readonly tenants?: string;
  /** The Accept header given to every logged request (standard logs do not record it). @default Chromium's */
  readonly accept?: string;
}

export const HIT_RATIO_FULL: HitRatioOptions = { requests: 1_000_000, images: 100_000 };

const GiB = 2 ** 30;
const CHROMIUM_ACCEPT = 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8';
/** The synthetic catalogue's tenant: every default (breakpoints 160 … 2560, qualities 40/60/75/90, all formats). */
const SYNTHETIC_CONFIG = parseConfig({ tenants: { shop: {} } });

interface Policy {
  readonly name: 'normalized' | 'naive';
  readonly caches: { readonly cache: EdgeCache; hits: number; misses: number }[];
  readonly unique: Set<string>;
}

/**
 * Replays one request stream against two cache keys side by side: (a) the built
 * viewer function's canonical key, (b) the naive key, the full query string. Each
 * key runs against byte-bounded LRU caches (the twin's EdgeCache) of several sizes.
 */
export async function runHitRatio(options: HitRatioOptions): Promise<BenchResult> {
  const config = options.log ? await loadTenants(options.tenants ?? new URL('../local/demo-tenants.json', import.meta.url).pathname) : SYNTHETIC_CONFIG;
  const sizes = options.cacheBytes ?? [64 * GiB, 4 * GiB];
  const bundle = await buildViewerFunction();
  const viewer = new ViewerFunctionRuntime(bundle.code, edgeStoreEntries(config));
  const standard = standardQueries(config);
  const policies: Policy[] = (['normalized', 'naive'] as const).map((name) => ({ name, caches: sizes.map((size) => ({ cache: new EdgeCache(size), hits: 0, misses: 0 })), unique: new Set() }));
  const [normalized, naive] = policies as [Policy, Policy];
  const transformed = new Set<string>();
  let requests = 0;
  let bytes = 0;
  const rejected: Record<number, number> = {};

  const started = process.hrtime.bigint();
  const passes: PassCounts[] = [];
  // Pass 1 is the cold cache the goals are judged on; pass 2, on the synthetic
  // workload, is the next requests (a new seed) against the caches pass 1 left.
  for (let pass = 0; pass < (options.log ? 1 : 2); pass++) {
    const source: AsyncIterable<ReplayRequest> | Iterable<ReplayRequest> = options.log
      ? readAccessLog(options.log, options.accept ?? CHROMIUM_ACCEPT)
      : syntheticWorkload({ requests: options.requests, images: options.images, zipf: options.zipf, seed: (options.seed ?? 1) + pass });
    const before = snapshot(policies, transformed, requests);
    for await (const request of source) {
      const result = await viewer.run(viewerRequestEvent({ method: request.method, uri: request.uri, query: request.query, accept: request.accept }));
      if (isFunctionResponse(result)) {
        // Answered by the function itself: never cached, never an origin fetch.
        rejected[result.statusCode] = (rejected[result.statusCode] ?? 0) + 1;
        continue;
      }
      requests++;
      if (pass === 0) bytes += request.bytes;
      const key = cacheKey(result.uri, result.querystring as string);
      const naiveKey = request.query ? `${request.uri}?${request.query}` : request.uri;
      replay(normalized, key, request.bytes);
      replay(naive, naiveKey, request.bytes);
      // A variant outside the standard set is rendered on its first miss and stored for good.
      if (!standard.has(standardKey(key))) transformed.add(key);
    }
    passes.push(difference(snapshot(policies, transformed, requests), before));
  }
  const replaySeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const reference = referenceBill();
  const bills = passes.map((p) => billsOf(p, bytes / Math.max(1, passes[0]!.requests)));
  const rows = passes.flatMap((p, i) =>
    (['normalized', 'naive'] as const).flatMap((name) =>
      p.policies[name].caches.map((c) => [
        passName(i, options.log),
        name,
        gib(c.maxBytes),
        pct(c.hits / Math.max(1, p.requests)),
        c.misses,
        Math.round(perMillion(c.misses, p.requests)),
        Math.round(perMillion(name === 'naive' ? c.misses : p.transforms, p.requests)),
        p.policies[name].unique,
        (c.misses / Math.max(1, p.policies.normalized.unique)).toFixed(3),
      ]),
    ),
  );
  const cost = (name: string, b: MonthlyBill, hit: number) => [name, pct(hit), usd(b.egress), usd(b.functions), usd(b.originShield), usd(b.s3), usd(b.lambda), usd(b.transforms), usd(b.total)];
  const cold = passes[0]!;
  const coldNormalized = cold.policies.normalized.caches[0]!;
  const coldNaive = cold.policies.naive.caches[0]!;
  const compulsory = cold.policies.normalized.unique;
  const withinBound = coldNormalized.misses / Math.max(1, compulsory);
  const naiveRatio = coldNaive.misses / Math.max(1, coldNormalized.misses);

  return {
    name: 'hit-ratio',
    parameters: {
      source: options.log ? { log: options.log, tenants: options.tenants ?? 'local/demo-tenants.json', accept: options.accept ?? CHROMIUM_ACCEPT } : { requests: options.requests, images: options.images, zipf: options.zipf ?? 1, seed: options.seed ?? 1 },
      cacheBytes: sizes,
      bundleBytes: bundle.bytes,
    },
    tables: [
      {
        title: `Cache keys replayed side by side (${cold.requests.toLocaleString('en-US')} requests a pass${options.log ? ` from ${options.log}` : ''})`,
        columns: ['pass', 'key', 'cache', 'hit ratio', 'origin misses', 'misses per 1M', 'transforms per 1M', 'new unique objects', 'misses ÷ compulsory'],
        rows,
      },
      {
        title: 'Monthly cost at 1B requests a day (a pass scaled to 30B a month; headline cache)',
        columns: ['bill', 'hit ratio', 'egress', 'functions', 'Origin Shield', 'S3', 'Lambda@Edge', 'of it transforms', 'total'],
        rows: [
          cost('design review reference', reference, REFERENCE.hitRatio),
          ...passes.flatMap((p, i) => [
            cost(`naive key (full query string), ${passName(i, options.log)}`, bills[i]!.naive, p.policies.naive.caches[0]!.hits / Math.max(1, p.requests)),
            cost(`Pictor (normalized key), ${passName(i, options.log)}`, bills[i]!.ours, p.policies.normalized.caches[0]!.hits / Math.max(1, p.requests)),
          ]),
        ],
      },
    ],
    goals: [
      goal('normalized misses ≤ 1.01x the compulsory bound', `${withinBound.toFixed(3)}x (${coldNormalized.misses} misses, ${compulsory} unique canonical variants, ${gib(coldNormalized.maxBytes)} cache, cold)`, withinBound <= 1.01),
      goal('naive misses ≥ 20x the normalized ones', `${naiveRatio.toFixed(2)}x cold (${coldNaive.misses} against ${coldNormalized.misses})${passes[1] ? `; ${(passes[1].policies.naive.caches[0]!.misses / Math.max(1, passes[1].policies.normalized.caches[0]!.misses)).toFixed(2)}x warm` : ''}`, naiveRatio >= 20),
    ],
    figures: { passes, rejected, replaySeconds, microsecondsPerRequest: (replaySeconds * 1e6) / Math.max(1, requests), transformGBSeconds: TRANSFORM_GB_SECONDS, bills: { reference, passes: bills } },
  };
}

interface PassCounts {
  readonly requests: number;
  readonly transforms: number;
  readonly policies: Record<Policy['name'], { readonly unique: number; readonly caches: readonly { readonly maxBytes: number; readonly hits: number; readonly misses: number }[] }>;
}

function snapshot(policies: readonly Policy[], transformed: Set<string>, requests: number): PassCounts {
  const of = (p: Policy) => ({ unique: p.unique.size, caches: p.caches.map((c) => ({ maxBytes: c.cache.maxBytes, hits: c.hits, misses: c.misses })) });
  return { requests, transforms: transformed.size, policies: { normalized: of(policies[0]!), naive: of(policies[1]!) } };
}

/** What one pass added: its requests, its new unique keys (its compulsory misses), its hits and misses. */
function difference(after: PassCounts, before: PassCounts): PassCounts {
  const of = (name: Policy['name']) => ({
    unique: after.policies[name].unique - before.policies[name].unique,
    caches: after.policies[name].caches.map((c, i) => ({ maxBytes: c.maxBytes, hits: c.hits - before.policies[name].caches[i]!.hits, misses: c.misses - before.policies[name].caches[i]!.misses })),
  });
  return { requests: after.requests - before.requests, transforms: after.transforms - before.transforms, policies: { normalized: of('normalized'), naive: of('naive') } };
}

/** A pass's month, from its headline cache. */
function billsOf(p: PassCounts, bytesPerRequest: number): { ours: MonthlyBill; naive: MonthlyBill } {
  const scale = REFERENCE.requestsPerMonth / Math.max(1, p.requests);
  const ours = p.policies.normalized.caches[0]!.misses * scale;
  const naive = p.policies.naive.caches[0]!.misses * scale;
  const month = { requests: REFERENCE.requestsPerMonth, bytes: bytesPerRequest * REFERENCE.requestsPerMonth };
  return {
    // Every miss is a Lambda@Edge lookup (an S3 HEAD) and one GET (the stored variant,
    // or the original to render); only variants outside the standard set render.
    ours: monthlyBill({ ...month, functionInvocations: REFERENCE.requestsPerMonth, misses: ours, transforms: p.transforms * scale, s3Gets: 2 * ours }),
    // No function, and every miss renders from the original (the per-request design).
    naive: monthlyBill({ ...month, functionInvocations: 0, misses: naive, transforms: naive, s3Gets: naive }),
  };
}

function passName(index: number, log: string | undefined): string {
  return log ? 'log' : index === 0 ? 'cold' : 'warm';
}

function perMillion(n: number, requests: number): number {
  return requests === 0 ? 0 : (n / requests) * 1e6;
}

function replay(policy: Policy, key: string, bytes: number): void {
  policy.unique.add(key);
  for (const c of policy.caches) {
    if (c.cache.get(key)) {
      c.hits++;
      continue;
    }
    c.misses++;
    c.cache.set(key, entryOf(bytes));
  }
}

/** The cache policy's key: the path and the canonical query the function left (only allowlisted parameters remain in it). */
function cacheKey(uri: string, querystring: string): string {
  const kept = querystring.split('&').filter((pair) => (VARIANT_PARAMS as readonly string[]).includes(pair.slice(0, pair.indexOf('='))));
  return kept.length > 0 ? `${uri}?${kept.join('&')}` : uri;
}

/** `tenant?canonical query` of each tenant's standard variants: rendered on upload, never transformed at the edge. */
function standardQueries(config: PictorConfig): Set<string> {
  const out = new Set<string>();
  for (const [tenant, tenantConfig] of Object.entries(config.tenants)) for (const spec of standardVariants(tenantConfig)) out.add(`${tenant}?${variantQuery(spec)}`);
  return out;
}

/** A cache key as `tenant?canonical query`, the form of {@link standardQueries}. */
function standardKey(key: string): string {
  const at = key.indexOf('?');
  return `${key.split('/')[2] ?? ''}?${at < 0 ? '' : key.slice(at + 1)}`;
}

const bodies = new Map<number, CachedResponse>();
/** Cached entries share one body per size: the cache counts bytes, the replay needs no pixels. */
function entryOf(bytes: number): CachedResponse {
  let entry = bodies.get(bytes);
  if (!entry) {
    entry = { status: 200, headers: {}, body: Buffer.alloc(bytes), freshness: { ttl: 31536000, staleWhileRevalidate: 0, staleIfError: 0 }, storedAt: 0 };
    bodies.set(bytes, entry);
  }
  return entry;
}

function pct(ratio: number): string {
  return `${(ratio * 100).toFixed(2)}%`;
}

function usd(amount: number): string {
  return '$' + Math.round(amount).toLocaleString('en-US');
}

function gib(bytes: number): string {
  return `${(bytes / GiB).toFixed(bytes < GiB ? 3 : 0)} GiB`;
}
