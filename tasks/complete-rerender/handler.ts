import { eventBridgePublisher } from '../../events/publish.ts';
import { awsClients } from '../shared/aws-clients.ts';
import { S3ObjectStore } from '../shared/s3-object-store.ts';
import { readTaskConfig, requireSetting, type TaskConfig } from '../shared/task-config.ts';
import { defineTask, lambdaEntry, type TaskHandler } from '../shared/task-handler.ts';
import { completeRerender, CompleteRerenderInput } from './complete-rerender.ts';

export function createHandler(config: TaskConfig): TaskHandler {
  const clients = awsClients(config);
  const deps = {
    events: eventBridgePublisher(clients.events, config.eventBus),
    reports: new S3ObjectStore(clients.s3, requireSetting(config, 'reportsBucket', 'PICTOR_REPORTS_BUCKET')),
  };
  return defineTask(
    { name: 'complete-rerender', input: CompleteRerenderInput, run: (input) => completeRerender(input, deps) },
    config,
    clients,
  );
}

export const handler = lambdaEntry(createHandler, () => readTaskConfig(process.env));
