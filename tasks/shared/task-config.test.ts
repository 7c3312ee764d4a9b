import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readTaskConfig } from './task-config.ts';

const ENV = {
  PICTOR_ACCOUNT_ID: '111122223333',
  PICTOR_ORIGINALS_BUCKET: 'originals',
  PICTOR_VARIANTS_BUCKET: 'variants',
  PICTOR_VERSIONS_TABLE: 'versions',
  PICTOR_TOMBSTONES_TABLE: 'tombstones',
  PICTOR_IDEMPOTENCY_TABLE: 'idempotency',
  PICTOR_EVENT_BUS: 'bus',
  PICTOR_TENANT_STORE_ARN: 'arn:aws:cloudfront::000000000000:key-value-store/TenantStore',
};

describe('readTaskConfig', () => {
  it('reads the variants buckets of the failover origins, none by default', () => {
    assert.deepEqual(readTaskConfig(ENV).variantReplicas, []);
    const replicas = [{ bucket: 'variants-failover', region: 'eu-west-1' }];
    assert.deepEqual(readTaskConfig({ ...ENV, PICTOR_VARIANT_REPLICAS: JSON.stringify(replicas) }).variantReplicas, replicas);
  });

  it('needs the tenant store, where tenants are read at run time, and takes no tenants from the environment', () => {
    const { PICTOR_TENANT_STORE_ARN: _, ...without } = ENV;
    assert.throws(() => readTaskConfig(without), { name: 'InvalidConfig', message: /PICTOR_TENANT_STORE_ARN/ });
    assert.equal('tenants' in readTaskConfig({ ...ENV, PICTOR_TENANTS: '{"tenants":{}}' }), false);
  });

  it('refuses replica lists that are not [{bucket, region}], naming the variable', () => {
    for (const name of ['PICTOR_VARIANT_REPLICAS', 'PICTOR_ORIGINAL_REPLICAS']) {
      for (const value of ['{"bucket":"b","region":"r"}', '[{"bucket":"b"}]', '[{"bucket":1,"region":"r"}]', 'not json']) {
        assert.throws(() => readTaskConfig({ ...ENV, [name]: value }), { name: 'InvalidConfig', message: new RegExp(name) }, `${name}=${value}`);
      }
    }
  });
});
