import { storeTenants } from '../shared/store-tenants.ts';
import { awsClients, pipelineStores } from '../shared/aws-clients.ts';
import { readTaskConfig, type TaskConfig } from '../shared/task-config.ts';
import { defineTask, lambdaEntry, type TaskHandler } from '../shared/task-handler.ts';
import { prepareRerender, PrepareInput } from './prepare-rerender.ts';

export function createHandler(config: TaskConfig): TaskHandler {
  const clients = awsClients(config);
  const deps = { ...pipelineStores(config, clients), tenant: storeTenants(config).lookup };
  // Only reads: safe to repeat.
  return defineTask({ name: 'prepare-rerender', input: PrepareInput, run: (input) => prepareRerender(input, deps) }, config, clients);
}

export const handler = lambdaEntry(createHandler, () => readTaskConfig(process.env));
