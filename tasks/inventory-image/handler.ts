import { storeTenants } from '../shared/store-tenants.ts';
import { awsClients, pipelineStores } from '../shared/aws-clients.ts';
import { originalsEverywhere, reportsStore, variantsEverywhere } from '../shared/stores.ts';
import { readTaskConfig, type TaskConfig } from '../shared/task-config.ts';
import { defineTask, lambdaEntry, type TaskHandler } from '../shared/task-handler.ts';
import { inventoryImage, InventoryInput } from './inventory-image.ts';

export function createHandler(config: TaskConfig): TaskHandler {
  const clients = awsClients(config);
  const stores = pipelineStores(config, clients);
  const deps = {
    versions: stores.versions,
    originals: originalsEverywhere(config, clients),
    variants: variantsEverywhere(config, clients),
    tenant: storeTenants(config).lookup,
    reports: reportsStore(config, clients),
  };
  return defineTask(
    {
      name: 'inventory-image',
      input: InventoryInput,
      run: (input) => inventoryImage(input, deps),
    },
    config,
    clients,
  );
}

export const handler = lambdaEntry(createHandler, () => readTaskConfig(process.env));
