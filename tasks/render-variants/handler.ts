import { awsClients, pipelineStores } from '../shared/aws-clients.ts';
import { readTaskConfig, type TaskConfig } from '../shared/task-config.ts';
import { defineTask, lambdaEntry, type TaskHandler } from '../shared/task-handler.ts';
import { storeTenants } from '../shared/store-tenants.ts';
import { RenderInput, renderVariants } from './render-variants.ts';

export function createHandler(config: TaskConfig): TaskHandler {
  const clients = awsClients(config);
  const deps = {
    ...pipelineStores(config, clients),
    tenant: storeTenants(config).lookup,
    limits: config.limits,
  };
  return defineTask(
    { name: 'render-variants', input: RenderInput, run: (upload) => renderVariants(upload, deps) },
    config,
    clients,
  );
}

export const handler = lambdaEntry(createHandler, () => readTaskConfig(process.env));
