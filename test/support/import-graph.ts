import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { build } from 'esbuild';

export const ROOT = join(import.meta.dirname, '..', '..');

/** 'pkg/sub' and '@scope/pkg/sub' as the package an import loads. */
export function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** Whether a specifier names one of Node's own modules. */
export function isBuiltin(name: string): boolean {
  return name.startsWith('node:') || builtinModules.includes(name);
}

/**
 * Every module an entry loads at run time: the graph esbuild walks from it, with
 * packages left unresolved so each import of one is listed as written, by the
 * files that import it. Type-only imports are erased as tsx and tsc erase them.
 */
export async function importsOf(entry: string): Promise<{ packages: Map<string, string[]>; files: string[] }> {
  const { metafile } = await build({ entryPoints: [join(ROOT, entry)], absWorkingDir: ROOT, bundle: true, write: false, metafile: true, platform: 'node', format: 'esm', packages: 'external', logLevel: 'silent' });
  const packages = new Map<string, string[]>();
  for (const [file, input] of Object.entries(metafile.inputs)) {
    for (const imported of input.imports) {
      if (!imported.external) continue;
      const name = isBuiltin(imported.path) ? imported.path : packageOf(imported.path);
      packages.set(name, [...(packages.get(name) ?? []), file]);
    }
  }
  return { packages, files: Object.keys(metafile.inputs) };
}
