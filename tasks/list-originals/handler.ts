import { awsClients, pipelineStores } from '../shared/aws-clients.ts';
import { readTaskConfig, type TaskConfig } from '../shared/task-config.ts';
import { defineTask, lambdaEntry, type TaskHandler } from '../shared/task-handler.ts';
import { listOriginals, ListInput } from './list-originals.ts';

export function createHandler(config: TaskConfig): TaskHandler {
  const clients = awsClients(config);
  const deps = { originals: pipelineStores(config, clients).originals };
  // Only reads: safe to repeat.
  return defineTask({ name: 'list-originals', input: ListInput, run: (input) => listOriginals(input, deps) }, config, clients);
}

export const handler = lambdaEntry(createHandler, () => readTaskConfig(process.env));
