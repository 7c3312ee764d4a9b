import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SignatureV4 } from '@smithy/signature-v4';
import { ApiAccessError, regionOf, resolveApiAccess, Sha256, TWIN_REGION } from './api-client.ts';
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
  it("reads the region from an execute-api host, and asks for it on a custom domain", () => {
    assert.equal(regionOf(new URL('https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/'), undefined), 'eu-west-1');
    assert.equal(regionOf(new URL('https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/'), 'us-east-1'), 'eu-west-1', "the host's region is the one API Gateway checks");
    assert.equal(regionOf(new URL('https://api.images.example.com/'), 'us-west-2'), 'us-west-2');
    assert.throws(() => regionOf(new URL('https://api.images.example.com/'), undefined), ApiAccessError);
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
