import { defineTask, lambdaEntry, type TaskHandler } from '../shared/task-handler.ts';
import { awsClients, pipelineStores } from '../shared/aws-clients.ts';
import { readTaskConfig, type TaskConfig } from '../shared/task-config.ts';
import { storeTenants } from '../shared/store-tenants.ts';
import { probeOriginal, ProbeInput } from './probe-original.ts';

export function createHandler(config: TaskConfig): TaskHandler {
  const clients = awsClients(config);
  const deps = {
    ...pipelineStores(config, clients),
    knownTenant: storeTenants(config).exists,
    limits: config.limits,
  };
  // Safe to repeat: it reads, and notes the upload only when it is newer than the one noted.
  return defineTask({ name: 'probe-original', input: ProbeInput, run: (event, _logger, context) => probeOriginal(event, deps, context) }, config, clients);
}

export const handler = lambdaEntry(createHandler, () => readTaskConfig(process.env));
