import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { build } from 'esbuild';

const ROOT = join(import.meta.dirname, '..');

/** 'pkg/sub' and '@scope/pkg/sub' as the package an import loads. */
function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/**
 * Every module the CLI loads at run time, by the file that imports it: the graph
 * esbuild walks from the entry, with packages left unresolved so each import of
 * one is listed as written. Type-only imports are erased as tsx and tsc erase them.
 */
async function importsOf(entry: string): Promise<{ packages: Map<string, string[]>; files: string[] }> {
  const { metafile } = await build({ entryPoints: [join(ROOT, entry)], absWorkingDir: ROOT, bundle: true, write: false, metafile: true, platform: 'node', format: 'esm', packages: 'external', logLevel: 'silent' });
  const packages = new Map<string, string[]>();
  for (const [file, input] of Object.entries(metafile.inputs)) {
    for (const imported of input.imports) {
      if (!imported.external) continue;
      const name = imported.path.startsWith('node:') || builtinModules.includes(imported.path) ? imported.path : packageOf(imported.path);
      packages.set(name, [...(packages.get(name) ?? []), file]);
    }
  }
  return { packages, files: Object.keys(metafile.inputs) };
}

describe("the CLI's import graph", () => {
  it('loads runtime dependencies only, so `npx pictor` runs where only those are installed', async () => {
    const manifest = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    const { packages } = await importsOf('local/cli-main.ts');
    const dev = [...packages].filter(([name]) => Object.hasOwn(manifest.devDependencies, name)).map(([name, by]) => `${name} (imported by ${by.join(', ')})`);
    assert.deepEqual(dev, [], 'the CLI imports devDependencies: move what it needs into a module that does not (see local/twin-names.ts)');
    const undeclared = [...packages.keys()].filter((name) => !name.startsWith('node:') && !builtinModules.includes(name) && !Object.hasOwn(manifest.dependencies, name));
    assert.deepEqual(undeclared, [], 'the CLI imports packages that are not runtime dependencies');
    // A require made at run time (createRequire) is a load this graph cannot see.
    assert.equal(packages.get('node:module'), undefined, 'a module of the CLI loads code with createRequire, which this test cannot follow');
  });

  it('sees a devDependency where one is imported, so the test above can fail', async () => {
    const { packages } = await importsOf('local/s3-server.ts');
    assert.ok(packages.has('s3rver'));
  });
});
