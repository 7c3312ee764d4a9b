import { cpSync, existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import { PictorError } from '../core/errors.ts';
import { handlerModule, type TaskName } from '../tasks/registry.ts';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * sharp loads a native binary; it is shipped beside the bundle, not inside it.
 * Lambda and Lambda@Edge run linux-x64 (the functions' architecture), whatever this machine is.
 * https://sharp.pixelplumbing.com/install#aws-lambda
 */
const SHARP_RUNTIME = ['sharp', '@img/colour', '@img/sharp-linux-x64', '@img/sharp-libvips-linux-x64', 'detect-libc', 'semver'];

/** The handler module of a task, as the task registry names it. */
export function taskEntry(task: TaskName): string {
  return fileURLToPath(handlerModule(task));
}

export interface BundleOptions {
  /** The handler module, exporting `handler`. */
  readonly entry: string;
  /** Where `index.mjs` goes; emptied first. */
  readonly outDir: string;
  /** Identifiers replaced by JSON at build time: how Lambda@Edge, which has no environment variables, gets its configuration. */
  readonly define?: Readonly<Record<string, unknown>>;
  /** Environment variables the bundle sets for itself as it loads, unless the function's environment has them. */
  readonly environment?: Readonly<Record<string, string>>;
}

export interface Bundle {
  readonly directory: string;
  /** The size of index.mjs. */
  readonly bytes: number;
  /** Whether sharp's linux-x64 runtime was copied beside it. */
  readonly withSharp: boolean;
}

/**
 * Bundles a handler with the locally installed esbuild (no Docker): the handler
 * and every dependency, the AWS SDK included, so what was tested is what runs,
 * into `{outDir}/index.mjs`. Synchronous, because CDK's local bundling is.
 */
export function bundleHandler(options: BundleOptions): Bundle {
  rmSync(options.outDir, { recursive: true, force: true });
  mkdirSync(options.outDir, { recursive: true });
  const outfile = join(options.outDir, 'index.mjs');
  const result = buildSync({
    entryPoints: [options.entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    external: ['sharp'],
    minify: true,
    sourcemap: 'linked',
    metafile: true,
    legalComments: 'none',
    logLevel: 'error',
    define: Object.fromEntries(Object.entries(options.define ?? {}).map(([name, value]) => [name, JSON.stringify(value)])),
    // Bundled CommonJS dependencies still call require().
    banner: {
      js: [
        "import { createRequire as __pictorRequire } from 'node:module'; const require = __pictorRequire(import.meta.url);",
        ...Object.entries(options.environment ?? {}).map(([name, value]) => `process.env[${JSON.stringify(name)}] ??= ${JSON.stringify(value)};`),
      ].join('\n'),
    },
  });
  const output = Object.values(result.metafile.outputs).find((o) => o.entryPoint);
  const withSharp = output?.imports.some((i) => i.path === 'sharp' && i.external) ?? false;
  if (withSharp) {
    for (const name of SHARP_RUNTIME) {
      const source = join(ROOT, 'node_modules', name);
      if (!existsSync(source)) {
        throw new PictorError('InvalidConfig', `${options.entry} needs ${name} for Lambda's linux-x64, but it is not installed here. Run: npm install --os=linux --cpu=x64 sharp`);
      }
      cpSync(source, join(options.outDir, 'node_modules', name), { recursive: true });
    }
  }
  return { directory: options.outDir, bytes: statSync(outfile).size, withSharp };
}
