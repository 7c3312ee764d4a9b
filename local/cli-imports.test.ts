import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { importsOf, isBuiltin, ROOT } from '../test/support/import-graph.ts';

describe("the CLI's import graph", () => {
  it('loads runtime dependencies only, so `npx pictor` runs where only those are installed', async () => {
    const manifest = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    const { packages } = await importsOf('local/cli-main.ts');
    const dev = [...packages].filter(([name]) => Object.hasOwn(manifest.devDependencies, name)).map(([name, by]) => `${name} (imported by ${by.join(', ')})`);
    assert.deepEqual(dev, [], 'the CLI imports devDependencies: move what it needs into a module that does not (see local/twin-names.ts)');
    const undeclared = [...packages.keys()].filter((name) => !isBuiltin(name) && !Object.hasOwn(manifest.dependencies, name));
    assert.deepEqual(undeclared, [], 'the CLI imports packages that are not runtime dependencies');
    // A require made at run time (createRequire) is a load this graph cannot see.
    assert.equal(packages.get('node:module'), undefined, 'a module of the CLI loads code with createRequire, which this test cannot follow');
  });

  it('sees a devDependency where one is imported, so the test above can fail', async () => {
    const { packages } = await importsOf('local/s3-server.ts');
    assert.ok(packages.has('s3rver'));
  });
});
