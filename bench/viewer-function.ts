import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { FUNCTION_SIZE_QUOTA } from '../edge-fallback/viewer-request/build.ts';
import { measureViewer, type ViewerMeasureOptions, type ViewerMeasurement } from './support/measure-viewer.ts';
import { goal, type BenchResult } from './support/report.ts';
import { summarize } from './support/stats.ts';

export type ViewerFunctionOptions = ViewerMeasureOptions;

export const VIEWER_FUNCTION_FULL: ViewerFunctionOptions = { rounds: 7, perRound: 20_000 };

/** The bundle's own goal, below the 10 KB quota to leave room for growth. */
const SIZE_GOAL = 8 * 1024;
const MEASURE = fileURLToPath(new URL('./support/measure-viewer.ts', import.meta.url));

/**
 * The built CloudFront Function in a vm context, with the JIT (this process) and
 * without it (a `--jitless` child running the same measurement module): CloudFront
 * Functions run on an interpreter, so the jitless figures are the ones that count.
 */
export async function runViewerFunction(options: ViewerFunctionOptions): Promise<BenchResult> {
  const jit = await measureViewer(options);
  const { stdout } = await promisify(execFile)(process.execPath, ['--jitless', '--import', 'tsx', MEASURE, JSON.stringify(options)], { maxBuffer: 64 * 1024 * 1024 });
  const jitless = JSON.parse(stdout) as ViewerMeasurement;

  const row = (m: ViewerMeasurement) => {
    const mean = summarize(m.roundMeans);
    const split = summarize(m.splitMeans);
    return {
      mode: m.jitless ? 'jitless' : 'JIT',
      mean,
      p99: m.perRequest.p99,
      split,
      ratio: mean.median / split.median,
    };
  };
  const rows = [row(jit), row(jitless)];
  const [, slow] = rows as [ReturnType<typeof row>, ReturnType<typeof row>];
  const us = (n: number) => n.toFixed(2);
  return {
    name: 'viewer-function',
    parameters: { ...options, bundleBytes: jit.bundleBytes },
    tables: [
      {
        title: `Viewer function per request, µs (median of ${options.rounds} rounds of ${options.perRound} requests, min–max)`,
        columns: ['mode', 'mean µs', 'per-request median µs', 'p99 µs', 'split(\'&\') µs', 'ratio to split'],
        rows: rows.map((r, i) => [r.mode, `${us(r.mean.median)} (${us(r.mean.min)}–${us(r.mean.max)})`, us([jit, jitless][i]!.perRequest.median), us(r.p99), `${(r.split.median * 1000).toFixed(0)} ns`, `${r.ratio.toFixed(0)}x`]),
      },
      { title: 'Bundle', columns: ['bytes', 'goal', 'quota'], rows: [[jit.bundleBytes, SIZE_GOAL, FUNCTION_SIZE_QUOTA]] },
    ],
    goals: [
      goal('mean ≤ 5 µs jitless', `${us(slow.mean.median)} µs (${us(slow.mean.min)}–${us(slow.mean.max)})`, slow.mean.median <= 5),
      goal('p99 ≤ 20 µs jitless', `${us(slow.p99)} µs`, slow.p99 <= 20),
      goal('≤ 10x a bare split', rows.map((r) => `${r.ratio.toFixed(0)}x ${r.mode}`).join(', '), rows.every((r) => r.ratio <= 10)),
      goal('bundle ≤ 8 KB', `${jit.bundleBytes} bytes`, jit.bundleBytes <= SIZE_GOAL),
    ],
    figures: { jit, jitless },
  };
}
