import { eventBridgePublisher } from '../../events/publish.ts';
import { awsClients } from '../shared/aws-clients.ts';
import { reportsStore } from '../shared/stores.ts';
import { readTaskConfig, type TaskConfig } from '../shared/task-config.ts';
import { defineTask, lambdaEntry, type TaskHandler } from '../shared/task-handler.ts';
import { completeTakedown, CompleteInput } from './complete-takedown.ts';

export function createHandler(config: TaskConfig): TaskHandler {
  const clients = awsClients(config);
  const deps = { events: eventBridgePublisher(clients.events, config.eventBus), reports: reportsStore(config, clients), now: () => new Date() };
  return defineTask(
    { name: 'complete-takedown', input: CompleteInput, run: (input) => completeTakedown(input, deps) },
    config,
    clients,
  );
}

export const handler = lambdaEntry(createHandler, () => readTaskConfig(process.env));
