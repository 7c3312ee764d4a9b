import { eventBridgePublisher } from '../../events/publish.ts';
import { awsClients } from '../shared/aws-clients.ts';
import { readTaskConfig, type TaskConfig } from '../shared/task-config.ts';
import { defineTask, lambdaEntry, type TaskHandler } from '../shared/task-handler.ts';
import { completeRerender, CompleteRerenderInput } from './complete-rerender.ts';

export function createHandler(config: TaskConfig): TaskHandler {
  const clients = awsClients(config);
  const deps = { events: eventBridgePublisher(clients.events, config.eventBus) };
  return defineTask(
    { name: 'complete-rerender', input: CompleteRerenderInput, run: (input) => completeRerender(input, deps), idempotencyKey: 'input.job.jobId' },
    config,
    clients,
  );
}

export const handler = lambdaEntry(createHandler, () => readTaskConfig(process.env));
