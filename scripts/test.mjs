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

const scratch = mkdtempSync(join(tmpdir(), 'pictor-test-'));
const tap = join(scratch, 'report.tap');
const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${tap}`, ...files],
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
  const count = (name) => Number((new RegExp(`^# ${name} (\\d+)$`, 'm').exec(report) ?? [])[1] ?? 0);
  if (code === 0 && count('tests') === 0) {
    console.error('The test runner ran no test: failing the run.');
    process.exit(1);
  }
  process.exit(code ?? (signal ? 1 : 0));
});
