import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { SignatureV4 } from '@smithy/signature-v4';
import { ApiAccessError, ApiClient, ApiError, regionOf, resolveApiAccess, Sha256, TWIN_REGION } from './api-client.ts';
import { runCli } from './cli.ts';
import { LOCAL_S3_CREDENTIALS } from './twin-names.ts';

const TWIN = { api: 'http://127.0.0.1:8082', control: 'http://127.0.0.1:8081' };

describe("the API client's signature", () => {
  it("signs as AWS's SigV4 test suite does (get-vanilla), with node's SHA-256", async () => {
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/signing-elements.html; the vector is the suite's get-vanilla case.
    const signer = new SignatureV4({
      service: 'service',
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' },
      sha256: Sha256,
      applyChecksum: false,
    });
    const signed = await signer.sign({ method: 'GET', protocol: 'https:', hostname: 'example.amazonaws.com', path: '/', query: {}, headers: { host: 'example.amazonaws.com' } }, { signingDate: new Date('2015-08-30T12:36:00Z') });
    assert.equal(
      signed.headers.authorization,
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
    );
  });

  it('hashes a body given as bytes as it hashes the same text', async () => {
    const [text, bytes] = [new Sha256(), new Sha256()];
    text.update('{"imageId":"a"}');
    bytes.update(new TextEncoder().encode('{"imageId":"a"}'));
    assert.deepEqual(await text.digest(), await bytes.digest());
  });
});

