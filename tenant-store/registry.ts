import { randomBytes } from 'node:crypto';
import {
  DescribeKeyValueStoreCommand,
  ListKeysCommand,
  UpdateKeysCommand,
  type CloudFrontKeyValueStoreClient,
} from '@aws-sdk/client-cloudfront-keyvaluestore';
import { PictorError } from '../core/errors.ts';
import { keySetProblems, newestKey, type SigningKey, type SigningKeySet } from '../core/signing-keys.ts';
import { MAX_ACTIVE_KEYS } from '../core/signing.ts';
import { configStoreEntries, decodeTaskConfig, parseTenant, STORE_QUOTAS, taskConfigStoreKey, viewerStoreEntries, type PictorConfig, type TenantConfig } from '../core/tenant-config.ts';
import { signingKeyStoreKey } from '../core/tenant-policy.ts';
import { SigningSecrets } from './signing-secrets.ts';

/**
 * Where a deployment's (or the twin's) tenants live: two KeyValueStores and Secrets
 * Manager. KeyValueStore permissions are per store, not per key, so the signing keys
 * the viewer function verifies with sit in a store of their own, which no role reads;
 * the origin-request function and the tasks read the other.
 */
export interface TenantStores {
  /** The KeyValueStore API's client. */
  readonly keyValueStore: CloudFrontKeyValueStoreClient;
  /** The viewer function's store (the edge stack's TenantStore): policies and signing keys. */
  readonly storeArn: string;
  /** The pipeline's store (the edge stack's TenantConfigStore): policies and configurations, no secret. */
  readonly configStoreArn: string;
  readonly secrets: SigningSecrets;
}

export interface TenantSummary {
  readonly tenant: string;
  readonly config: TenantConfig;
  /** Active key ids, oldest first; the last one signs. */
  readonly keys: readonly string[];
}

/** A write that found the store changed under it is tried again, on the new state, this many times. */
const CONFLICT_ATTEMPTS = 5;

/**
 * The tenant registry: adding, changing and removing tenants and rotating their
 * keys, at run time, through the KeyValueStore's API and Secrets Manager alone.
 * The CLI calls it (`pictor tenants`, `pictor keys`), and a control-plane API can.
 *
 * Order of writes, so that no URL a signer makes is refused: a new key reaches the
 * edge store before the signers' secret names it; a retired key leaves the
 * signers' secret before the edge store forgets it.
 */
export class TenantRegistry {
  constructor(
    private readonly stores: TenantStores,
    private readonly options: { randomSecret?: () => string; now?: () => Date } = {},
  ) {}

  /**
   * Puts a tenant (new or changed), validated by the tenants file's rules. Keys
   * listed in `input.signing.keys` are imported (the demo's file has some; a
   * deployment's file should not); a tenant that requires signed URLs and has no
   * key gets one generated. Existing keys are kept.
   */
  async putTenant(tenant: string, input: unknown): Promise<TenantSummary> {
    const config = parseTenant(tenant, input);
    const existing = (await this.stores.secrets.get(tenant))?.keys ?? [];
    const imported = Object.entries(config.signing.keys).map(([kid, secret]) => ({ kid, secret }));
    let keys: SigningKey[] = [...existing];
    for (const key of imported) {
      const same = keys.find((k) => k.kid === key.kid);
      if (same && same.secret !== key.secret) throw new PictorError('InvalidConfig', `Tenant ${tenant} already has a key ${key.kid} with another secret; rotate instead of redefining a key.`);
      if (!same) keys.push(key);
    }
    if (config.signing.required && keys.length === 0) keys = [this.newKey([])];
    checkKeys(tenant, keys);
    // The origin's store before the viewer's, so that the origin knows a new tenant before the viewer
    // forwards its requests (a 404 would be cached); the edge before the signers (see the class comment).
    await this.writeStore(this.stores.configStoreArn, tenant, configStoreEntries(tenant, config), 'replace');
    await this.writeStore(this.stores.storeArn, tenant, viewerStoreEntries(tenant, config, keys), 'replace');
    if (keys.length > 0 && !sameKeys(keys, existing)) await this.stores.secrets.put(tenant, { keys });
    return { tenant, config, keys: keys.map((k) => k.kid) };
  }

