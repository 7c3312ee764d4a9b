import { awsClients } from '../shared/aws-clients.ts';
import { CloudFrontInvalidator } from '../shared/cloudfront-invalidator.ts';
import { reportsStore } from '../shared/stores.ts';
import { storeTenants } from '../shared/store-tenants.ts';
import { readTaskConfig, requireSetting, type TaskConfig } from '../shared/task-config.ts';
import { defineTask, lambdaEntry, type TaskHandler } from '../shared/task-handler.ts';
import { invalidateImage, InvalidateInput, type InvalidateDeps } from './invalidate-image.ts';

export function createHandler(config: TaskConfig): TaskHandler {
  const clients = awsClients(config);
  const deps: InvalidateDeps = {
    invalidator: new CloudFrontInvalidator(clients.cloudfront, requireSetting(config, 'distributionId', 'PICTOR_DISTRIBUTION_ID')),
    reports: reportsStore(config, clients),
    tenant: storeTenants(config).lookup,
  };
  // The CallerReference makes a repeat return the same invalidation.
  return defineTask({ name: 'invalidate-image', input: InvalidateInput, run: (input) => invalidateImage(input, deps) }, config, clients);
}

export const handler = lambdaEntry(createHandler, () => readTaskConfig(process.env));
