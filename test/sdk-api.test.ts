import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { before, describe, it } from 'node:test';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { Sha256Js } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { buildUrl, createApiClient, isPictorApiError, uploadFile, type ApiClient } from '../client/index.ts';
import { parseConfig } from '../core/tenant-config.ts';
import { LOCAL_REGION } from '../local/account.ts';
import { localNames } from '../local/pipeline/storage.ts';
import { resolveTokens } from '../local/pipeline/template.ts';
import { BUCKETS, LOCAL_S3_CREDENTIALS } from '../local/twin-names.ts';
import type { Twin } from '../local/twin.ts';
import { fixture, fixturesMissing } from './support/images.ts';
import { uniqueId, useTwin } from './support/twin-fixture.ts';

/**
 * pictor/client's API client end to end: a tenant's role session signs with
 * @smithy/signature-v4 (the docs' `sign`), the twin's API Gateway checks its
 * IAM authorization and runs the real handler, the file goes to the twin's S3
 * with the presigned POST, and RenderOnUpload publishes it.
 */
const CONFIG = parseConfig({ tenants: { shop: { breakpoints: [160, 320, 640, 1280] }, blog: {} } });
const fixtureTwin = useTwin({ config: CONFIG, timeScale: 0.002 });

type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

/** The docs' `sign` (docs/SDK.md, "Uploading and following an image"), for these credentials, in the region the client names (the twin's API: LOCAL_REGION). */
function signWith(credentials: Credentials, regions: string[] = []): (request: Request, context: { region: string }) => Promise<Request> {
  return async (request, { region }) => {
    regions.push(region);
    const signer = new SignatureV4({ service: 'execute-api', region, credentials, sha256: Sha256Js });
    const url = new URL(request.url);
    const body = request.body ? await request.text() : undefined;
    const signed = await signer.sign({
      method: request.method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: { ...Object.fromEntries(request.headers), host: url.host },
      body,
    });
    const { host: _host, ...headers } = signed.headers;
    return new Request(request.url, { method: request.method, headers, body, signal: request.signal });
  };
}

/** A session of tenant `tenant`'s role, assumed with STS on the twin as the account's admin. */
async function tenantSession(twin: Twin, tenant: string): Promise<Credentials> {
  const { template } = twin.pipeline!;
  const roles = Object.keys(template.Resources).filter((id) => template.Resources[id]!.Type === 'AWS::IAM::Role' && new RegExp(`^Tenant${tenant}[0-9A-F]{8}$`).test(id));
  assert.equal(roles.length, 1, `tenant ${tenant}'s role: ${roles.join(', ')}`);
  const roleArn = resolveTokens({ 'Fn::GetAtt': [roles[0], 'Arn'] }, template, localNames(template)) as string;
  const sts = new STSClient({ region: LOCAL_REGION, endpoint: twin.controlUrl, credentials: LOCAL_S3_CREDENTIALS, maxAttempts: 1 });
  try {
    const { Credentials: c } = await sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'sdk-test' }));
    return { accessKeyId: c!.AccessKeyId!, secretAccessKey: c!.SecretAccessKey!, sessionToken: c!.SessionToken! };
  } finally {
    sts.destroy();
  }
}

describe('pictor/client against the twin', () => {
  let twin: Twin;
  let shop: ApiClient;
  /** The region each signed request was signed for. */
  const regions: string[] = [];

  before(async () => {
    twin = await fixtureTwin.started;
    assert.ok(twin.apiUrl, 'the twin serves the control API');
    shop = createApiClient({ baseUrl: twin.apiUrl, sign: signWith(await tenantSession(twin, 'shop'), regions) });
  });

  it("signs for the region the API's /v1/health names, its URL naming none", async () => {
    regions.length = 0;
    assert.equal((await shop.getPolicy('shop')).tenant, 'shop');
    assert.deepEqual(regions, [LOCAL_REGION]);
  });

  it('uploads a real photo with the ticket, follows it to its published version, and the edge serves it', { skip: fixturesMissing }, async () => {
    const bytes = await readFile(fixture('Landscape_1.jpg'));
    const imageId = uniqueId('landscape');
    const file = new Blob([bytes], { type: 'image/jpeg' });

    const ticket = await shop.createUpload('shop', { imageId, contentType: file.type, contentLength: file.size });
    assert.equal(ticket.key, `shop/${imageId}`);
    assert.deepEqual(await uploadFile(ticket, file), { key: ticket.key });
    const image = await shop.waitForImage('shop', imageId, { timeoutMs: 60_000, intervalMs: 50 });

    assert.equal(image.lastExecution?.status, 'SUCCEEDED', JSON.stringify(image.lastExecution));
    assert.equal(image.lastExecution?.outcome, 'published');
    assert.equal(image.state, 'published');
    assert.equal(image.version, 1);
    // The file arrived byte for byte under the derived key.
    const stored = await twin.s3Client.send(new GetObjectCommand({ Bucket: BUCKETS.originals.bucket, Key: ticket.key }));
    assert.deepEqual(Buffer.from(await stored.Body!.transformToByteArray()), bytes);
    // The status's URL, with the tenant's policy, is one the edge serves.
    const policy = await shop.getPolicy('shop');
    const served = await fetch(buildUrl(policy, image.urls!.versioned, { width: 320, format: 'webp' }));
    assert.equal(served.status, 200);
    assert.equal(served.headers.get('content-type'), 'image/webp');
  });

  it("refuses, as API Gateway does, an unsigned request and another tenant's route", async () => {
    const unsigned = createApiClient({ baseUrl: twin.apiUrl! });
    const refusal = (promise: Promise<unknown>) =>
      promise.then(
        () => assert.fail('expected a refusal'),
        (error: unknown) => (assert.ok(isPictorApiError(error), String(error)), [error.code, error.status]),
      );
    assert.deepEqual(await refusal(unsigned.getPolicy('shop')), ['Forbidden', 403]);
    assert.deepEqual(await refusal(shop.getPolicy('blog')), ['Forbidden', 403]);
    assert.deepEqual(await refusal(shop.createUpload('blog', { imageId: 'x', contentType: 'image/jpeg' })), ['Forbidden', 403]);
  });

  it("answers the API's own codes with their status", async () => {
    const error = await shop.createUpload('shop', { imageId: uniqueId('gif'), contentType: 'image/x-icon' }).then(
      () => assert.fail('expected a refusal'),
      (e: unknown) => e,
    );
    assert.ok(isPictorApiError(error), String(error));
    assert.equal(error.status, 415);
    assert.equal(error.code, 'UnsupportedContentType');
    assert.match(error.message, /image\/x-icon is not one tenant shop takes/);
  });
});
