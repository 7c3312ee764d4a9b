import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SignatureV4 } from '@smithy/signature-v4';
import type { HttpRequest } from '@smithy/types';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { startLocalApiGateway, type LocalApiFunction, type LocalHttpApi, type LocalRoute } from './api-gateway.ts';
import { Sha256 } from './api-client.ts';
import { LocalIdentities, type Credentials } from './iam/identities.ts';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './pipeline/template.ts';
import { LOCAL_S3_CREDENTIALS } from './twin-names.ts';

/**
 * The twin's API Gateway verifies SigV4 as API Gateway does for IAM-authorized routes:
 * requests signed by @smithy/signature-v4 (what the SDK, the CLI's ApiClient and the
 * docs' sign hook use) pass; a wrong secret, scope, date, token, body or path does not.
 */

const FUNCTION_ARN = `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:echo`;
const route = (method: string, path: string, authorization: LocalRoute['authorization'] = 'AWS_IAM'): LocalRoute => ({
  method,
  segments: path.split('/').filter(Boolean),
  routeKey: `${method} ${path}`,
  authorization,
  functionArn: FUNCTION_ARN,
  timeoutMs: 3000,
});
const API: LocalHttpApi = {
  apiId: 'api1234567',
  routes: [
    route('GET', '/v1/health', 'NONE'),
    route('GET', '/v1/tenants/{tenant}/images/{imageId}'),
    route('POST', '/v1/tenants/{tenant}/uploads'),
    route('DELETE', '/v1/tenants/{tenant}'),
  ],
};
const SHOP_ROLE = `arn:aws:iam::${LOCAL_ACCOUNT}:role/TenantShop`;

/** The function answers with what API Gateway gave it. */
const echo: LocalApiFunction = async (event: APIGatewayProxyEventV2) => {
  const iam = (event.requestContext as unknown as { authorizer?: { iam?: { userArn?: string } } }).authorizer?.iam;
  return { statusCode: 200, body: JSON.stringify({ path: event.rawPath, query: event.rawQueryString, body: event.body ?? null, caller: iam?.userArn ?? null }) };
};

interface Sent {
  readonly method: string;
  readonly path: string;
  readonly query?: Record<string, string>;
  readonly body?: string;
  readonly headers?: Record<string, string>;
}

