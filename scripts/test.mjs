// Runs every *.test.ts with node's test runner (through tsx) and fails the run
// when no test file is found or no test ran: on node 20 the runner exits 0 on an
// empty run, and a shell glob that matches nothing passes silently.
//
//   node scripts/test.mjs [path substring ...]         every test file, or those whose path holds one of the substrings
//   node scripts/test.mjs --unit [path substring ...]  the unit suite only (`npm run test:unit`), see isUnitTest
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const ROOTS = ['client', 'control-api', 'core', 'imaging', 'signer', 'storage', 'tenant-store', 'edge-fallback', 'local', 'tasks', 'workflows', 'events', 'infra', 'bench', 'test'];

/**
 * The unit suite, which answers in seconds: the pure domain (core/), the tasks'
 * use-cases (tasks/), the state machines' state JSON (workflows/), the event schemas
 * (events/), and the CloudFront Functions' case tables against their built bundles
 * (edge-fallback/viewer-request, edge-fallback/viewer-response). Of those, a file that
 * starts a server (the twin, s3rver, dynalite, the local pipeline) is not a unit test:
 * it runs in the full suite only. Measured per file on this 2-core machine: a unit
 * file costs about 0.6 s of CPU, most of it starting node with tsx (hence groupEntries),
 * a workflow's state tests 2-3 s (one synth); a twin or server start adds seconds, and
 * the whole-app synths in infra/ take 10 s to minutes.
 */
const UNIT_ROOTS = ['client/', 'control-api/', 'core/', 'local/cli-', 'local/api-client', 'local/progress', 'local/settings', 'infra/package-entries', 'tasks/', 'workflows/', 'events/', 'edge-fallback/viewer-request/', 'edge-fallback/viewer-response/'];
const STARTS_A_SERVER = /\b(startTwin|startLocalS3|startLocalDynamoDB|startLocalPipeline|useTwin)\b|from '(s3rver|dynalite)'/;

function isUnitTest(file) {
  const path = relative(ROOT, file).split('\\').join('/');
  return UNIT_ROOTS.some((root) => path.startsWith(root)) && !STARTS_A_SERVER.test(readFileSync(file, 'utf8'));
}

/**
 * Each file's wall time in seconds at its last recorded run (`--record-durations`
 * rewrites it after a run): the runner starts the longest files first, so that the
 * slowest one is not the last to start while the other core idles. A file it does not
 * know counts as UNKNOWN_SECONDS: ahead of the quick unit files, behind the known-slow ones.
 */
const DURATIONS_FILE = join(ROOT, 'scripts', 'test-durations.json');
const UNKNOWN_SECONDS = 20;
const durations = existsSync(DURATIONS_FILE) ? JSON.parse(readFileSync(DURATIONS_FILE, 'utf8')) : {};
const secondsOf = (file) => durations[relative(ROOT, file).split('\\').join('/')] ?? UNKNOWN_SECONDS;
const longestFirst = (a, b) => secondsOf(b) - secondsOf(a) || a.localeCompare(b);

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

const args = process.argv.slice(2);
const unit = args.includes('--unit');
const record = args.includes('--record-durations');
const filter = args.filter((arg) => !arg.startsWith('--'));
const files = ROOTS.flatMap((root) => findTests(join(ROOT, root)))
  .map((file) => relative(process.cwd(), file))
  .filter((file) => filter.length === 0 || filter.some((f) => file.includes(f)))
  .filter((file) => !unit || isUnitTest(file))
  .sort(longestFirst);
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

/**
 * The unit suite's files, in `groups` entry modules that import them: one process per core
 * instead of one per file, since starting node with tsx costs more CPU (about 0.6 s) than
 * most unit files' tests. The files share their group's process, so a unit test file keeps
 * its hooks inside its describe blocks and leaves no global state behind. Each group gets
 * the next-longest file while it is the shortest so far, so the groups end together.
 */
function groupEntries(files, groups, scratch) {
  const bins = Array.from({ length: groups }, () => ({ seconds: 0, files: [] }));
  for (const file of files) {
    const bin = bins.reduce((least, b) => (b.seconds < least.seconds ? b : least));
    bin.files.push(file);
    bin.seconds += secondsOf(file);
  }
  return bins
    .filter((bin) => bin.files.length > 0)
    .map((bin, i) => {
      const entry = join(scratch, `unit-${i + 1}.test.mjs`);
      writeFileSync(entry, bin.files.map((file) => `import ${JSON.stringify(pathToFileURL(resolve(file)).href)};\n`).join(''));
      return entry;
    });
}

function run(batch, concurrency, { grouped = false } = {}) {
  const scratch = mkdtempSync(join(tmpdir(), 'pictor-test-'));
  const tap = join(scratch, 'report.tap');
  const times = join(scratch, 'times.json');
  if (grouped) batch = groupEntries(batch, concurrency, scratch);
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${tap}`, `--test-reporter=${join(ROOT, 'scripts', 'file-times-reporter.mjs')}`, `--test-reporter-destination=${times}`, ...batch],
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
      const seconds = existsSync(times) ? JSON.parse(readFileSync(times, 'utf8') || '{}') : {};
      rmSync(scratch, { recursive: true, force: true });
      const tests = Number((/^# tests (\d+)$/m.exec(report) ?? [])[1] ?? 0);
      resolve({ code: code ?? (signal ? 1 : 0), tests, seconds });
    });
  });
}

// The unit files start no server and wait on nothing: they run in one process per core
// (groupEntries), in the full run as in the unit suite; the rest one process per file.
const units = together.filter(isUnitTest);
const others = together.filter((file) => !units.includes(file));
const results = [];
if (alone.length > 0) results.push(await run(alone, 1));
if (units.length > 0) results.push(await run(units, Math.max(2, availableParallelism()), { grouped: true }));
if (others.length > 0) results.push(await run(others, 2));
const seconds = Object.fromEntries(results.flatMap((r) => Object.entries(r.seconds)).map(([file, s]) => [relative(ROOT, file).split('\\').join('/'), s]).filter(([file]) => !file.startsWith('..')));
const slowest = Object.entries(seconds).sort(([, a], [, b]) => b - a).slice(0, 8);
if (slowest.length > 0) console.log(`\nSlowest files: ${slowest.map(([file, s]) => `${file} ${s} s`).join(', ')}`);
if (record) {
  writeFileSync(DURATIONS_FILE, `${JSON.stringify({ ...durations, ...seconds }, Object.keys({ ...durations, ...seconds }).sort(), 2)}\n`);
  console.log(`Recorded ${Object.keys(seconds).length} files' times in ${relative(process.cwd(), DURATIONS_FILE)}.`);
}
const failed = results.find((r) => r.code !== 0);
if (failed) process.exit(failed.code);
if (results.reduce((sum, r) => sum + r.tests, 0) === 0) {
  console.error('The test runner ran no test: failing the run.');
  process.exit(1);
}
const tests = results.reduce((sum, r) => sum + r.tests, 0);
console.log(`\nAll ${tests} tests passed (${alone.length} file(s) alone, ${units.length} in one process per core, ${others.length} two at a time).`);
