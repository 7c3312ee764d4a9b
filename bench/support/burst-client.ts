import { Agent, request } from 'node:http';
import { pathToFileURL } from 'node:url';

export interface BurstOptions {
  /** A URL already cached at the edge: opening the connections with it renders nothing. */
  readonly warmUrl: string;
  readonly url: string;
  readonly concurrency: number;
  /** Give up on the burst after this long. @default 120 s */
  readonly timeoutMs?: number;
}

export interface BurstResult {
  /** Milliseconds from each request's start to its last byte. */
  readonly latencies: number[];
  readonly statuses: Record<number, number>;
  readonly errors: number;
  readonly bodyBytes: number[];
}

/**
 * Opens `concurrency` keep-alive connections (on a cached URL), then sends one
 * request for `url` on each at once: the requests arrive together, and connection
 * setup stays out of their latency.
 */
export async function burst(options: BurstOptions): Promise<BurstResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency, maxFreeSockets: options.concurrency, timeout: options.timeoutMs ?? 120_000 });
  try {
    // Open the connections in waves the listen backlog can take.
    for (let open = 0; open < options.concurrency; open += 500) {
      await Promise.all(Array.from({ length: Math.min(500, options.concurrency - open) }, () => get(agent, options.warmUrl)));
    }
    await Promise.all(Array.from({ length: options.concurrency }, () => get(agent, options.warmUrl)));
    const results = await Promise.all(Array.from({ length: options.concurrency }, () => get(agent, options.url)));
    const statuses: Record<number, number> = {};
    for (const r of results) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    return { latencies: results.map((r) => r.ms), statuses, errors: results.filter((r) => r.status === 0).length, bodyBytes: [...new Set(results.map((r) => r.bytes))] };
  } finally {
    agent.destroy();
  }
}

function get(agent: Agent, url: string): Promise<{ status: number; ms: number; bytes: number }> {
  const start = process.hrtime.bigint();
  return new Promise((resolve) => {
    const req = request(url, { agent }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: Number(process.hrtime.bigint() - start) / 1e6, bytes }));
      res.on('error', () => resolve({ status: 0, ms: Number(process.hrtime.bigint() - start) / 1e6, bytes }));
    });
    req.on('error', () => resolve({ status: 0, ms: Number(process.hrtime.bigint() - start) / 1e6, bytes: 0 }));
    req.end();
  });
}

// Run as a script (the load-generating child): options in argv, the result on stdout.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.stdout.write(JSON.stringify(await burst(JSON.parse(process.argv[2]!) as BurstOptions)));
}