describe('the local API Gateway verifies SigV4 signatures', () => {
  let gateway: Awaited<ReturnType<typeof startLocalApiGateway>>;
  let identities: LocalIdentities;
  let shop: Credentials;

  before(async () => {
    identities = new LocalIdentities([
      {
        arn: SHOP_ROLE,
        account: LOCAL_ACCOUNT,
        statements: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: `arn:aws:execute-api:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${API.apiId}/*/*/v1/tenants/shop/*` }],
      },
    ]);
    shop = identities.sessionOf(SHOP_ROLE, 'shop-test');
    gateway = await startLocalApiGateway({ api: API, functions: new Map([[FUNCTION_ARN, echo]]), identities });
  });
  after(() => gateway.close());

  /** The request signed with @smithy/signature-v4, as the SDK signs it. */
  async function sign(credentials: Credentials, request: Sent, options: { region?: string; service?: string; signingDate?: Date } = {}): Promise<Record<string, string>> {
    const url = new URL(gateway.url);
    const signer = new SignatureV4({ service: options.service ?? 'execute-api', region: options.region ?? LOCAL_REGION, credentials, sha256: Sha256 });
    const unsigned: HttpRequest = {
      method: request.method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path: request.path,
      query: request.query ?? {},
      headers: { host: url.host, ...(request.body === undefined ? {} : { 'content-type': 'application/json' }), ...request.headers },
      ...(request.body === undefined ? {} : { body: request.body }),
    };
    const signed = await signer.sign(unsigned, options.signingDate ? { signingDate: options.signingDate } : {});
    const { host: _host, ...headers } = signed.headers;
    return headers;
  }

  /** Sends a request with these headers; `request` may differ from what was signed. */
  async function send(request: Sent, headers: Record<string, string>): Promise<{ status: number; json: Record<string, unknown>; errorType: string | null }> {
    const query = new URLSearchParams(request.query ?? {}).toString();
    const response = await fetch(`${gateway.url}${request.path}${query ? `?${query.replace(/\+/g, '%20')}` : ''}`, { method: request.method, headers, body: request.body });
    return { status: response.status, json: (await response.json()) as Record<string, unknown>, errorType: response.headers.get('x-amzn-errortype') };
  }

  const call = async (credentials: Credentials, request: Sent) => send(request, await sign(credentials, request));
  const image: Sent = { method: 'GET', path: '/v1/tenants/shop/images/sku-42', query: { width: '640', fit: 'cover me' } };
  const upload: Sent = { method: 'POST', path: '/v1/tenants/shop/uploads', body: JSON.stringify({ imageId: 'sku-42', contentType: 'image/jpeg' }) };

  it("passes a role session's GET with a query and POST with a JSON body, and names the session", async () => {
    const get = await call(shop, image);
    assert.equal(get.status, 200, JSON.stringify(get.json));
    assert.equal(get.json.caller, `arn:aws:sts::${LOCAL_ACCOUNT}:assumed-role/TenantShop/shop-test`);
    assert.equal(get.json.query, 'width=640&fit=cover%20me');
    const post = await call(shop, upload);
    assert.equal(post.status, 200, JSON.stringify(post.json));
    assert.equal(post.json.body, upload.body);
  });

  it("passes the admin's fixed keys, and a path with an escaped id (signed twice-encoded, as every service but S3)", async () => {
    const escaped = await call(LOCAL_S3_CREDENTIALS, { method: 'GET', path: '/v1/tenants/shop/images/sku%2042%C3%A9' });
    assert.equal(escaped.status, 200, JSON.stringify(escaped.json));
    assert.equal(escaped.json.path, '/v1/tenants/shop/images/sku%2042%C3%A9');
  });

  it('refuses a signature made with the wrong secret, saying what it computed', async () => {
    const wrong = await call({ ...shop, secretAccessKey: 'not-the-secret' }, image);
    assert.equal(wrong.status, 403);
    assert.equal(wrong.errorType, 'InvalidSignatureException');
    assert.match(String(wrong.json.message), /^The request signature we calculated does not match the signature you provided\. Check your AWS Secret Access Key and signing method\. Consult the service documentation for details\.\n\nThe Canonical String for this request should have been\n'GET\n\/v1\/tenants\/shop\/images\/sku-42\nfit=cover%20me&width=640\n/);
    const admin = await call({ accessKeyId: LOCAL_S3_CREDENTIALS.accessKeyId, secretAccessKey: 'nope' }, image);
    assert.equal(admin.status, 403);
    assert.match(String(admin.json.message), /^The request signature we calculated does not match/);
  });

  it('refuses a tampered body, path or query', async () => {
    const headers = await sign(shop, upload);
    const tamperedBody = await send({ ...upload, body: JSON.stringify({ imageId: 'sku-43', contentType: 'image/jpeg' }) }, headers);
    assert.equal(tamperedBody.status, 403);
    assert.match(String(tamperedBody.json.message), /^The request signature we calculated does not match/);
    const getHeaders = await sign(shop, image);
    const tamperedPath = await send({ ...image, path: '/v1/tenants/shop/images/sku-43' }, getHeaders);
    assert.equal(tamperedPath.status, 403);
    const tamperedQuery = await send({ ...image, query: { width: '9999', fit: 'cover me' } }, getHeaders);
    assert.equal(tamperedQuery.status, 403);
  });

  it('refuses a scope of another region or service', async () => {
    const region = await send(image, await sign(shop, image, { region: 'eu-west-9' }));
    assert.deepEqual([region.status, region.json.message], [403, "Credential should be scoped to a valid region, not 'eu-west-9'. "]);
    const service = await send(image, await sign(shop, image, { service: 's3' }));
    assert.deepEqual([service.status, service.json.message], [403, "Credential should be scoped to correct service: 'execute-api'. "]);
  });

  it('refuses a date more than 5 minutes from now, either way, and one the scope does not name', async () => {
    const now = Date.now();
    const fine = await send(image, await sign(shop, image, { signingDate: new Date(now - 4 * 60_000) }));
    assert.equal(fine.status, 200, JSON.stringify(fine.json));
    const stale = await send(image, await sign(shop, image, { signingDate: new Date(now - 16 * 60_000) }));
    assert.equal(stale.status, 403);
    assert.match(String(stale.json.message), /^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 5 min\.\)$/);
    const early = await send(image, await sign(shop, image, { signingDate: new Date(now - 6 * 60_000) }));
    assert.equal(early.status, 403);
    const future = await send(image, await sign(shop, image, { signingDate: new Date(now + 16 * 60_000) }));
    assert.equal(future.status, 403);
    assert.match(String(future.json.message), /^Signature not yet current: /);
    const headers = await sign(shop, image);
    const otherDay = await send(image, { ...headers, authorization: headers.authorization!.replace(/\/\d{8}\//, '/20200101/') });
    assert.equal(otherDay.status, 403);
    assert.match(String(otherDay.json.message), /^Date in Credential scope does not match YYYYMMDD/);
  });

  it("refuses a session's key without its token, with another token, an unknown key, and a fixed key with a token", async () => {
    const { sessionToken: _token, ...withoutToken } = shop;
    for (const credentials of [withoutToken, { ...shop, sessionToken: 'someone-elses-token' }, { accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'x' }, { ...LOCAL_S3_CREDENTIALS, sessionToken: 'made-up' }]) {
      const refused = await call(credentials, image);
      assert.deepEqual([refused.status, refused.json.message, refused.errorType], [403, 'The security token included in the request is invalid.', 'UnrecognizedClientException'], credentials.accessKeyId);
    }
  });

  it('refuses a hand-written Authorization header before the route runs, and no header with "Forbidden"', async () => {
    const date = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
    const handWritten = await send({ method: 'DELETE', path: '/v1/tenants/shop2' }, { authorization: 'AWS4-HMAC-SHA256 Credential=S3RVER/20200101/x/y/aws4_request, SignedHeaders=host, Signature=00', 'x-amz-date': date });
    assert.deepEqual([handWritten.status, handWritten.json.message], [403, "Credential should be scoped to a valid region, not 'x'. "]);
    const forged = await send(
      { method: 'DELETE', path: '/v1/tenants/shop' },
      { authorization: `AWS4-HMAC-SHA256 Credential=S3RVER/${date.slice(0, 8)}/${LOCAL_REGION}/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=00`, 'x-amz-date': date },
    );
    assert.equal(forged.status, 403);
    assert.match(String(forged.json.message), /^The request signature we calculated does not match/);
    const noDate = await send(image, { authorization: 'AWS4-HMAC-SHA256 Credential=S3RVER/20200101/us-east-1/execute-api/aws4_request' });
    assert.deepEqual(
      [noDate.status, noDate.json.message],
      [403, "Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=AWS4-HMAC-SHA256 Credential=S3RVER/20200101/us-east-1/execute-api/aws4_request"],
    );
    const bearer = await send(image, { authorization: 'Bearer token', 'x-amz-date': date });
    assert.deepEqual([bearer.status, bearer.json.message], [403, "'token' not a valid key=value pair (missing equal-sign) in Authorization header: 'Bearer token'."]);
    const unsigned = await send(image, {});
    assert.deepEqual([unsigned.status, unsigned.json], [403, { message: 'Forbidden' }]);
  });

  it('refuses a signature whose signed headers leave out the host', async () => {
    const headers = await sign(shop, image);
    const withoutHost = await send(image, { ...headers, authorization: headers.authorization!.replace('SignedHeaders=host;', 'SignedHeaders=') });
    assert.deepEqual([withoutHost.status, withoutHost.json.message], [403, "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."]);
  });

  it("still refuses a valid signature on another tenant's route (the caller's policies)", async () => {
    const other = await call(shop, { method: 'DELETE', path: '/v1/tenants/shop2' });
    assert.deepEqual([other.status, other.json], [403, { message: 'Forbidden' }]);
  });

  it('answers a path whose percent-encoding is malformed with 400, not 500', async () => {
    const response = await fetch(`${gateway.url}/v1/tenants/demo/images/%E0%A4%A`);
    assert.deepEqual([response.status, await response.json()], [400, { message: 'Bad Request' }]);
    const health = await fetch(`${gateway.url}/v1/health`);
    assert.equal(health.status, 200);
  });
});