  /** Puts every tenant of a tenants file; tenants the store has and the file does not are left alone. */
  async putTenants(config: PictorConfig): Promise<TenantSummary[]> {
    const results: TenantSummary[] = [];
    for (const [tenant, tenantConfig] of Object.entries(config.tenants)) results.push(await this.putTenant(tenant, tenantConfig));
    return results;
  }

  /** Removes a tenant: its policy, its configuration and its keys leave the edge store, then its secret is deleted. */
  async removeTenant(tenant: string): Promise<void> {
    await this.requireTenant(tenant);
    for (const arn of [this.stores.storeArn, this.stores.configStoreArn]) {
      await this.update(arn, async (entries) => {
        const own = ownKeys(tenant, entries);
        return own.length === 0 ? null : { puts: [], deletes: own };
      });
    }
    await this.stores.secrets.delete(tenant);
  }

  async listTenants(): Promise<TenantSummary[]> {
    const items = await this.listEntries(this.stores.configStoreArn);
    const out: TenantSummary[] = [];
    for (const [key, value] of items) {
      if (!key.startsWith('config:')) continue;
      const tenant = key.slice('config:'.length);
      const config = decodeTaskConfig(value);
      if (!config) continue;
      const keys = (await this.stores.secrets.get(tenant))?.keys.map((k) => k.kid) ?? [];
      out.push({ tenant, config, keys });
    }
    return out;
  }

  /** The tenant's configuration as the store holds it, with its active signing keys (oldest first): what a signer needs. */
  async tenantWithKeys(tenant: string): Promise<TenantConfig> {
    const config = await this.requireTenant(tenant);
    const keys = (await this.stores.secrets.get(tenant))?.keys ?? [];
    return { ...config, signing: { ...config.signing, keys: Object.fromEntries(keys.map((k) => [k.kid, k.secret])) } };
  }

  /** The tenant's active keys, oldest first: what the signers' secret holds. */
  async listKeys(tenant: string): Promise<string[]> {
    await this.requireTenant(tenant);
    return (await this.stores.secrets.get(tenant))?.keys.map((k) => k.kid) ?? [];
  }

  /**
   * Rotation, step one: adds a new key (generated with node's crypto), which
   * signs from now on. The edge accepts the older keys until they are retired.
   * @returns the new key's id
   */
  async rotateKey(tenant: string, kid?: string): Promise<string> {
    const config = await this.requireTenant(tenant);
    const keys = [...((await this.stores.secrets.get(tenant))?.keys ?? [])];
    if (keys.length >= MAX_ACTIVE_KEYS) throw new PictorError('InvalidConfig', `Tenant ${tenant} has ${keys.length} active keys, the most a tenant may have; retire the oldest (${keys[0]!.kid}) first.`);
    const key = this.newKey(keys, kid);
    keys.push(key);
    checkKeys(tenant, keys);
    await this.writeStore(this.stores.storeArn, tenant, viewerStoreEntries(tenant, config, [key]), 'merge');
    await this.stores.secrets.put(tenant, { keys });
    return key.kid;
  }

  /** Rotation, last step: once URLs signed with `kid` have expired, the edge stops accepting it. */
  async retireKey(tenant: string, kid: string): Promise<void> {
    await this.requireTenant(tenant);
    const set = await this.stores.secrets.get(tenant);
    const keys = set?.keys ?? [];
    if (!keys.some((k) => k.kid === kid)) throw new PictorError('InvalidConfig', `Tenant ${tenant} has no active key ${kid}; its keys are ${keys.map((k) => k.kid).join(', ') || 'none'}.`);
    if (newestKey(set!)!.kid === kid) throw new PictorError('InvalidConfig', `${kid} is the key ${tenant}'s URLs are signed with; rotate first (pictor keys rotate --tenant ${tenant}), then retire it after the overlap.`);
    // The signers first, then the edge (see the class comment).
    await this.stores.secrets.put(tenant, { keys: keys.filter((k) => k.kid !== kid) });
    await this.update(this.stores.storeArn, async (entries) => (entries.has(signingKeyStoreKey(tenant, kid)) ? { puts: [], deletes: [signingKeyStoreKey(tenant, kid)] } : null));
  }

  private newKey(existing: readonly SigningKey[], kid?: string): SigningKey {
    const id = kid ?? `k${(this.options.now?.() ?? new Date()).toISOString().slice(0, 10).replace(/-/g, '')}${randomBytes(3).toString('hex')}`;
    if (existing.some((k) => k.kid === id)) throw new PictorError('InvalidConfig', `A key ${id} exists already; choose another id.`);
    // 256 bits, the HMAC-SHA256 block's worth of strength (RFC 2104 §3).
    return { kid: id, secret: this.options.randomSecret?.() ?? randomBytes(32).toString('base64url') };
  }

