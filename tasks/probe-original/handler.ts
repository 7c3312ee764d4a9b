import { defineTask, lambdaEntry, type TaskHandler } from '../shared/task-handler.ts';
import { awsClients } from '../shared/aws-clients.ts';
import { ObjectStore } from '../shared/object-store.ts';
import { readTaskConfig, type TaskConfig } from '../shared/task-config.ts';
import { VersionMap } from '../shared/version-map.ts';
import { probeOriginal, ProbeInput } from './probe-original.ts';

export function createHandler(config: TaskConfig): TaskHandler {
  const clients = awsClients(config);
  const deps = {
    originals: new ObjectStore(clients.s3, config.originalsBucket),
    versions: new VersionMap(clients.documents, config.versionsTable),
    knownTenant: (tenant: string) => Object.hasOwn(config.tenants.tenants, tenant),
    limits: config.limits,
  };
  // Safe to repeat: it only reads.
  return defineTask({ name: 'probe-original', input: ProbeInput, run: (event) => probeOriginal(event, deps) }, config, clients);
}

export const handler = lambdaEntry(createHandler, () => readTaskConfig(process.env));
