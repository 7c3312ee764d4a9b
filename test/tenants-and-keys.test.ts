import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { PRIVATE_CACHE_CONTROL } from '../core/cache-control.ts';
import { parseConfig } from '../core/tenant-config.ts';
import { sampleImage } from '../local/sample-image.ts';
import type { Twin } from '../local/twin.ts';
import { signWithNewestKey } from '../signer/sign-url.ts';
import { settle, upload } from './support/pipeline-twin.ts';
import { GetKeyCommand } from '@aws-sdk/client-cloudfront-keyvaluestore';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { localNames } from '../local/pipeline/storage.ts';
import { resolveTokens } from '../local/pipeline/template.ts';
import { keyValueStoreClient, secretsManagerClient } from '../tenant-store/clients.ts';
import { useTwin } from './support/twin-fixture.ts';

const OLD = 'vault-old-secret-0123456789abcdefghijklmnopqrstuvwxyz';
const TENANTS = parseConfig({ tenants: { vault: { breakpoints: [320, 640], signing: { required: true, keys: { old: OLD } } } } });

let twin: Twin;

const fixture = useTwin({ config: TENANTS, timeScale: 0.003, invalidationDelayMs: 100, keyValueStorePropagationMs: 0 });

before(async () => {
  twin = await fixture.started;
  // Changes reach the viewer function at once here; local/key-value-store.test.ts covers the delay.

  await upload(twin, 'vault/photo', await sampleImage(800, 533));
  await settle(twin);
});

/** A URL signed with the tenant's newest key as Secrets Manager holds it now, or with `kid`. */
async function signed(tenant: string, url: string, kid?: string): Promise<string> {
  return twin.edgeUrl + signWithNewestKey(url, tenant, await twin.registry.tenantWithKeys(tenant), new Date(Date.now() + 600_000), kid);
}

async function statusOf(url: string): Promise<number> {
  const response = await fetch(url);
  await response.arrayBuffer();
  return response.status;
}

