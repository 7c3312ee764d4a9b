// Runs every *.test.ts with node's test runner (through tsx) and fails the run
// when no test file is found or no test ran: on node 20 the runner exits 0 on an
// empty run, and a shell glob that matches nothing passes silently.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOTS = ['core', 'imaging', 'signer', 'storage', 'tenant-store', 'edge-fallback', 'local', 'tasks', 'workflows', 'events', 'infra', 'bench', 'test'];

function findTests(dir) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : findTests(path);
    return entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

const filter = process.argv.slice(2);
const files = ROOTS.flatMap(findTests)
  .filter((file) => filter.length === 0 || filter.some((f) => file.includes(f)))
  .sort();
if (files.length === 0) {
  console.error('No test files found: refusing to report an empty run as a pass.');
  process.exit(1);
}

/**
 * Files that load the machine on their own (a marker comment, `test-runner: alone`) run first, one at a
 * time; the rest run two at a time: the twin's tests spend much of their time waiting on timers and
 * sockets, so two share a 2-core machine well (node's default there is one: availableParallelism() - 1).
 */
const ALONE = 'test-runner: alone';
const alone = files.filter((file) => readFileSync(file, 'utf8').slice(0, 2000).includes(ALONE));
const together = files.filter((file) => !alone.includes(file));

function run(batch, concurrency) {
  const scratch = mkdtempSync(join(tmpdir(), 'pictor-test-'));
  const tap = join(scratch, 'report.tap');
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${tap}`, ...batch],
      {
        stdio: 'inherit',
        env: {
          ...process.env,
          // s3rver answers a truncated ListObjectsV2 with 500 without the legacy provider (shared/LOCAL_STACK.md).
          NODE_OPTIONS: [process.env.NODE_OPTIONS, '--openssl-legacy-provider'].filter(Boolean).join(' '),
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          // Tests inject failures on purpose: show the tasks' errors, not their expected retries.
          POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'ERROR',
        },
      },
    );
    child.on('exit', (code, signal) => {
      const report = readFileSync(tap, 'utf8');
      rmSync(scratch, { recursive: true, force: true });
      const tests = Number((/^# tests (\d+)$/m.exec(report) ?? [])[1] ?? 0);
      resolve({ code: code ?? (signal ? 1 : 0), tests });
    });
  });
}

const results = [];
if (alone.length > 0) results.push(await run(alone, 1));
if (together.length > 0) results.push(await run(together, 2));
const failed = results.find((r) => r.code !== 0);
if (failed) process.exit(failed.code);
if (results.reduce((sum, r) => sum + r.tests, 0) === 0) {
  console.error('The test runner ran no test: failing the run.');
  process.exit(1);
}
const tests = results.reduce((sum, r) => sum + r.tests, 0);
console.log(`\nAll ${tests} tests passed (${alone.length} file(s) alone, ${together.length} two at a time).`);
