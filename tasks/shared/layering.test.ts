import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * The tasks' shape (HOUSE_STYLE.md): each task folder holds its use-case
 * (`<verb-noun>.ts`), its unit test and its wiring (`handler.ts`). A use-case
 * takes its dependencies as ports and reaches no SDK, neither directly nor
 * through anything it imports; ports are types only.
 */
const TASKS = dirname(dirname(fileURLToPath(import.meta.url)));
const ROOT = dirname(TASKS);
const NOT_TASKS = new Set(['shared', 'ports']);
const SDKS = /^@aws-sdk\/|^@aws-lambda-powertools\//;

/** The modules a file loads when it runs: its imports and re-exports, less those only of types. */
function runtimeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const match of text.matchAll(/^\s*(import|export)\s+(type\s+)?(?:[^'"]*?\s+from\s+)?['"]([^'"]+)['"]/gm)) {
    if (!match[2]) found.push(match[3]!);
  }
  return found;
}

/** Every bare package the file reaches through relative imports, with the path that reaches it. */
function reachedPackages(entry: string): Map<string, string[]> {
  const packages = new Map<string, string[]>();
  const seen = new Set<string>();
  const visit = (file: string, trail: string[]) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const specifier of runtimeImports(file)) {
      if (specifier.startsWith('.')) visit(resolve(dirname(file), specifier), [...trail, relative(ROOT, file)]);
      else if (!packages.has(specifier)) packages.set(specifier, [...trail, relative(ROOT, file)]);
    }
  };
  visit(entry, []);
  return packages;
}

const tasks = readdirSync(TASKS, { withFileTypes: true }).filter((e) => e.isDirectory() && !NOT_TASKS.has(e.name)).map((e) => e.name).sort();

describe('The tasks\' layering', () => {
  it('gives every task a use-case, a unit test of its own and a handler', () => {
    assert.ok(tasks.length >= 18, `found ${tasks.length} tasks`);
    for (const task of tasks) {
      for (const file of [`${task}.ts`, `${task}.test.ts`, 'handler.ts']) assert.ok(existsSync(join(TASKS, task, file)), `tasks/${task}/${file} is missing`);
    }
  });

  it('keeps every SDK out of every use-case, directly or through what it imports', () => {
    for (const task of tasks) {
      for (const [pkg, trail] of reachedPackages(join(TASKS, task, `${task}.ts`))) {
        assert.doesNotMatch(pkg, SDKS, `tasks/${task}/${task}.ts reaches ${pkg} through ${trail.join(' → ')}: take it as a port (tasks/ports) instead`);
      }
    }
  });

  it('keeps the ports to types: a port loads nothing when it runs', () => {
    for (const port of readdirSync(join(TASKS, 'ports')).filter((f) => f.endsWith('.ts'))) {
      assert.deepEqual(runtimeImports(join(TASKS, 'ports', port)), [], `tasks/ports/${port}`);
    }
  });

  it('sees through a file that reaches an SDK (the check itself can fail)', () => {
    const packages = reachedPackages(join(TASKS, 'invalidate-image', 'handler.ts'));
    assert.ok([...packages.keys()].some((p) => SDKS.test(p)), [...packages.keys()].join(', '));
  });
});
