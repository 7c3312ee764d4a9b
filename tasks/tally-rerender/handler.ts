import { awsClients } from '../shared/aws-clients.ts';
import { S3ObjectStore } from '../shared/s3-object-store.ts';
import { readTaskConfig, requireSetting, type TaskConfig } from '../shared/task-config.ts';
import { defineTask, lambdaEntry, type TaskHandler } from '../shared/task-handler.ts';
import { tallyRerender, TallyInput } from './tally-rerender.ts';

export function createHandler(config: TaskConfig): TaskHandler {
  const clients = awsClients(config);
  const deps = { reports: new S3ObjectStore(clients.s3, requireSetting(config, 'reportsBucket', 'PICTOR_REPORTS_BUCKET')) };
  // Reads the map run's results and writes the page's failures under a key of its own: safe to repeat.
  return defineTask({ name: 'tally-rerender', input: TallyInput, run: (input) => tallyRerender(input, deps) }, config, clients);
}

export const handler = lambdaEntry(createHandler, () => readTaskConfig(process.env));
