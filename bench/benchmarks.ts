import type { BenchResult } from './support/report.ts';

type Flags = Readonly<Record<string, string | boolean | undefined>>;

export interface Benchmark {
  /** The `--name value` options it takes. */
  readonly flags: readonly string[];
  /** Runs at full size; command-line flags may override the options. */
  run(flags: Flags): Promise<BenchResult>;
}

/** The benchmarks of issue 5, in the order `npm run bench` runs them. Modules load on demand. */
export const BENCHMARKS = {
  'hit-ratio': {
    flags: ['requests', 'images', 'zipf', 'seed', 'log', 'tenants', 'accept'],
    async run(flags) {
      const { runHitRatio, HIT_RATIO_FULL } = await import('./hit-ratio.ts');
      return runHitRatio({
        ...HIT_RATIO_FULL,
        requests: numberFlag(flags, 'requests') ?? HIT_RATIO_FULL.requests,
        images: numberFlag(flags, 'images') ?? HIT_RATIO_FULL.images,
        zipf: numberFlag(flags, 'zipf'),
        seed: numberFlag(flags, 'seed'),
        log: stringFlag(flags, 'log'),
        tenants: stringFlag(flags, 'tenants'),
        accept: stringFlag(flags, 'accept'),
      });
    },
  },
  coalescing: {
    flags: ['rounds', 'concurrency'],
    async run(flags) {
      const { runCoalescing, COALESCING_FULL } = await import('./coalescing.ts');
      return runCoalescing({ rounds: numberFlag(flags, 'rounds') ?? COALESCING_FULL.rounds, concurrency: numberFlag(flags, 'concurrency') ?? COALESCING_FULL.concurrency });
    },
  },
  'viewer-function': {
    flags: ['rounds', 'per-round'],
    async run(flags) {
      const { runViewerFunction, VIEWER_FUNCTION_FULL } = await import('./viewer-function.ts');
      return runViewerFunction({ rounds: numberFlag(flags, 'rounds') ?? VIEWER_FUNCTION_FULL.rounds, perRound: numberFlag(flags, 'per-round') ?? VIEWER_FUNCTION_FULL.perRound });
    },
  },
  'variant-set': {
    flags: ['rounds'],
    async run(flags) {
      const { runVariantSet, VARIANT_SET_FULL } = await import('./variant-set.ts');
      return runVariantSet({ ...VARIANT_SET_FULL, rounds: numberFlag(flags, 'rounds') ?? VARIANT_SET_FULL.rounds });
    },
  },
  'miss-path': {
    flags: ['rounds'],
    async run(flags) {
      const { runMissPath, MISS_PATH_FULL } = await import('./miss-path.ts');
      return runMissPath({ ...MISS_PATH_FULL, rounds: numberFlag(flags, 'rounds') ?? MISS_PATH_FULL.rounds });
    },
  },
  'takedown-fanout': {
    flags: ['images', 'delay-ms', 'poll-ms'],
    async run(flags) {
      const { runTakedownFanout, TAKEDOWN_FANOUT_FULL } = await import('./takedown-fanout.ts');
      return runTakedownFanout({
        images: numberFlag(flags, 'images') ?? TAKEDOWN_FANOUT_FULL.images,
        completionDelayMs: numberFlag(flags, 'delay-ms') ?? TAKEDOWN_FANOUT_FULL.completionDelayMs,
        pollMs: numberFlag(flags, 'poll-ms'),
      });
    },
  },
  'pipeline-overhead': {
    flags: ['originals', 'rounds', 'photo'],
    async run(flags) {
      const { runPipelineOverhead, PIPELINE_OVERHEAD_FULL } = await import('./pipeline-overhead.ts');
      return runPipelineOverhead({ originals: numberFlag(flags, 'originals') ?? PIPELINE_OVERHEAD_FULL.originals, rounds: numberFlag(flags, 'rounds') ?? PIPELINE_OVERHEAD_FULL.rounds, photo: sizeFlag(flags, 'photo') });
    },
  },
  'edge-hits': {
    flags: ['rounds', 'seconds', 'connections'],
    async run(flags) {
      const { runEdgeHits, EDGE_HITS_FULL } = await import('./edge-hits.ts');
      return runEdgeHits({ rounds: numberFlag(flags, 'rounds') ?? EDGE_HITS_FULL.rounds, seconds: numberFlag(flags, 'seconds') ?? EDGE_HITS_FULL.seconds, connections: numberFlag(flags, 'connections') });
    },
  },
  failover: {
    flags: ['rounds', 'requests'],
    async run(flags) {
      const { runFailover, FAILOVER_FULL } = await import('./failover.ts');
      return runFailover({ rounds: numberFlag(flags, 'rounds') ?? FAILOVER_FULL.rounds, requests: numberFlag(flags, 'requests') ?? FAILOVER_FULL.requests });
    },
  },
} satisfies Record<string, Benchmark>;

export type BenchmarkName = keyof typeof BENCHMARKS;

export function numberFlag(flags: Flags, name: string): number | undefined {
  const value = flags[name];
  if (value === undefined) return undefined;
  const number = Number(value);
  if (typeof value !== 'string' || !Number.isFinite(number)) throw new Error(`--${name} takes a number, not '${String(value)}'.`);
  return number;
}

/** `--photo 800x600`. */
export function sizeFlag(flags: Flags, name: string): { width: number; height: number } | undefined {
  const value = stringFlag(flags, name);
  if (value === undefined) return undefined;
  const match = /^([1-9][0-9]*)x([1-9][0-9]*)$/.exec(value);
  if (!match) throw new Error(`--${name} takes WIDTHxHEIGHT, such as 800x600, not '${value}'.`);
  return { width: Number(match[1]), height: Number(match[2]) };
}

export function stringFlag(flags: Flags, name: string): string | undefined {
  const value = flags[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new Error(`--${name} takes a value.`);
  return value;
}
