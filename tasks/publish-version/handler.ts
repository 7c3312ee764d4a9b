import { eventBridgePublisher } from '../../events/publish.ts';
import { awsClients, pipelineStores } from '../shared/aws-clients.ts';
import { readTaskConfig, type TaskConfig } from '../shared/task-config.ts';
import { defineTask, lambdaEntry, type TaskHandler } from '../shared/task-handler.ts';
import { PublishInput, publishVersion } from './publish-version.ts';

export function createHandler(config: TaskConfig): TaskHandler {
  const clients = awsClients(config);
  const deps = {
    ...pipelineStores(config, clients),
    events: eventBridgePublisher(clients.events, config.eventBus),
  };
  return defineTask(
    { name: 'publish-version', input: PublishInput, run: (input) => publishVersion(input, deps), idempotencyKey: 'input.idempotencyKey' },
    config,
    clients,
  );
}

export const handler = lambdaEntry(createHandler, () => readTaskConfig(process.env));
