import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import { PictorError } from '../core/errors.ts';
import { handlerModule, type TaskName } from '../tasks/registry.ts';

/** The source tree's root, or the built package's (`lib/`). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * sharp loads a native binary; it is shipped beside the bundle, not inside it.
 * Lambda and Lambda@Edge run linux-x64 with glibc (the functions' architecture),
 * whatever this machine is: sharp's package for that platform is an optional
 * dependency, installed on other machines as sharp documents for cross-platform
 * installs. https://sharp.pixelplumbing.com/install#cross-platform
 * https://sharp.pixelplumbing.com/install#aws-lambda
 */
const LAMBDA_PLATFORM = { os: 'linux', cpu: 'x64', libc: 'glibc' } as const;
const SHARP_INSTALL = `npm install --os=${LAMBDA_PLATFORM.os} --cpu=${LAMBDA_PLATFORM.cpu} --libc=${LAMBDA_PLATFORM.libc} sharp`;

interface PackageManifest {
  readonly name: string;
  readonly os?: readonly string[];
  readonly cpu?: readonly string[];
  readonly libc?: readonly string[];
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly optionalDependencies?: Readonly<Record<string, string>>;
}

/** Whether a package may run on Lambda's platform: npm's `os`, `cpu` and `libc` fields, as npm reads them. */
function runsOnLambda(manifest: PackageManifest): boolean {
  const allows = (list: readonly string[] | undefined, value: string) =>
    list === undefined || (!list.includes(`!${value}`) && (list.includes(value) || list.every((entry) => entry.startsWith('!'))));
  return allows(manifest.os, LAMBDA_PLATFORM.os) && allows(manifest.cpu, LAMBDA_PLATFORM.cpu) && allows(manifest.libc, LAMBDA_PLATFORM.libc);
}

/**
 * The directories of sharp and of every package it loads on Lambda's platform,
 * each resolved from the package that depends on it, as Node resolves it: so
 * they are found wherever npm put them (hoisted into an app's node_modules, or
 * nested under pictor's). Optional dependencies for other platforms are skipped;
 * a missing one for Lambda's platform is an error that says how to install it.
 */
export function sharpRuntime(from: string = fileURLToPath(import.meta.url)): Map<string, string> {
  const found = new Map<string, string>();
  const visit = (name: string, requiredBy: string, optional: boolean) => {
    if (found.has(name)) return;
    const manifestPath = findManifest(name, requiredBy);
    if (manifestPath === undefined) {
      if (optional) return;
      throw missingSharp(name);
    }
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as PackageManifest;
    if (!runsOnLambda(manifest)) return;
    found.set(name, dirname(manifestPath));
    for (const dependency of Object.keys(manifest.dependencies ?? {})) visit(dependency, manifestPath, false);
    for (const dependency of Object.keys(manifest.optionalDependencies ?? {})) visit(dependency, manifestPath, true);
  };
  visit('sharp', from, false);
  const binary = `@img/sharp-${LAMBDA_PLATFORM.os}-${LAMBDA_PLATFORM.cpu}`;
  if (!found.has(binary)) throw missingSharp(binary);
  return found;
}

/**
 * A package's package.json as Node's lookup finds it from a module: the nearest
 * node_modules upwards. (Not `require.resolve('x/package.json')`: sharp's
 * `exports` does not export it.) https://nodejs.org/api/modules.html#loading-from-node_modules-folders
 */
function findManifest(name: string, from: string): string | undefined {
  for (const directory of createRequire(from).resolve.paths(name) ?? []) {
    const manifest = join(directory, name, 'package.json');
    if (existsSync(manifest)) return manifest;
  }
  return undefined;
}

function missingSharp(name: string): PictorError {
  return new PictorError(
    'InvalidConfig',
    `Bundling a function for Lambda (${LAMBDA_PLATFORM.os}-${LAMBDA_PLATFORM.cpu}) needs ${name}, which is not installed. ` +
      `In your app, run: ${SHARP_INSTALL} (https://sharp.pixelplumbing.com/install#cross-platform)`,
  );
}

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
  /**
   * Whether to write `index.mjs.map` beside the bundle. A task's map is about
   * four times its code, so it is left out unless asked for.
   * @default false
   */
  readonly sourceMap?: boolean;
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
    sourcemap: options.sourceMap === true ? 'linked' : false,
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
    for (const [name, source] of sharpRuntime()) cpSync(source, join(options.outDir, 'node_modules', name), { recursive: true });
  }
  return { directory: options.outDir, bytes: statSync(outfile).size, withSharp };
}
