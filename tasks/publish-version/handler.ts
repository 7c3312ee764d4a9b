import { eventBridgePublisher } from '../../events/publish.ts';
import { awsClients, pipelineStores } from '../shared/aws-clients.ts';
import { variantsEverywhere } from '../shared/stores.ts';
import { readTaskConfig, type TaskConfig } from '../shared/task-config.ts';
import { defineTask, lambdaEntry, type TaskHandler } from '../shared/task-handler.ts';
import { PublishInput, publishVersion, type PublishDeps } from './publish-version.ts';

export function createHandler(config: TaskConfig): TaskHandler {
  const clients = awsClients(config);
  const { originals, versions } = pipelineStores(config, clients);
  const [primary, ...failovers] = variantsEverywhere(config, clients);
  const deps: PublishDeps = {
    originals,
    versions,
    variants: [primary.store, ...failovers.map((f) => f.store)],
    events: eventBridgePublisher(clients.events, config.eventBus),
  };
  return defineTask(
    { name: 'publish-version', input: PublishInput, run: (input) => publishVersion(input, deps) },
    config,
    clients,
  );
}

export const handler = lambdaEntry(createHandler, () => readTaskConfig(process.env));
