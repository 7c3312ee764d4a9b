import { tenantLookup } from '../shared/tenants.ts';
import { awsClients } from '../shared/aws-clients.ts';
import { reportsStore } from '../shared/stores.ts';
import { readTaskConfig, requireSetting, type TaskConfig } from '../shared/task-config.ts';
import { defineTask, lambdaEntry, type TaskHandler } from '../shared/task-handler.ts';
import { verifyGone, VerifyInput } from './verify-gone.ts';

export function createHandler(config: TaskConfig): TaskHandler {
  const clients = awsClients(config);
  const deps = {
    reports: reportsStore(config, clients),
    edgeUrl: requireSetting(config, 'edgeUrl', 'PICTOR_EDGE_URL'),
    tenant: tenantLookup(config.tenants.tenants),
    fetch: globalThis.fetch,
    now: () => new Date(),
  };
  // Only reads: safe to repeat.
  return defineTask({ name: 'verify-gone', input: VerifyInput, run: (input) => verifyGone(input, deps) }, config, clients);
}

export const handler = lambdaEntry(createHandler, () => readTaskConfig(process.env));
