import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { createApi, type ApiServices } from './api.ts';

/** The structured logger's calls, by level: what an operator's log query would find. */
function recordingLogger() {
  const lines: { level: string; message: string; extra: Record<string, unknown> }[] = [];
  const at = (level: string) => (message: string, extra: Record<string, unknown> = {}) => void lines.push({ level, message, extra });
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

const OPS = 'arn:aws:iam::111122223333:user/ops';
const SHOP = 'arn:aws:sts::111122223333:assumed-role/pictor-tenant-shop/alice';

function event(routeKey: string, userArn?: string, pathParameters?: Record<string, string>): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey,
    rawPath: '/',
    rawQueryString: '',
    headers: {},
    isBase64Encoded: false,
    ...(pathParameters ? { pathParameters } : {}),
    requestContext: { requestId: 'r-1', ...(userArn ? { authorizer: { iam: { userArn } } } : {}) },
  } as unknown as APIGatewayProxyEventV2;
}

/** The API with only what these requests reach: the principals, a registry that fails, and the logger. */
function api(registryError?: Error) {
  const { lines, logger } = recordingLogger();
  const services = {
    config: { tenantRoles: { 'arn:aws:iam::111122223333:role/pictor-tenant-shop': 'shop' }, admins: [OPS] },
    registry: { listTenants: async () => Promise.reject(registryError) },
    logger,
  } as unknown as ApiServices;
  return { handle: createApi(services), lines };
}

describe('the control API handler', () => {
  it('logs every request once, with the route, the caller and the status', async () => {
    const { handle, lines } = api();
    const health = await handle(event('GET /v1/health'));
    assert.equal(health.statusCode, 200);
    const refused = await handle(event('GET /v1/tenants', SHOP));
    assert.equal(refused.statusCode, 403);
    assert.deepEqual(JSON.parse(refused.body!), { code: 'AccessDenied', message: `${SHOP} is not an admin of this API, and GET /v1/tenants is for admins.` });
    assert.deepEqual(
      lines.map((l) => [l.level, l.message, l.extra.route, l.extra.caller, l.extra.status]),
      [
        ['info', 'request', 'GET /v1/health', 'anonymous', 200],
        ['info', 'request refused', 'GET /v1/tenants', SHOP, 403],
      ],
    );
  });

  it("refuses a tenant's caller on another tenant, and an unsigned call to a signed route, before any service is asked", async () => {
    const { handle, lines } = api();
    const other = await handle(event('GET /v1/tenants/{tenant}/images/{imageId}', SHOP, { tenant: 'blog', imageId: 'x' }));
    assert.equal(other.statusCode, 403);
    assert.equal(JSON.parse(other.body!).code, 'AccessDenied');
    const unsigned = await handle(event('GET /v1/tenants/{tenant}/images/{imageId}', undefined, { tenant: 'shop', imageId: 'x' }));
    assert.equal(unsigned.statusCode, 403);
    const badTenant = await handle(event('GET /v1/tenants/{tenant}/images/{imageId}', OPS, { tenant: 'NOT_A_TENANT', imageId: 'x' }));
    assert.equal(badTenant.statusCode, 400);
    assert.equal(JSON.parse(badTenant.body!).code, 'InvalidRequest');
    assert.equal(lines.length, 3);
  });

  it('answers a fault with a 500 whose message hides it, logged once at ERROR with the error', async () => {
    const { handle, lines } = api(new Error('secret internals'));
    const failed = await handle(event('GET /v1/tenants', OPS));
    assert.equal(failed.statusCode, 500);
    assert.deepEqual(JSON.parse(failed.body!), { code: 'InternalError', message: 'The request could not be served.' });
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.level, 'error');
    assert.equal(lines[0]!.extra.caller, OPS);
    assert.equal((lines[0]!.extra.error as Error).message, 'secret internals');
  });

  it('answers a route it does not know with a 404', async () => {
    const { handle } = api();
    const missing = await handle(event('GET /v9/nothing', OPS));
    assert.equal(missing.statusCode, 404);
    assert.equal(JSON.parse(missing.body!).code, 'NotFound');
  });
});
