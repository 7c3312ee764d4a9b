import { checkInvalidation, CheckInput } from '../invalidate-image/invalidate-image.ts';
import { awsClients } from '../shared/aws-clients.ts';
import { readTaskConfig, requireSetting, type TaskConfig } from '../shared/task-config.ts';
import { defineTask, lambdaEntry, type TaskHandler } from '../shared/task-handler.ts';

/** GetInvalidation, polled by TakedownBatch between waits. The use-case lives beside CreateInvalidation's. */
export function createHandler(config: TaskConfig): TaskHandler {
  const clients = awsClients(config);
  const deps = {
    cloudfront: clients.cloudfront,
    distributionId: requireSetting(config, 'distributionId', 'PICTOR_DISTRIBUTION_ID'),
    deadlineSeconds: requireSetting(config, 'invalidationDeadlineSeconds', 'PICTOR_INVALIDATION_DEADLINE_SECONDS'),
    now: () => new Date(),
  };
  return defineTask({ name: 'check-invalidation', input: CheckInput, run: (input) => checkInvalidation(input, deps) }, config, clients);
}

export const handler = lambdaEntry(createHandler, () => readTaskConfig(process.env));
