import { eventBridgePublisher } from '../../events/publish.ts';
import { awsClients } from '../shared/aws-clients.ts';
import { ObjectStore } from '../shared/object-store.ts';
import { readTaskConfig, type TaskConfig } from '../shared/task-config.ts';
import { defineTask, lambdaEntry, type TaskHandler } from '../shared/task-handler.ts';
import { QuarantineInput, quarantineOriginal } from './quarantine-original.ts';

export function createHandler(config: TaskConfig): TaskHandler {
  const clients = awsClients(config);
  const deps = { originals: new ObjectStore(clients.s3, config.originalsBucket), events: eventBridgePublisher(clients.events, config.eventBus) };
  return defineTask(
    { name: 'quarantine-original', input: QuarantineInput, run: (input) => quarantineOriginal(input, deps) },
    config,
    clients,
  );
}

export const handler = lambdaEntry(createHandler, () => readTaskConfig(process.env));
