import { awsClients, pipelineStores } from '../shared/aws-clients.ts';
import { originalsEverywhere } from '../shared/stores.ts';
import { readTaskConfig, type TaskConfig } from '../shared/task-config.ts';
import { defineTask, lambdaEntry, type TaskHandler } from '../shared/task-handler.ts';
import { eraseObjects, EraseInput } from './erase-objects.ts';

export function createHandler(config: TaskConfig): TaskHandler {
  const clients = awsClients(config);
  // Only the pipeline's own buckets: an inventory naming any other is refused.
  const owned = new Map([...originalsEverywhere(config, clients), { store: pipelineStores(config, clients).variants }].map(({ store }) => [store.bucket, store]));
  // Deleting is safe to repeat: no idempotency record needed.
  return defineTask({ name: 'erase-objects', input: EraseInput, run: (input) => eraseObjects(input, { store: (bucket) => owned.get(bucket) }) }, config, clients);
}

export const handler = lambdaEntry(createHandler, () => readTaskConfig(process.env));
