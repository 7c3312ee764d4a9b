import { GetKeyCommand, ListKeysCommand, type CloudFrontKeyValueStoreClient } from '@aws-sdk/client-cloudfront-keyvaluestore';
import { PictorError } from '../core/errors.ts';
import { decodeTaskConfig, taskConfigStoreKey, type TenantConfig } from '../core/tenant-config.ts';
import { decodePolicy, policyStoreKey, type TenantPolicy } from '../core/tenant-policy.ts';

/**
 * How long a value read from the KeyValueStore is trusted before it is read again.
 * Changes reach the edge within seconds; a minute bounds how long a changed policy
 * takes to reach a warm origin-request function or task, and a disagreement with the
 * viewer function forces a re-read at once.
 */
export const STORE_CACHE_MS = 60_000;

/**
 * Reads tenants from the edge KeyValueStore through its API, as the origin-request
 * function and the tasks learn them at run time: nothing about a tenant is baked
 * into a bundle, so a tenant put through the registry is known without a deploy.
 */
export class TenantStoreReader {
  /** Reads in flight are shared: a burst of invocations asks the store once per key. */
  private readonly cache = new Map<string, { value: Promise<string | null>; at: number }>();

  constructor(
    private readonly client: CloudFrontKeyValueStoreClient,
    readonly storeArn: string,
    private readonly options: { cacheMs?: number; now?: () => number } = {},
  ) {}

  /** The tenant's edge policy, or null when there is no such tenant. `fresh` skips the cache. */
  async policy(tenant: string, fresh = false): Promise<TenantPolicy | null> {
    return decodePolicy(await this.read(policyStoreKey(tenant), fresh));
  }

  /** The tenant's configuration for the pipeline, or null when there is no such tenant. */
  async taskConfig(tenant: string, fresh = false): Promise<TenantConfig | null> {
    return decodeTaskConfig(await this.read(taskConfigStoreKey(tenant), fresh));
  }

  /** Every tenant's id, read afresh. */
  async tenantIds(): Promise<string[]> {
    const ids: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.call(() => this.client.send(new ListKeysCommand({ KvsARN: this.storeArn, NextToken: token, MaxResults: 50 })));
      for (const item of page.Items ?? []) if (item.Key?.startsWith('config:')) ids.push(item.Key.slice('config:'.length));
      token = page.NextToken;
    } while (token);
    return ids.sort();
  }

  private async read(key: string, fresh: boolean): Promise<string | null> {
    const now = (this.options.now ?? Date.now)();
    const cached = this.cache.get(key);
    if (!fresh && cached && now - cached.at < (this.options.cacheMs ?? STORE_CACHE_MS)) return cached.value;
    const value = this.call(() => this.client.send(new GetKeyCommand({ KvsARN: this.storeArn, Key: key }))).then(
      (answer) => answer.Value ?? null,
      (error: Error) => {
        if (error.name === 'ResourceNotFoundException') return null;
        throw error;
      },
    );
    const entry = { value, at: now };
    this.cache.set(key, entry);
    // A failed read is not remembered.
    value.catch(() => this.cache.get(key) === entry && this.cache.delete(key));
    return value;
  }

  private async call<T>(send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      if ((error as Error).name === 'ResourceNotFoundException') throw error;
      throw new PictorError('OriginUnavailable', `The tenant store ${this.storeArn} did not answer: ${(error as Error).message}`, { cause: error });
    }
  }
}
