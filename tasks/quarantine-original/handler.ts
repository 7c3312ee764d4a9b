import { eventBridgePublisher } from '../../events/publish.ts';
import { awsClients } from '../shared/aws-clients.ts';
import { S3ObjectStore } from '../shared/s3-object-store.ts';
import { readTaskConfig, type TaskConfig } from '../shared/task-config.ts';
import { defineTask, lambdaEntry, type TaskHandler } from '../shared/task-handler.ts';
import { QuarantineInput, quarantineOriginal } from './quarantine-original.ts';

export function createHandler(config: TaskConfig): TaskHandler {
  const clients = awsClients(config);
  const deps = { originals: new S3ObjectStore(clients.s3, config.originalsBucket), events: eventBridgePublisher(clients.events, config.eventBus) };
  return defineTask(
    { name: 'quarantine-original', input: QuarantineInput, run: (input) => quarantineOriginal(input, deps) },
    config,
    clients,
  );
}

export const handler = lambdaEntry(createHandler, () => readTaskConfig(process.env));
