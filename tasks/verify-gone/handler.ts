import { awsClients } from '../shared/aws-clients.ts';
import { httpViewerEdge } from '../shared/http-viewer-edge.ts';
import { secretsSigningKeys } from '../shared/secrets-signing-keys.ts';
import { storeTenants } from '../shared/store-tenants.ts';
import { reportsStore } from '../shared/stores.ts';
import { readTaskConfig, requireSetting, type TaskConfig } from '../shared/task-config.ts';
import { defineTask, lambdaEntry, type TaskHandler } from '../shared/task-handler.ts';
import { verifyGone, VerifyInput, type VerifyDeps } from './verify-gone.ts';

export function createHandler(config: TaskConfig): TaskHandler {
  const clients = awsClients(config);
  const deps: VerifyDeps = {
    reports: reportsStore(config, clients),
    edge: httpViewerEdge(requireSetting(config, 'edgeUrl', 'PICTOR_EDGE_URL')),
    tenant: storeTenants(config).lookup,
    signingKey: secretsSigningKeys(config),
    now: () => new Date(),
  };
  // Only reads: safe to repeat.
  return defineTask({ name: 'verify-gone', input: VerifyInput, run: (input) => verifyGone(input, deps) }, config, clients);
}

export const handler = lambdaEntry(createHandler, () => readTaskConfig(process.env));
