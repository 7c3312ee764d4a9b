import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readApiConfig } from './config.ts';

const ENV = {
  PICTOR_ACCOUNT_ID: '111122223333',
  PICTOR_ORIGINALS_BUCKET: 'o',
  PICTOR_VARIANTS_BUCKET: 'v',
  PICTOR_VERSIONS_TABLE: 'versions',
  PICTOR_TOMBSTONES_TABLE: 'tombstones',
  PICTOR_IDEMPOTENCY_TABLE: 'idempotency',
  PICTOR_EVENT_BUS: 'bus',
  PICTOR_TENANT_STORE_ARN: 'arn:aws:cloudfront::111122223333:key-value-store/config',
  PICTOR_VIEWER_STORE_ARN: 'arn:aws:cloudfront::111122223333:key-value-store/viewer',
  PICTOR_EDGE_URL: 'https://images.example.com/',
  PICTOR_STATE_MACHINES: JSON.stringify({ RenderOnUpload: 'arn:r', CatalogueRerender: 'arn:c', TakedownBatch: 'arn:t' }),
  PICTOR_API_TENANT_ROLES: JSON.stringify({ 'arn:aws:iam::111122223333:role/shop': 'shop' }),
  PICTOR_API_ADMINS: JSON.stringify(['arn:aws:iam::111122223333:role/admin']),
  AWS_REGION: 'eu-west-1',
};

describe("the control API's configuration", () => {
  it("calls the pipeline's region from an API in another region", () => {
    assert.equal(readApiConfig(ENV).region, 'eu-west-1');
    assert.equal(readApiConfig({ ...ENV, PICTOR_PIPELINE_REGION: 'us-east-1' }).region, 'us-east-1');
    assert.equal(readApiConfig(ENV).edgeUrl, 'https://images.example.com');
  });

  it('refuses a missing or malformed setting, naming it', () => {
    for (const [name, value, message] of [
      ['PICTOR_STATE_MACHINES', JSON.stringify({ RenderOnUpload: 'arn:r' }), /CatalogueRerender/],
      ['PICTOR_STATE_MACHINES', '{', /not JSON/],
      ['PICTOR_API_TENANT_ROLES', '["shop"]', /role ARN to tenant/],
      ['PICTOR_API_ADMINS', '{}', /array of ARNs/],
      ['PICTOR_VIEWER_STORE_ARN', '', /PICTOR_VIEWER_STORE_ARN/],
      ['PICTOR_EDGE_URL', '', /PICTOR_EDGE_URL/],
    ] as const) {
      assert.throws(() => readApiConfig({ ...ENV, [name]: value }), { name: 'InvalidConfig', message }, name);
    }
  });
});
