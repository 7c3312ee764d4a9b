import { awsClients } from '../shared/aws-clients.ts';
import { originalsEverywhere, reportsStore, variantsEverywhere } from '../shared/stores.ts';
import { readTaskConfig, type TaskConfig } from '../shared/task-config.ts';
import { defineTask, lambdaEntry, type TaskHandler } from '../shared/task-handler.ts';
import { eraseObjects, EraseInput } from './erase-objects.ts';

export function createHandler(config: TaskConfig): TaskHandler {
  const clients = awsClients(config);
  // Only the pipeline's own buckets, each with a client in its own region: an inventory naming any other is refused.
  const deps = { buckets: [...originalsEverywhere(config, clients), ...variantsEverywhere(config, clients)], reports: reportsStore(config, clients), now: () => new Date() };
  // Deleting is safe to repeat: no idempotency record needed.
  return defineTask({ name: 'erase-objects', input: EraseInput, run: (input) => eraseObjects(input, deps) }, config, clients);
}

export const handler = lambdaEntry(createHandler, () => readTaskConfig(process.env));
