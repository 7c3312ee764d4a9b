import { eventBridgePublisher } from '../../events/publish.ts';
import { awsClients } from '../shared/aws-clients.ts';
import { originalsEverywhere } from '../shared/stores.ts';
import { readTaskConfig, type TaskConfig } from '../shared/task-config.ts';
import { defineTask, lambdaEntry, type TaskHandler } from '../shared/task-handler.ts';
import { DiscardInput, discardUpload } from './discard-upload.ts';

export function createHandler(config: TaskConfig): TaskHandler {
  const clients = awsClients(config);
  const deps = { originals: originalsEverywhere(config, clients), events: eventBridgePublisher(clients.events, config.eventBus) };
  // Erasing is safe to repeat, and the event is delivered at least once anyway.
  return defineTask({ name: 'discard-upload', input: DiscardInput, run: (input) => discardUpload(input, deps) }, config, clients);
}

export const handler = lambdaEntry(createHandler, () => readTaskConfig(process.env));
