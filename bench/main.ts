// `npm run bench` runs every benchmark; `npm run bench -- <name> [--option value]` runs one.
// Each prints its tables and writes bench/results/<name>.json.
import { parseArgs } from 'node:util';
// The SDK warns on node 20 at every client (shared/LOCAL_STACK.md); the twin's clients are not the figures.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
import { BENCHMARKS, type BenchmarkName } from './benchmarks.ts';
import { formatResult, writeResult } from './support/report.ts';

const flags = new Set(Object.values(BENCHMARKS).flatMap((b): readonly string[] => b.flags));
const { positionals, values } = parseArgs({ allowPositionals: true, options: Object.fromEntries([...flags].map((name) => [name, { type: 'string' as const }])) });
const names = (positionals.length > 0 ? positionals : Object.keys(BENCHMARKS)) as BenchmarkName[];
const unknown = names.filter((name) => !Object.hasOwn(BENCHMARKS, name));
if (unknown.length > 0) {
  console.error(`Unknown benchmark ${unknown.join(', ')}; expected one of ${Object.keys(BENCHMARKS).join(', ')}.`);
  process.exit(2);
}

const overall = Date.now();
for (const name of names) {
  const startedAt = new Date();
  console.log(`\n▶ ${name} (${startedAt.toISOString()})`);
  const result = await BENCHMARKS[name].run(values as Record<string, string | boolean | undefined>);
  const durationMs = Date.now() - startedAt.getTime();
  const command = `npm run bench -- ${name}${process.argv.slice(2).filter((a) => a !== name).map((a) => ` ${a}`).join('')}`;
  console.log(formatResult(result));
  console.log(`${name}: ${(durationMs / 1000).toFixed(1)} s, written to ${await writeResult(result, { command, startedAt, durationMs })}`);
}
console.log(`\nAll done in ${((Date.now() - overall) / 1000).toFixed(1)} s.`);
