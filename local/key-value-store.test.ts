import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { DescribeKeyValueStoreCommand, GetKeyCommand, ListKeysCommand, PutKeyCommand, UpdateKeysCommand } from '@aws-sdk/client-cloudfront-keyvaluestore';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { STORE_QUOTAS } from '../core/tenant-config.ts';
import { keyValueStoreClient, secretsManagerClient } from '../tenant-store/clients.ts';
import { SigningSecrets } from '../tenant-store/signing-secrets.ts';
import { controlPlane } from './aws-api.ts';
import type { InvalidationService } from './edge/invalidations.ts';
import { LocalKeyValueStore } from './key-value-store.ts';
import { LocalSecretsManager } from './secrets-manager.ts';

const ARN = 'arn:aws:cloudfront::000000000000:key-value-store/TenantStore';
const credentials = { accessKeyId: 'local', secretAccessKey: 'local-secret' };
let server: Server;
let store: LocalKeyValueStore;
let kvs: ReturnType<typeof keyValueStoreClient>;
let secrets: SigningSecrets;
let sm: ReturnType<typeof secretsManagerClient>;
const seen: { host: string; authorization: string }[] = [];

before(async () => {
  store = new LocalKeyValueStore(ARN, 0);
  const serve = controlPlane({ invalidations: {} as InvalidationService, keyValueStores: new Map([[ARN, store]]), secretsManager: new LocalSecretsManager('us-east-1', '000000000000') });
  server = createServer((request, response) => {
    if (request.url?.startsWith('/key-value-stores/')) seen.push({ host: String(request.headers.host), authorization: String(request.headers.authorization) });
    void serve(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  // The SDK signs with SigV4A and puts the account before the endpoint's host, as it does for AWS's.
  kvs = keyValueStoreClient({ endpoint: `http://localhost:${port}`, credentials });
  sm = secretsManagerClient({ endpoint: `http://127.0.0.1:${port}`, credentials });
  secrets = new SigningSecrets(sm);
});

after(async () => {
  kvs.destroy();
  sm.destroy();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('the twin KeyValueStore API, through the SDK client', () => {
  it('writes only against the current ETag: a stale one is a ConflictException and changes nothing', async () => {
    const { ETag } = await kvs.send(new DescribeKeyValueStoreCommand({ KvsARN: ARN }));
    const put = await kvs.send(new PutKeyCommand({ KvsARN: ARN, Key: 'a', Value: '1', IfMatch: ETag }));
    assert.notEqual(put.ETag, ETag);
    await assert.rejects(kvs.send(new PutKeyCommand({ KvsARN: ARN, Key: 'a', Value: '2', IfMatch: ETag })), { name: 'ConflictException' });
    assert.equal((await kvs.send(new GetKeyCommand({ KvsARN: ARN, Key: 'a' }))).Value, '1');
    await assert.rejects(kvs.send(new GetKeyCommand({ KvsARN: ARN, Key: 'missing' })), { name: 'ResourceNotFoundException' });
    // SigV4A, for every region, at the account's host. https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/kvs-with-functions-kvp.html
    assert.match(seen[0]!.authorization, /^AWS4-ECDSA-P256-SHA256 Credential=local\/\d{8}\/cloudfront-keyvaluestore\/aws4_request/);
    assert.match(seen[0]!.host, /^000000000000\.localhost:\d+$/);
  });

  it('holds its documented quotas: a value of 1 KB and a key of 512 bytes, all or nothing per UpdateKeys', async () => {
    const { ETag } = await kvs.send(new DescribeKeyValueStoreCommand({ KvsARN: ARN }));
    const update = (puts: { Key: string; Value: string }[]) => kvs.send(new UpdateKeysCommand({ KvsARN: ARN, IfMatch: ETag, Puts: puts }));
    await assert.rejects(update([{ Key: 'b', Value: 'x' }, { Key: 'big', Value: 'x'.repeat(STORE_QUOTAS.valueBytes + 1) }]), { name: 'ValidationException', message: /1024/ });
    await assert.rejects(update([{ Key: 'k'.repeat(STORE_QUOTAS.keyBytes + 1), Value: 'x' }]), { name: 'ValidationException', message: /512/ });
    await assert.rejects(kvs.send(new GetKeyCommand({ KvsARN: ARN, Key: 'b' })), { name: 'ResourceNotFoundException' }, 'nothing of a refused batch is kept');
    await update([{ Key: 'b', Value: 'x'.repeat(STORE_QUOTAS.valueBytes) }]);
    const listed = await kvs.send(new ListKeysCommand({ KvsARN: ARN }));
    assert.deepEqual(listed.Items?.map((i) => i.Key), ['a', 'b']);
  });

  it("reaches the edge's functions only after the propagation delay", async () => {
    const slow = new LocalKeyValueStore(ARN, 40);
    slow.update(slow.etag, [{ Key: 'tenant:x', Value: 'v1' }], []);
    assert.equal(slow.edge.get('tenant:x'), undefined, 'not yet at the edge');
    assert.equal(slow.get('tenant:x'), 'v1', 'the API sees it at once');
    await slow.propagated();
    assert.equal(slow.edge.get('tenant:x'), 'v1');
    slow.close();
  });
});

describe('the twin Secrets Manager API, through the SDK client', () => {
  it("keeps a tenant's key sets as versions: AWSCURRENT the newest, AWSPREVIOUS the one before", async () => {
    const one = { keys: [{ kid: 'k1', secret: 's'.repeat(32) }] };
    const two = { keys: [...one.keys, { kid: 'k2', secret: 't'.repeat(32) }] };
    assert.equal(await secrets.get('shop'), null);
    await secrets.put('shop', one);
    await secrets.put('shop', two);
    assert.deepEqual(await secrets.get('shop'), two);
    assert.deepEqual(await secrets.get('shop', 'AWSPREVIOUS'), one);
    assert.deepEqual(await secrets.tenants(), ['shop']);
    await assert.rejects(sm.send(new GetSecretValueCommand({ SecretId: 'pictor/signing-keys/none' })), { name: 'ResourceNotFoundException' });
  });
});
