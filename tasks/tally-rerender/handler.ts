import { awsClients } from '../shared/aws-clients.ts';
import { readTaskConfig, type TaskConfig } from '../shared/task-config.ts';
import { defineTask, lambdaEntry, type TaskHandler } from '../shared/task-handler.ts';
import { tallyRerender, TallyInput } from './tally-rerender.ts';

export function createHandler(config: TaskConfig): TaskHandler {
  // Pure: safe to repeat.
  return defineTask({ name: 'tally-rerender', input: TallyInput, run: async (input) => tallyRerender(input) }, config, awsClients(config));
}

export const handler = lambdaEntry(createHandler, () => readTaskConfig(process.env));
