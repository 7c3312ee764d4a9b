import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { importsOf, isBuiltin, ROOT } from '../test/support/import-graph.ts';

interface Manifest {
  readonly exports: Readonly<Record<string, string | { readonly default: string }>>;
  readonly dependencies: Readonly<Record<string, string>>;
  readonly peerDependencies: Readonly<Record<string, string>>;
}

const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Manifest;

/** Each code entry of the exports map, as the source module it is built from: `./lib/x/y.js` is `x/y.ts`. */
const ENTRIES = Object.entries(manifest.exports)
  .filter((entry): entry is [string, { default: string }] => typeof entry[1] === 'object')
  .map(([subpath, target]) => ({ subpath, source: target.default.replace(/^\.\/lib\//, '').replace(/\.js$/, '.ts') }));

describe("the package's entries", () => {
  it('are the main entry and its subpaths, each built from a source module', () => {
    assert.deepEqual(ENTRIES.map((e) => e.subpath).sort(), ['.', './client', './events', './signer', './tenant-config']);
  });

  for (const { subpath, source } of ENTRIES) {
    it(`${subpath} loads only what the package declares it needs (${source})`, async () => {
      const { packages } = await importsOf(source);
      const declared = (name: string) => isBuiltin(name) || Object.hasOwn(manifest.dependencies, name) || Object.hasOwn(manifest.peerDependencies, name);
      assert.deepEqual([...packages].filter(([name]) => !declared(name)).map(([name, by]) => `${name} (imported by ${by.join(', ')})`), []);
    });
  }

  it("does not load sharp when an app imports the construct: synth, not import, needs Lambda's build of it", async () => {
    const { packages, files } = await importsOf('infra/index.ts');
    assert.equal(packages.get('sharp'), undefined, `sharp is imported by ${packages.get('sharp')?.join(', ')}`);
    assert.ok(!files.includes('imaging/render.ts'));
    // The check sees sharp where it is imported, so it can fail.
    assert.ok((await importsOf('edge-fallback/origin-request/handler.ts')).packages.has('sharp'));
  });
});
