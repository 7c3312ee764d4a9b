import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { handlerModule, isTaskName, TASK_ENVIRONMENT, TASK_REGISTRY, TASKS } from './registry.ts';

const TASKS_DIR = fileURLToPath(new URL('.', import.meta.url));
/** Folders under tasks/ that hold code the tasks share (and the ports they depend on), not a task. */
const NOT_TASKS = ['shared', 'ports'];

describe('the task registry', () => {
  it('declares every task folder, and no task without one', () => {
    const folders = readdirSync(TASKS_DIR, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && !NOT_TASKS.includes(entry.name))
      .map((entry) => entry.name);
    assert.deepEqual([...TASKS].sort(), folders.sort(), 'each folder under tasks/ is one entry in tasks/registry.ts, and each entry has its folder');
    for (const task of TASKS) assert.ok(existsSync(handlerModule(task)), `tasks/${task}/handler.ts exists`);
  });

  it("has each handler name its task as the registry does: the task's idempotency key and log service come from that name", () => {
    for (const task of TASKS) {
      const source = readFileSync(handlerModule(task), 'utf8');
      assert.match(source, new RegExp(`name: '${task}'`), `tasks/${task}/handler.ts defines its task as '${task}'`);
      assert.doesNotMatch(source, /idempotencyKey:/, `tasks/${task}/handler.ts leaves its idempotency key to the registry`);
    }
  });

  it('names only variables the task configuration reads, and sizes every function within Lambda quotas', () => {
    const config = readFileSync(new URL('./shared/task-config.ts', import.meta.url), 'utf8');
    for (const name of TASK_ENVIRONMENT) assert.ok(config.includes(`env.${name}`) || config.includes(`'${name}'`), `tasks/shared/task-config.ts reads ${name}`);
    // 128 MB to 10,240 MB, and at most 900 seconds. https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
    for (const task of TASKS) {
      const { memoryMiB, timeoutSeconds, environment } = TASK_REGISTRY[task];
      assert.ok(Number.isInteger(memoryMiB) && memoryMiB >= 128 && memoryMiB <= 10_240, `${task}: memory ${memoryMiB}`);
      assert.ok(Number.isInteger(timeoutSeconds) && timeoutSeconds >= 1 && timeoutSeconds <= 900, `${task}: timeout ${timeoutSeconds}`);
      assert.equal(new Set(environment).size, environment.length, `${task} names each variable once`);
    }
  });

  it('tells a task name from anything else', () => {
    assert.equal(isTaskName('render-variants'), true);
    assert.equal(isTaskName('shared'), false);
    assert.equal(isTaskName('toString'), false);
  });
});