  private async requireTenant(tenant: string): Promise<TenantConfig> {
    const entries = await this.listEntries(this.stores.configStoreArn);
    const config = decodeTaskConfig(entries.get(taskConfigStoreKey(tenant)));
    if (!config) throw new PictorError('InvalidConfig', `No tenant '${tenant}' in the tenant store ${this.stores.configStoreArn}; put it first (pictor tenants put).`);
    return config;
  }

  /**
   * Writes a tenant's entries. `replace` also deletes the tenant's entries that
   * `entries` does not name (keys retired elsewhere); `merge` only puts.
   */
  private async writeStore(arn: string, tenant: string, entries: Map<string, string>, mode: 'replace' | 'merge'): Promise<void> {
    for (const [key, value] of entries) {
      if (Buffer.byteLength(key) > STORE_QUOTAS.keyBytes || Buffer.byteLength(value) > STORE_QUOTAS.valueBytes) {
        throw new PictorError('InvalidConfig', `${key} would not fit the KeyValueStore (keys ${STORE_QUOTAS.keyBytes} bytes, values ${STORE_QUOTAS.valueBytes} bytes).`);
      }
    }
    await this.update(arn, async (current) => {
      const puts = [...entries].filter(([k, v]) => current.get(k) !== v).map(([Key, Value]) => ({ Key, Value }));
      const deletes = mode === 'replace' ? ownKeys(tenant, current).filter((k) => !entries.has(k)) : [];
      return puts.length + deletes.length === 0 ? null : { puts, deletes };
    });
  }

  /**
   * One all-or-nothing UpdateKeys against the store's current ETag; when another
   * writer got there first (ConflictException), the change is worked out again
   * on the new state. https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_kvs_UpdateKeys.html
   */
  private async update(arn: string, change: (entries: Map<string, string>) => Promise<{ puts: { Key: string; Value: string }[]; deletes: string[] } | null>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const { ETag } = await this.stores.keyValueStore.send(new DescribeKeyValueStoreCommand({ KvsARN: arn }));
      const next = await change(await this.listEntries(arn));
      if (!next) return;
      try {
        await this.stores.keyValueStore.send(new UpdateKeysCommand({ KvsARN: arn, IfMatch: ETag, Puts: next.puts, Deletes: next.deletes.map((Key) => ({ Key })) }));
        return;
      } catch (error) {
        const name = (error as Error).name;
        if (name === 'ConflictException' && attempt < CONFLICT_ATTEMPTS) continue;
        if (name === 'ServiceQuotaExceededException') {
          throw new PictorError('InvalidConfig', `The KeyValueStore would pass its ${STORE_QUOTAS.totalBytes} bytes: remove tenants or keys first. (${(error as Error).message})`, { cause: error });
        }
        throw error;
      }
    }
  }

  private async listEntries(arn: string): Promise<Map<string, string>> {
    const entries = new Map<string, string>();
    let token: string | undefined;
    do {
      const page = await this.stores.keyValueStore.send(new ListKeysCommand({ KvsARN: arn, NextToken: token, MaxResults: 50 }));
      for (const item of page.Items ?? []) if (item.Key !== undefined) entries.set(item.Key, item.Value ?? '');
      token = page.NextToken;
    } while (token);
    return entries;
  }
}

/** The store keys that belong to a tenant: its policy, its configuration, its signing keys. */
function ownKeys(tenant: string, entries: ReadonlyMap<string, string>): string[] {
  return [...entries.keys()].filter((k) => k === 'tenant:' + tenant || k === taskConfigStoreKey(tenant) || k.startsWith(`key:${tenant}:`));
}

function checkKeys(tenant: string, keys: readonly SigningKey[]): void {
  const problems = keySetProblems(keys);
  if (problems.length > 0) throw new PictorError('InvalidConfig', `Tenant ${tenant}'s signing keys: ${problems.join('; ')}`);
}

function sameKeys(a: readonly SigningKey[], b: readonly SigningKey[]): boolean {
  return a.length === b.length && a.every((k, i) => k.kid === b[i]!.kid && k.secret === b[i]!.secret);
}

export type { SigningKeySet };
