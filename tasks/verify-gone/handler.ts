import { PictorError } from '../../core/errors.ts';
import { newestKey } from '../../core/signing-keys.ts';
import { secretsManagerClient } from '../../tenant-store/clients.ts';
import { SigningSecrets } from '../../tenant-store/signing-secrets.ts';
import { httpViewerEdge } from '../shared/http-viewer-edge.ts';
import { storeTenants } from '../shared/store-tenants.ts';
import { awsClients } from '../shared/aws-clients.ts';
import { reportsStore } from '../shared/stores.ts';
import { readTaskConfig, requireSetting, type TaskConfig } from '../shared/task-config.ts';
import { defineTask, lambdaEntry, type TaskHandler } from '../shared/task-handler.ts';
import { verifyGone, VerifyInput, type VerifyDeps } from './verify-gone.ts';

export function createHandler(config: TaskConfig): TaskHandler {
  const clients = awsClients(config);
  // The keys are read when a private URL is checked, never bundled: a rotation needs no deploy.
  // A takedown of many images asks once a minute per tenant, not once per image; a rotation's overlap outlasts it.
  const keySets = memoize((tenant: string) => secrets.get(tenant), 60_000);
  const secrets = new SigningSecrets(secretsManagerClient({ endpoint: config.endpoints.secretsmanager, region: config.region, credentials: config.credentials }), requireSetting(config, 'signingSecretsPrefix', 'PICTOR_SIGNING_SECRETS_PREFIX'));
  const deps: VerifyDeps = {
    reports: reportsStore(config, clients),
    edge: httpViewerEdge(requireSetting(config, 'edgeUrl', 'PICTOR_EDGE_URL')),
    tenant: storeTenants(config).lookup,
    signingKey: async (tenant: string) => {
      const set = await keySets(tenant);
      const key = set && newestKey(set);
      if (!key) throw new PictorError('InvalidConfig', `Tenant ${tenant} requires signed URLs but has no signing key in Secrets Manager (${secrets.prefix}${tenant}).`);
      return key;
    },
    now: () => new Date(),
  };
  // Only reads: safe to repeat.
  return defineTask({ name: 'verify-gone', input: VerifyInput, run: (input) => verifyGone(input, deps) }, config, clients);
}

export const handler = lambdaEntry(createHandler, () => readTaskConfig(process.env));

/** Remembers each answer (and each read in flight) for `ms`; a failure is not remembered. */
function memoize<T>(read: (key: string) => Promise<T>, ms: number): (key: string) => Promise<T> {
  const cache = new Map<string, { value: Promise<T>; at: number }>();
  return (key) => {
    const hit = cache.get(key);
    if (hit && Date.now() - hit.at < ms) return hit.value;
    const entry = { value: read(key), at: Date.now() };
    cache.set(key, entry);
    entry.value.catch(() => cache.get(key) === entry && cache.delete(key));
    return entry.value;
  };
}
