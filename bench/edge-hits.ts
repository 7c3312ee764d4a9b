import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../core/tenant-config.ts';
import { publishDirectly } from '../local/seed.ts';
import { startTwin } from '../local/twin.ts';
import { findLoadGenerator, type Load } from './support/http-load.ts';
import { photoLike } from './support/photo.ts';
import { goal, type BenchResult } from './support/report.ts';
import { alternate, spread, summarize } from './support/stats.ts';

export interface EdgeHitsOptions {
  readonly rounds: number;
  /** Seconds of load per case and round. */
  readonly seconds: number;
  /** The load generator's concurrent connections. @default 64 */
  readonly connections?: number;
  /** Install wrk with apt-get when it is absent. @default true */
  readonly installTools?: boolean;
}

export const EDGE_HITS_FULL: EdgeHitsOptions = { rounds: 4, seconds: 5 };

const CONFIG = parseConfig({ tenants: { shop: {} } });
/** The design notes' average object. */
const TARGET_BYTES = 40_000;

type Case = 'edge, hot object' | 'bare node http';


/**
 * Load from a second process (wrk, or autocannon without it) on a hot ~40 KB variant through the
 * twin's edge (viewer function, cache lookup, response), against a bare node
 * http server returning the same buffer, alternated round by round.
 */
export async function runEdgeHits(options: EdgeHitsOptions): Promise<BenchResult> {
  const generator = await findLoadGenerator(options.installTools ?? true);
  const dataDir = await mkdtemp(join(tmpdir(), 'pictor-bench-edge-'));
  const twin = await startTwin({ config: CONFIG, dataDir, logLevel: 'SILENT', pipeline: false });
  const loads: Record<Case, Load[]> = { 'edge, hot object': [], 'bare node http': [] };
  let object = { url: '', bytes: 0, contentType: '' };
  let body = Buffer.alloc(0);
  const bare = createServer((_, response) => {
    response.writeHead(200, { 'content-type': object.contentType, 'content-length': body.length });
    response.end(body);
  });
  try {
    const { jpeg } = await photoLike(2000, 1500);
    await publishDirectly(twin.s3Client, { tenant: 'shop', imageId: 'hot' }, jpeg);
    // The variant nearest 40 KB, fetched twice so the second is a cache hit.
    for (const query of ['w=480&fmt=webp', 'w=640&fmt=webp', 'w=768&fmt=webp', 'w=480&fmt=jpeg', 'w=640&fmt=jpeg']) {
      const url = `${twin.edgeUrl}/img/shop/hot?${query}`;
      const response = await fetch(url);
      const bytes = Buffer.from(await response.arrayBuffer());
      if (!object.url || Math.abs(bytes.length - TARGET_BYTES) < Math.abs(object.bytes - TARGET_BYTES)) {
        object = { url, bytes: bytes.length, contentType: response.headers.get('content-type') ?? '' };
        body = bytes;
      }
    }
    const hit = await fetch(object.url);
    await hit.arrayBuffer();
    if (!/^Hit/.test(hit.headers.get('x-cache') ?? '')) throw new Error(`Expected a cache hit for ${object.url} but received x-cache ${hit.headers.get('x-cache')}.`);
    await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
    const bareUrl = `http://127.0.0.1:${(bare.address() as AddressInfo).port}/img/shop/hot`;
    const urls: Record<Case, string> = { 'edge, hot object': object.url, 'bare node http': bareUrl };
    for (const name of Object.keys(urls) as Case[]) await generator.run(urls[name], 1, options.connections ?? 64);
    await alternate(options.rounds, Object.keys(urls) as Case[], async (name) => void loads[name].push(await generator.run(urls[name], options.seconds, options.connections ?? 64)));
  } finally {
    bare.closeAllConnections();
    await new Promise((resolve) => bare.close(resolve));
    await twin.close();
    await rm(dataDir, { recursive: true, force: true });
  }

  const ratios = loads['edge, hot object'].map((l, i) => l.rps / loads['bare node http'][i]!.rps);
  const ratio = summarize(ratios);
  const rows = (Object.keys(loads) as Case[]).map((name) => {
    const l = loads[name];
    return [name, spread(summarize(l.map((x) => x.rps)), 0), spread(summarize(l.map((x) => x.p50)), 1), spread(summarize(l.map((x) => x.p99)), 1), l.reduce((n, x) => n + x.errors, 0)];
  });
  return {
    name: 'edge-hits',
    parameters: { ...options, connections: options.connections ?? 64, object: object.url.replace(/^http:\/\/[^/]+/, ''), bytes: object.bytes, loadGenerator: generator.name, ...(generator.note ? { loadGeneratorNote: generator.note } : {}) },
    tables: [
      {
        title: `Hot ${(object.bytes / 1000).toFixed(1)} KB object, ${generator.name}, ${options.connections ?? 64} connections, ${options.seconds} s a round: median (min–max) of ${options.rounds} alternated rounds`,
        columns: ['server', 'requests/s', 'p50 ms', 'p99 ms', 'errors + non-2xx'],
        rows,
      },
    ],
    goals: [
      goal('edge ≥ 0.7x the bare server’s throughput', `${ratio.median.toFixed(2)}x (${ratio.min.toFixed(2)}–${ratio.max.toFixed(2)}, paired by round)`, ratio.median >= 0.7),
      goal('p99 reported', `edge ${summarize(loads['edge, hot object'].map((x) => x.p99)).median.toFixed(1)} ms, bare ${summarize(loads['bare node http'].map((x) => x.p99)).median.toFixed(1)} ms`, true),
    ],
    figures: { loads, ratios },
  };
}
