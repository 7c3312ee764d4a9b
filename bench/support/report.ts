import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'results');

export interface Table {
  readonly title: string;
  readonly columns: readonly string[];
  readonly rows: ReadonlyArray<ReadonlyArray<string | number>>;
}

/** One goal of issue 5, as measured: `met` is null when the benchmark could not measure it (and `note` says why). */
export interface Goal {
  readonly goal: string;
  readonly measured: string;
  readonly met: boolean | null;
  readonly note?: string;
}

export interface BenchResult {
  readonly name: string;
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly tables: readonly Table[];
  readonly goals: readonly Goal[];
  /** The raw figures behind the tables, for the JSON file. */
  readonly figures: Readonly<Record<string, unknown>>;
}

export function goal(text: string, measured: string, met: boolean | null, note?: string): Goal {
  return note === undefined ? { goal: text, measured, met } : { goal: text, measured, met, note };
}

/** A Markdown table, so the printed output pastes into docs/PERFORMANCE.md as is. */
export function formatTable(table: Table): string {
  const cells = [table.columns, ...table.rows].map((row) => row.map(String));
  const widths = table.columns.map((_, i) => Math.max(3, ...cells.map((row) => (row[i] ?? '').length)));
  const line = (row: readonly string[]) => '| ' + row.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ') + ' |';
  return [`### ${table.title}`, '', line(cells[0]!), line(widths.map((w) => '-'.repeat(w))), ...cells.slice(1).map(line)].join('\n');
}

export function formatGoals(goals: readonly Goal[]): string {
  return formatTable({
    title: 'Goals',
    columns: ['goal', 'measured', 'met'],
    rows: goals.map((g) => [g.goal, g.measured, g.met === null ? `not measured${g.note ? `: ${g.note}` : ''}` : g.met ? 'yes' : 'no']),
  });
}

export function formatResult(result: BenchResult): string {
  return [`## ${result.name}`, '', ...result.tables.map(formatTable).flatMap((t) => [t, '']), formatGoals(result.goals), ''].join('\n');
}

/** Writes bench/results/{name}.json with the machine it ran on and the command that ran it. */
export async function writeResult(result: BenchResult, meta: { command: string; startedAt: Date; durationMs: number }, dir = RESULTS_DIR): Promise<string> {
  const path = join(dir, `${result.name}.json`);
  await mkdir(dir, { recursive: true });
  const machine = { cpu: cpus()[0]?.model, cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, platform: process.platform };
  await writeFile(path, JSON.stringify({ ...meta, startedAt: meta.startedAt.toISOString(), machine, ...result }, null, 2) + '\n');
  return path;
}