describe('where the API is and who calls it', () => {
  it("reads the region from an execute-api host; on a custom domain takes --region, or leaves it to /v1/health", () => {
    assert.equal(regionOf(new URL('https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/'), undefined), 'eu-west-1');
    assert.equal(regionOf(new URL('https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/'), 'us-east-1'), 'eu-west-1', "the host's region is the one API Gateway checks");
    assert.equal(regionOf(new URL('https://api.images.example.com/'), 'us-west-2'), 'us-west-2');
    assert.equal(regionOf(new URL('https://api.images.example.com/'), undefined), undefined);
    assert.throws(() => regionOf(new URL('https://api.images.example.com/'), 'Ireland'), ApiAccessError);
  });

  it("does not sign a custom domain for AWS_REGION: the caller's default region need not be the one answering", async () => {
    const env = { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret', AWS_REGION: 'us-west-2' };
    const target = await resolveApiAccess({ api: 'https://api.images.example.com/', twinEndpoints: TWIN, env, clients: [] });
    assert.equal(target.region, undefined);
    const flag = await resolveApiAccess({ api: 'https://api.images.example.com/', region: 'eu-west-1', twinEndpoints: TWIN, env, clients: [] });
    assert.equal(flag.region, 'eu-west-1');
  });

  it("calls the twin's API with the twin's admin keys when no credentials are configured", async () => {
    const target = await resolveApiAccess({ twinEndpoints: TWIN, env: {}, clients: [] });
    assert.deepEqual([target.url, target.region, target.twin], ['http://127.0.0.1:8082/', TWIN_REGION, true]);
    assert.deepEqual(await target.credentials(), LOCAL_S3_CREDENTIALS);
  });

  it('uses the credentials the environment gives, against the twin or a deployment', async () => {
    const env = { AWS_ACCESS_KEY_ID: 'ASIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret', AWS_SESSION_TOKEN: 'token', PICTOR_API_URL: 'https://x1.execute-api.ap-southeast-2.amazonaws.com/prod/' };
    const deployed = await resolveApiAccess({ twinEndpoints: TWIN, env, clients: [] });
    assert.deepEqual([deployed.url, deployed.region, deployed.twin], [env.PICTOR_API_URL, 'ap-southeast-2', false]);
    assert.deepEqual(await deployed.credentials(), { accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 'secret', sessionToken: 'token' });
    const twin = await resolveApiAccess({ twinEndpoints: TWIN, env: { ...env, PICTOR_API_URL: undefined }, clients: [] });
    assert.equal((await twin.credentials()).accessKeyId, 'ASIAEXAMPLE');
    const flag = await resolveApiAccess({ api: 'https://y2.execute-api.us-west-2.amazonaws.com/', twinEndpoints: TWIN, env, clients: [] });
    assert.equal(flag.region, 'us-west-2', '--api wins over PICTOR_API_URL');
  });

  it('refuses a role ARN that is none before asking STS', async () => {
    await assert.rejects(resolveApiAccess({ roleArn: 'pictor-tenant-shop', twinEndpoints: TWIN, env: {}, clients: [] }), (error: Error) => error instanceof ApiAccessError && /^--role-arn must be a role's ARN/.test(error.message));
  });
});

/**
 * A latency-routed domain in one process: `/v1/health` names the region that answers now,
 * and a signed request scoped to another region is refused as API Gateway refuses it.
 */
describe('signing behind a latency-routed domain', () => {
  let server: Server;
  let url: string;
  let answering = 'eu-west-1';
  /** Each request: its path and the region its signature is scoped to (none when unsigned). */
  let seen: { path: string; scope: string | undefined }[] = [];
  const env = { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', AWS_REGION: 'us-west-2' };

  before(async () => {
    server = createServer((request, response) => {
      const scope = /Credential=[^/]+\/\d{8}\/([^/]+)\/execute-api\/aws4_request/.exec(request.headers.authorization ?? '')?.[1];
      seen.push({ path: request.url!, scope });
      response.setHeader('content-type', 'application/json');
      if (request.url === '/v1/health') return response.end(JSON.stringify({ status: 'ok', region: answering }));
      if (scope !== answering) {
        response.statusCode = 403;
        return response.end(JSON.stringify({ message: 'Credential should be scoped to a valid region. ' }));
      }
      response.end(JSON.stringify({ tenant: 'shop', signedFor: scope }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const clientOf = async (region?: string) => new ApiClient(await resolveApiAccess({ api: url, region, twinEndpoints: TWIN, env, clients: [] }));

  it('asks /v1/health once, unsigned, and signs for the region it names', async () => {
    [answering, seen] = ['eu-west-1', []];
    const client = await clientOf();
    assert.deepEqual(await client.getPolicy('shop'), { tenant: 'shop', signedFor: 'eu-west-1' });
    await client.getPolicy('shop');
    assert.deepEqual(seen, [
      { path: '/v1/health', scope: undefined },
      { path: '/v1/tenants/shop/policy', scope: 'eu-west-1' },
      { path: '/v1/tenants/shop/policy', scope: 'eu-west-1' },
    ]);
  });

  it('asks again and sends once more when a failover moved the domain to another region', async () => {
    [answering, seen] = ['eu-west-1', []];
    const client = await clientOf();
    await client.getPolicy('shop');
    answering = 'us-east-1';
    assert.deepEqual(await client.getPolicy('shop'), { tenant: 'shop', signedFor: 'us-east-1' });
    assert.deepEqual(seen.slice(2), [
      { path: '/v1/tenants/shop/policy', scope: 'eu-west-1' },
      { path: '/v1/health', scope: undefined },
      { path: '/v1/tenants/shop/policy', scope: 'us-east-1' },
    ]);
  });

  it('sends a refused request once more, not again and again', async () => {
    [answering, seen] = ['eu-west-1', []];
    const client = await clientOf();
    const refuse = server.listeners('request')[0] as (...args: unknown[]) => void;
    // Every health check names eu-west-1, but the signed requests reach us-east-1.
    server.removeAllListeners('request');
    server.on('request', (request, response) => {
      if (request.url !== '/v1/health') answering = 'us-east-1';
      refuse(request, response);
      answering = 'eu-west-1';
    });
    try {
      await assert.rejects(client.getPolicy('shop'), (error: Error) => error instanceof ApiError && error.status === 403 && /scoped to a valid region/.test(error.message));
    } finally {
      server.removeAllListeners('request');
      server.on('request', refuse);
    }
    assert.deepEqual(seen.map((r) => r.path), ['/v1/health', '/v1/tenants/shop/policy', '/v1/health', '/v1/tenants/shop/policy']);
  });

  it('signs for --region without asking, and does not retry on a refusal: the caller chose it', async () => {
    [answering, seen] = ['us-east-1', []];
    const client = await clientOf('eu-west-1');
    await assert.rejects(client.getPolicy('shop'), (error: Error) => error instanceof ApiError && error.status === 403);
    assert.deepEqual(seen, [{ path: '/v1/tenants/shop/policy', scope: 'eu-west-1' }]);
    answering = 'eu-west-1';
    assert.deepEqual(await client.getPolicy('shop'), { tenant: 'shop', signedFor: 'eu-west-1' });
  });

  it("says, when --region names a region that does not answer, to leave it out", async () => {
    [answering, seen] = ['us-east-1', []];
    let [stdout, stderr] = ['', ''];
    const code = await runCli(['tenants', 'list', '--api', url, '--region', 'eu-west-1'], { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) }, env });
    assert.deepEqual([code, stdout], [1, '']);
    assert.equal(stderr, "pictor: The API answered 403 to GET /v1/tenants: Credential should be scoped to a valid region. It does not answer from eu-west-1: leave --region out and the CLI signs for the region the API's /v1/health names.\n");
  });

  it('says to give --region when /v1/health names no region', async () => {
    [answering, seen] = ['', []];
    const client = await clientOf();
    await assert.rejects(client.getPolicy('shop'), /answered GET \/v1\/health with no region .*give it with --region/);
    assert.deepEqual(seen.map((r) => r.path), ['/v1/health']);
  });
});
