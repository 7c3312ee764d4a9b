/** A sample's spread: what the docs quote instead of a bare time. */
export interface Summary {
  readonly n: number;
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  readonly p99: number;
}

/** Median (the middle pair's mean for an even count), min–max, mean and p99 (nearest rank) of a sample. */
export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) return { n: 0, median: NaN, min: NaN, max: NaN, mean: NaN, p99: NaN };
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (const value of sorted) sum += value;
  return {
    n: sorted.length,
    median: sorted.length % 2 === 1 ? sorted[(sorted.length - 1) / 2]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2,
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
    mean: sum / sorted.length,
    p99: percentileOf(sorted, 99),
  };
}

/** Nearest-rank percentile of an ascending array. */
export function percentileOf(sorted: ArrayLike<number>, percent: number): number {
  const rank = Math.max(1, Math.ceil((percent / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

/** Runs every case once per round, rotating which goes first, so drift on a noisy machine hits them all alike. */
export async function alternate<K extends string>(rounds: number, cases: readonly K[], run: (name: K, round: number) => Promise<void>): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < cases.length; i++) await run(cases[(i + round) % cases.length]!, round);
  }
}

/** Milliseconds since an hrtime.bigint() mark. */
export function msSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** "12.3 (11.9–14.0)": a median with its range, at a given precision. */
export function spread(summary: Summary, digits = 1): string {
  return `${summary.median.toFixed(digits)} (${summary.min.toFixed(digits)}–${summary.max.toFixed(digits)})`;
}