describe('tenants and keys change on the running twin, through the registry alone', () => {
  it('rotates a key: the old key works during the overlap and is a 403 once retired; the new one signs and serves', async () => {
    const withOld = await signed('vault', '/img/vault/photo?w=320');
    assert.equal(await statusOf(withOld), 200);

    const kid = await twin.registry.rotateKey('vault');
    assert.deepEqual(await twin.registry.listKeys('vault'), ['old', kid]);
    const withNew = await signed('vault', '/img/vault/photo?w=320');
    assert.match(withNew, new RegExp(`kid=${kid}&`), 'the newest key signs');
    assert.equal(await statusOf(withNew), 200);
    assert.equal(await statusOf(withOld), 200, 'the overlap: the old key still works');

    await assert.rejects(twin.registry.retireKey('vault', kid), { name: 'InvalidConfig', message: /rotate first/ });
    await twin.registry.retireKey('vault', 'old');
    assert.equal(await statusOf(withOld), 403, 'retired');
    assert.equal(await statusOf(withNew), 200);
    await assert.rejects(signed('vault', '/img/vault/photo?w=320', 'old'), /no key 'old'/);
  });

  it('refuses a sixth active key, naming the one to retire', async () => {
    const before = await twin.registry.listKeys('vault');
    for (let i = before.length; i < 5; i++) await twin.registry.rotateKey('vault');
    await assert.rejects(twin.registry.rotateKey('vault'), { name: 'InvalidConfig', message: new RegExp(`5 active keys.*retire the oldest \\(${before[0]}\\)`) });
  });

  it('serves a tenant put at run time: RenderOnUpload publishes its upload, and the origin renders a miss, with nothing restarted', async () => {
    assert.equal(await statusOf(`${twin.edgeUrl}/img/fresh/photo?w=320`), 404);
    await twin.registry.putTenant('fresh', { breakpoints: [320, 640], formats: ['webp', 'png'] });
    await upload(twin, 'fresh/photo', await sampleImage(800, 533));
    await settle(twin);
    const standard = await fetch(`${twin.edgeUrl}/img/fresh/photo?w=300&fmt=webp`);
    assert.equal(standard.status, 200);
    assert.equal(standard.headers.get('content-type'), 'image/webp');
    const renders = twin.edge.stats.originRenders;
    // Not a standard variant: the origin-request function renders it, knowing the tenant from the store.
    const miss = await fetch(`${twin.edgeUrl}/img/fresh/photo?w=640&fmt=png`);
    assert.equal(miss.status, 200);
    assert.equal(miss.headers.get('content-type'), 'image/png');
    assert.equal(twin.edge.stats.originRenders, renders + 1);
  });

  it('changes a policy at run time: the edge snaps to the new breakpoints at once, and the origin follows', async () => {
    await twin.registry.putTenant('fresh', { breakpoints: [480, 640], formats: ['webp', 'png'] });
    const response = await fetch(`${twin.edgeUrl}/img/fresh/photo?w=300&fmt=png`);
    assert.equal(response.status, 200, await response.clone().text());
  });

  it("tells viewers of a signed tenant put at run time that no shared cache may keep its images, on a miss and on a hit; a public tenant's Cache-Control is the origin's", async () => {
    const open = await fetch(`${twin.edgeUrl}/img/fresh/photo?w=640&fmt=png`);
    await open.arrayBuffer();
    assert.equal(open.status, 200);
    assert.match(open.headers.get('cache-control') ?? '', /^public, max-age=/);

    await twin.registry.putTenant('hidden', { breakpoints: [320, 640], signing: { required: true } });
    try {
      await upload(twin, 'hidden/photo', await sampleImage(800, 533));
      await settle(twin);
      const url = await signed('hidden', '/img/hidden/photo?w=320');
      const served = [];
      for (let i = 0; i < 2; i++) {
        const response = await fetch(url);
        await response.arrayBuffer();
        served.push([response.status, response.headers.get('x-cache'), response.headers.get('cache-control')]);
      }
      assert.deepEqual(served, [
        [200, 'Miss from cloudfront', PRIVATE_CACHE_CONTROL],
        [200, 'Hit from cloudfront', PRIVATE_CACHE_CONTROL],
      ]);
      // The behaviour it falls under has no private response headers policy: the viewer-response function decided.
      assert.equal(twin.distribution.behaviors.find((b) => b.matches.test('/img/hidden/photo'))!.pathPattern, '*');
    } finally {
      await twin.registry.removeTenant('hidden');
    }
  });

  it("lets only verify-gone's role read a signing-key secret, and no task's role read the viewer's store of keys", async () => {
    const { template, identities } = twin.pipeline!;
    const names = localNames(template);
    const roleOf = (task: string) => {
      const fn = Object.values(template.Resources).find((r) => r.Type === 'AWS::Lambda::Function' && r.Properties?.Environment?.Variables?.PICTOR_TASK === task)!;
      return resolveTokens(fn.Properties!.Role, template, names) as string;
    };
    const port = new URL(twin.controlUrl).port;
    const as = (task: string) => {
      const credentials = identities.sessionOf(roleOf(task));
      return { sm: secretsManagerClient({ endpoint: twin.controlUrl, credentials }), kvs: keyValueStoreClient({ endpoint: `http://localhost:${port}`, credentials }) };
    };
    const secret = { SecretId: 'pictor/signing-keys/vault' };
    const verifier = as('verify-gone');
    assert.match((await verifier.sm.send(new GetSecretValueCommand(secret))).SecretString!, /"keys"/);
    const renderer = as('render-variants');
    await assert.rejects(renderer.sm.send(new GetSecretValueCommand(secret)), { name: 'AccessDeniedException' });
    // The tasks read configurations from the configuration store; the keys' store is the viewer function's alone.
    assert.ok((await renderer.kvs.send(new GetKeyCommand({ KvsARN: twin.tenantStore.configStore.arn, Key: 'config:vault' }))).Value);
    for (const task of ['render-variants', 'verify-gone']) {
      await assert.rejects(as(task).kvs.send(new GetKeyCommand({ KvsARN: twin.tenantStore.keyValueStore.arn, Key: 'tenant:vault' })), { name: 'AccessDeniedException' }, task);
    }
  });

  it('removes a tenant: its images answer 404 and it leaves the store', async () => {
    await twin.registry.removeTenant('fresh');
    assert.equal(await statusOf(`${twin.edgeUrl}/img/fresh/photo?w=320`), 404);
    assert.deepEqual((await twin.registry.listTenants()).map((t) => t.tenant), ['vault']);
  });
});
