import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseConfig } from '../core/tenant-config.ts';
import { publishDirectly } from '../local/seed.ts';
import { startTwin } from '../local/twin.ts';
import type { BurstOptions, BurstResult } from './support/burst-client.ts';
import { photoLike } from './support/photo.ts';
import { goal, type BenchResult } from './support/report.ts';
import { alternate, spread, summarize } from './support/stats.ts';

export interface CoalescingOptions {
  readonly rounds: number;
  readonly concurrency: number;
  /** The original's size. @default 4000x3000 (a 12 MP camera photo) */
  readonly photo?: { readonly width: number; readonly height: number };
}

export const COALESCING_FULL: CoalescingOptions = { rounds: 5, concurrency: 10_000 };

const CONFIG = parseConfig({ tenants: { shop: {} } });
/** Not in the standard set, so a miss renders. */
const COLD_QUERY = 'w=480&fmt=webp';
const CLIENT = fileURLToPath(new URL('./support/burst-client.ts', import.meta.url));

type Case = 'one request, cold key' | 'concurrent, one cold key' | 'concurrent, hot key';

/**
 * 10,000 concurrent requests for one cold key through the twin's edge, sent by a
 * second process over pre-opened connections, against a single request for a cold
 * key and against the same burst on a hot key (the cost of serving alone).
 * Every cold key is a fresh image, so each round renders from scratch.
 */
export async function runCoalescing(options: CoalescingOptions): Promise<BenchResult> {
  const size = options.photo ?? { width: 4000, height: 3000 };
  const { jpeg } = await photoLike(size.width, size.height);
  const dataDir = await mkdtemp(join(tmpdir(), 'pictor-bench-coalescing-'));
  const twin = await startTwin({ config: CONFIG, dataDir, logLevel: 'SILENT', pipeline: false });
  const latencies: Record<Case, number[]> = { 'one request, cold key': [], 'concurrent, one cold key': [], 'concurrent, hot key': [] };
  const p99s: Record<Case, number[]> = { 'one request, cold key': [], 'concurrent, one cold key': [], 'concurrent, hot key': [] };
  const renders: number[] = [];
  const failures: string[] = [];
  let images = 0;
  try {
    const upload = async () => {
      const imageId = `photo-${images++}`;
      await publishDirectly(twin.s3Client, { tenant: 'shop', imageId }, jpeg);
      return `${twin.edgeUrl}/img/shop/${imageId}?${COLD_QUERY}`;
    };
    const warmUrl = await upload();
    await fetch(warmUrl).then((r) => r.arrayBuffer());
    const run = async (name: Case, url: string, concurrency: number) => {
      const before = twin.edge.stats.originRenders;
      const result = await burstFrom(CLIENT, { warmUrl, url, concurrency });
      const rendered = twin.edge.stats.originRenders - before;
      if (name === 'concurrent, one cold key') renders.push(rendered);
      const ok = result.statuses[200] ?? 0;
      if (ok !== concurrency || result.bodyBytes.length !== 1) failures.push(`${name}: ${JSON.stringify(result.statuses)}, ${result.errors} errors, body sizes ${result.bodyBytes.join('/')}`);
      latencies[name].push(...result.latencies);
      p99s[name].push(summarize(result.latencies).p99);
    };
    await alternate(options.rounds, ['one request, cold key', 'concurrent, one cold key', 'concurrent, hot key'] as const, async (name) => {
      if (name === 'concurrent, hot key') return run(name, warmUrl, options.concurrency);
      return run(name, await upload(), name === 'one request, cold key' ? 1 : options.concurrency);
    });
  } finally {
    await twin.close();
    await rm(dataDir, { recursive: true, force: true });
  }

  const single = summarize(latencies['one request, cold key']);
  const cold = summarize(p99s['concurrent, one cold key']);
  const ratio = cold.median / single.median;
  const rows = (Object.keys(latencies) as Case[]).map((name) => {
    const all = summarize(latencies[name]);
    return [name, name === 'one request, cold key' ? 1 : options.concurrency, all.median.toFixed(0), spread(summarize(p99s[name]), 0), name === 'concurrent, one cold key' ? renders.join(', ') : name === 'concurrent, hot key' ? '0' : '1 each'];
  });
  return {
    name: 'coalescing',
    parameters: { rounds: options.rounds, concurrency: options.concurrency, original: `${size.width}x${size.height} JPEG, ${(jpeg.length / 1e6).toFixed(1)} MB`, query: COLD_QUERY },
    tables: [
      {
        title: `Through the twin's edge, ms (p99: median (min–max) over ${options.rounds} alternated rounds; the single request's p99 is its latency)`,
        columns: ['case', 'requests', 'median ms (all rounds)', 'p99 ms', 'origin renders per burst'],
        rows,
      },
    ],
    goals: [
      goal('exactly 1 origin render per burst', `${renders.join(', ')}${failures.length ? `; failures: ${failures.join('; ')}` : ''}`, renders.length > 0 && renders.every((r) => r === 1) && failures.length === 0),
      goal("p99 ≤ 1.2x a single request's latency", `${ratio.toFixed(2)}x (${cold.median.toFixed(0)} ms against ${single.median.toFixed(0)} ms)`, ratio <= 1.2),
    ],
    figures: { renders, failures, single, p99s, summaries: Object.fromEntries(Object.entries(latencies).map(([k, v]) => [k, summarize(v)])) },
  };
}

async function burstFrom(client: string, options: BurstOptions): Promise<BurstResult> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', client, JSON.stringify(options)], { maxBuffer: 64 * 1024 * 1024, timeout: 180_000 });
  return JSON.parse(stdout) as BurstResult;
}
