import { pathToFileURL } from 'node:url';
import { edgeStoreEntries, parseConfig } from '../../core/tenant-config.ts';
import { buildViewerFunction } from '../../edge-fallback/viewer-request/build.ts';
import { ViewerFunctionRuntime } from '../../local/edge/function-runtime.ts';
import { viewerRequestEvent } from '../../local/edge/viewer-event.ts';
import { summarize, type Summary } from './stats.ts';
import { syntheticWorkload } from './workload.ts';

export interface ViewerMeasureOptions {
  readonly rounds: number;
  /** Requests per round, drawn from the hit-ratio workload. */
  readonly perRound: number;
}

export interface ViewerMeasurement {
  readonly jitless: boolean;
  readonly bundleBytes: number;
  /** Each round's mean µs per request, timed over the whole batch. */
  readonly roundMeans: readonly number[];
  /** Each request timed alone, in µs, across all rounds. */
  readonly perRequest: Summary;
  /** Each round's mean µs of a bare `split('&')` of the same query strings. */
  readonly splitMeans: readonly number[];
}

/**
 * Times the built viewer function in its vm sandbox over the hit-ratio request mix,
 * rounds alternating with a bare `split('&')` of the same queries in this process.
 */
export async function measureViewer(options: ViewerMeasureOptions): Promise<ViewerMeasurement> {
  const bundle = await buildViewerFunction();
  const viewer = new ViewerFunctionRuntime(bundle.code, edgeStoreEntries(parseConfig({ tenants: { shop: {} } })));
  const inputs = [...syntheticWorkload({ requests: options.perRound, images: 10_000, seed: 7 })];
  const queries = inputs.map((r) => r.query);
  // The function rewrites the request it is given, so every call gets a fresh event, made before the clock starts.
  const events = () => inputs.map((r) => viewerRequestEvent({ method: r.method, uri: r.uri, query: r.query, accept: r.accept }));
  for (const event of events()) await viewer.run(event);

  const roundMeans: number[] = [];
  const splitMeans: number[] = [];
  const single: number[] = [];
  let sink = 0;
  for (let round = 0; round < options.rounds; round++) {
    let batch = events();
    let start = process.hrtime.bigint();
    for (const event of batch) await viewer.run(event);
    roundMeans.push(Number(process.hrtime.bigint() - start) / 1e3 / batch.length);

    start = process.hrtime.bigint();
    for (const query of queries) sink += query.split('&').length;
    splitMeans.push(Number(process.hrtime.bigint() - start) / 1e3 / queries.length);

    batch = events();
    for (const event of batch) {
      const t0 = process.hrtime.bigint();
      await viewer.run(event);
      single.push(Number(process.hrtime.bigint() - t0) / 1e3);
    }
  }
  if (sink < 0) throw new Error('unreachable: keeps the split from being optimized away');
  return { jitless: process.execArgv.includes('--jitless'), bundleBytes: bundle.bytes, roundMeans, perRequest: summarize(single), splitMeans };
}

// Run as a script (the --jitless child): options in argv, the measurement on stdout.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = await measureViewer(JSON.parse(process.argv[2] ?? '{}') as ViewerMeasureOptions);
  process.stdout.write(JSON.stringify(result));
}
