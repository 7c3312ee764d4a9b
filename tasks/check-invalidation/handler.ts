import { awsClients } from '../shared/aws-clients.ts';
import { CloudFrontInvalidator } from '../shared/cloudfront-invalidator.ts';
import { readTaskConfig, requireSetting, type TaskConfig } from '../shared/task-config.ts';
import { defineTask, lambdaEntry, type TaskHandler } from '../shared/task-handler.ts';
import { checkInvalidation, CheckInput, type CheckDeps } from './check-invalidation.ts';

export function createHandler(config: TaskConfig): TaskHandler {
  const clients = awsClients(config);
  const deps: CheckDeps = {
    invalidator: new CloudFrontInvalidator(clients.cloudfront, requireSetting(config, 'distributionId', 'PICTOR_DISTRIBUTION_ID')),
    deadlineSeconds: requireSetting(config, 'invalidationDeadlineSeconds', 'PICTOR_INVALIDATION_DEADLINE_SECONDS'),
    now: () => new Date(),
  };
  // Only reads: safe to repeat.
  return defineTask({ name: 'check-invalidation', input: CheckInput, run: (input) => checkInvalidation(input, deps) }, config, clients);
}

export const handler = lambdaEntry(createHandler, () => readTaskConfig(process.env));
