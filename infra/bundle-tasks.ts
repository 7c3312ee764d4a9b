import { cp, mkdir, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { TASKS, type TaskName } from './pipeline.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const TASK_BUNDLES = join(root, 'dist', 'tasks');

/**
 * sharp loads a native binary; it is shipped beside the bundle, not inside it.
 * Lambda runs linux-x64 (the functions' architecture), whatever this machine is.
 * https://sharp.pixelplumbing.com/install#aws-lambda
 */
const SHARP_RUNTIME = ['sharp', '@img/colour', '@img/sharp-linux-x64', '@img/sharp-libvips-linux-x64', 'detect-libc', 'semver'];

export interface TaskBundle {
  readonly task: TaskName;
  readonly directory: string;
  readonly bytes: number;
  readonly withSharp: boolean;
}

/**
 * Bundles one task with the locally installed esbuild (no Docker): its handler
 * and every dependency, the AWS SDK included, so what was tested is what runs,
 * into `dist/tasks/{task}/index.mjs` with `handler` exported.
 */
export async function bundleTask(task: TaskName, outDir = TASK_BUNDLES): Promise<TaskBundle> {
  const directory = join(outDir, task);
  await rm(directory, { recursive: true, force: true });
  const result = await build({
    entryPoints: [join(root, 'tasks', task, 'handler.ts')],
    outfile: join(directory, 'index.mjs'),
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
    // Bundled CommonJS dependencies still call require().
    banner: { js: "import { createRequire as __pictorRequire } from 'node:module'; const require = __pictorRequire(import.meta.url);" },
  });
  const output = Object.values(result.metafile.outputs).find((o) => o.entryPoint);
  const withSharp = output?.imports.some((i) => i.path === 'sharp' && i.external) ?? false;
  if (withSharp) {
    for (const name of SHARP_RUNTIME) {
      const source = join(root, 'node_modules', name);
      if (!(await stat(source).catch(() => null))) {
        throw new Error(`Task ${task} needs ${name} for Lambda's linux-x64, but it is not installed here. Run: npm install --os=linux --cpu=x64 sharp`);
      }
      await cp(source, join(directory, 'node_modules', name), { recursive: true });
    }
  }
  return { task, directory, bytes: (await stat(join(directory, 'index.mjs'))).size, withSharp };
}

export async function bundleTasks(outDir = TASK_BUNDLES): Promise<TaskBundle[]> {
  await mkdir(outDir, { recursive: true });
  const bundles: TaskBundle[] = [];
  for (const task of TASKS) bundles.push(await bundleTask(task, outDir));
  return bundles;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const b of await bundleTasks()) console.log(`${b.directory}/index.mjs: ${(b.bytes / 1024).toFixed(0)} KB${b.withSharp ? ' + sharp (linux-x64)' : ''}`);
}
