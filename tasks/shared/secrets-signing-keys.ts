import { PictorError } from '../../core/errors.ts';
import { newestKey } from '../../core/signing-keys.ts';
import { secretsManagerClient } from '../../tenant-store/clients.ts';
import { SigningSecrets } from '../../tenant-store/signing-secrets.ts';
import type { SigningKeyLookup } from '../ports/tenants.ts';
import { requireSetting, type TaskConfig } from './task-config.ts';

/**
 * The SigningKeyLookup port on Secrets Manager: each tenant's newest key, read
 * when a private URL is checked, never bundled, so a rotation needs no deploy.
 * A takedown of many images asks once a minute per tenant, not once per image;
 * a rotation's overlap outlasts that.
 */
export function secretsSigningKeys(config: TaskConfig, clock: () => number = Date.now): SigningKeyLookup {
  const secrets = new SigningSecrets(
    secretsManagerClient({ endpoint: config.endpoints.secretsmanager, region: config.region, credentials: config.credentials }),
    requireSetting(config, 'signingSecretsPrefix', 'PICTOR_SIGNING_SECRETS_PREFIX'),
  );
  const keySets = memoize((tenant: string) => secrets.get(tenant), 60_000, clock);
  return async (tenant) => {
    const set = await keySets(tenant);
    const key = set && newestKey(set);
    if (!key) throw new PictorError('InvalidConfig', `Tenant ${tenant} requires signed URLs but has no signing key in Secrets Manager (${secrets.prefix}${tenant}).`);
    return key;
  };
}

/** Remembers each answer (and each read in flight) for `ms`; a failure is not remembered. */
function memoize<T>(read: (key: string) => Promise<T>, ms: number, clock: () => number): (key: string) => Promise<T> {
  const cache = new Map<string, { value: Promise<T>; at: number }>();
  return (key) => {
    const hit = cache.get(key);
    if (hit && clock() - hit.at < ms) return hit.value;
    const entry = { value: read(key), at: clock() };
    cache.set(key, entry);
    entry.value.catch(() => cache.get(key) === entry && cache.delete(key));
    return entry.value;
  };
}
