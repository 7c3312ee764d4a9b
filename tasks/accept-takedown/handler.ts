import { awsClients } from '../shared/aws-clients.ts';
import { reportsStore } from '../shared/stores.ts';
import { readTaskConfig, type TaskConfig } from '../shared/task-config.ts';
import { defineTask, lambdaEntry, type TaskHandler } from '../shared/task-handler.ts';
import { acceptTakedown, AcceptTakedownInput } from './accept-takedown.ts';

export function createHandler(config: TaskConfig): TaskHandler {
  const clients = awsClients(config);
  const deps = { reports: reportsStore(config, clients), now: () => new Date() };
  // A repeat writes the same items to the same key: no idempotency record needed.
  return defineTask({ name: 'accept-takedown', input: AcceptTakedownInput, run: (input) => acceptTakedown(input, deps) }, config, clients);
}

export const handler = lambdaEntry(createHandler, () => readTaskConfig(process.env));
