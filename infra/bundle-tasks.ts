import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bundleHandler, ROOT, taskEntry, type Bundle } from './bundle.ts';
import { TASKS, type TaskName } from '../tasks/registry.ts';

export const TASK_BUNDLES = join(ROOT, 'dist', 'tasks');

export interface TaskBundle extends Bundle {
  readonly task: TaskName;
}

/** Bundles one task (its handler module, tasks/registry.ts) into `{outDir}/{task}/index.mjs`, with `handler` exported. */
export function bundleTask(task: TaskName, outDir = TASK_BUNDLES): TaskBundle {
  return { task, ...bundleHandler({ entry: taskEntry(task), outDir: join(outDir, task) }) };
}

/** Bundles every task the registry declares. */
export function bundleTasks(outDir = TASK_BUNDLES): TaskBundle[] {
  return TASKS.map((task) => bundleTask(task, outDir));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const b of bundleTasks()) console.log(`${b.directory}/index.mjs: ${(b.bytes / 1024).toFixed(0)} KB${b.withSharp ? ' + sharp (linux-x64)' : ''}`);
}
