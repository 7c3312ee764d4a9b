import { awsClients } from '../shared/aws-clients.ts';
import { readTaskConfig, type TaskConfig } from '../shared/task-config.ts';
import { defineTask, lambdaEntry, type TaskHandler } from '../shared/task-handler.ts';
import { acceptTakedown, AcceptTakedownInput } from './accept-takedown.ts';

export function createHandler(config: TaskConfig): TaskHandler {
  // Pure validation: safe to repeat, no idempotency record needed.
  return defineTask({ name: 'accept-takedown', input: AcceptTakedownInput, run: async (input) => acceptTakedown(input) }, config, awsClients(config));
}

export const handler = lambdaEntry(createHandler, () => readTaskConfig(process.env));
