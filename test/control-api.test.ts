import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { before, describe, it } from 'node:test';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { ImageStatus, JobStatus, UploadTicket } from '../control-api/contract.ts';
import { parseConfig } from '../core/tenant-config.ts';
import { ApiClient, ApiError, resolveApiAccess } from '../local/api-client.ts';
import { localNames } from '../local/pipeline/storage.ts';
import { resolveTokens } from '../local/pipeline/template.ts';
import { sampleImage } from '../local/sample-image.ts';
import type { Twin } from '../local/twin.ts';
import { BUCKETS } from '../local/twin-names.ts';
import { fixture, fixturesMissing } from './support/images.ts';
import { useTwin, uniqueId } from './support/twin-fixture.ts';

const MAX_BYTES = 400_000;
const TENANTS = parseConfig({
  tenants: {
    shop: { breakpoints: [320, 640], variants: { widths: [320], formats: ['webp', 'legacy'] }, uploads: { maxBytes: MAX_BYTES, contentTypes: ['image/jpeg', 'image/png'] } },
    blog: { breakpoints: [320, 640], variants: { widths: [320], formats: ['legacy'] } },
  },
});

const APP = 'http://app.localhost:3000';
const fx = useTwin({ config: TENANTS, timeScale: 0.003, invalidationDelayMs: 50, keyValueStorePropagationMs: 0, browserOrigins: [APP] });
let twin: Twin;
/** The twin's account administrator, named among the API's admins by the twin's deployment. */
let admin: ApiClient;
/** Sessions of the tenants' roles, as a tenant's team would assume them. */
let shop: ApiClient;
let blog: ApiClient;
let shopCaller: string;

/** A client of the twin's API, as the account's administrator or, with a role, as its session. */
async function client(roleArn?: string): Promise<ApiClient> {
  const clients: { destroy(): void }[] = [];
  const target = await resolveApiAccess({ roleArn, twinEndpoints: { api: twin.apiUrl!, control: twin.controlUrl }, env: {}, clients });
  return new ApiClient(target);
}

/** Who a client signs as, as STS names them (what the API names as the requester). */
async function callerArn(api: ApiClient): Promise<string> {
  return (await api.target.caller()).split(' ')[0]!;
}

/** A tenant's role, as the pipeline stack outputs it (TenantRole<Tenant>). */
function tenantRole(tenant: string): string {
  const template = twin.pipeline!.template as { Outputs?: Record<string, { Value: unknown }> };
  const value = template.Outputs?.[`TenantRole${tenant[0]!.toUpperCase()}${tenant.slice(1)}`]?.Value;
  assert.ok(value, `the pipeline stack outputs ${tenant}'s role`);
  return resolveTokens(value, twin.pipeline!.template, localNames(twin.pipeline!.template)) as string;
}

/** Posts a ticket's form as a browser does: every field first, the file last. */
async function post(ticket: UploadTicket, body: Buffer, type = ticket.upload.contentType): Promise<Response> {
  const form = new FormData();
  for (const [name, value] of Object.entries(ticket.upload.fields)) form.append(name, value);
  form.append('file', new Blob([new Uint8Array(body)], { type }), 'upload');
  return fetch(ticket.upload.url, { method: 'POST', body: form });
}

/** Polls until `done`, or fails at the deadline with what was seen last. */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string, deadlineMs = 60_000): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  let last: T | undefined;
  for (;;) {
    try {
      last = await read();
      if (done(last)) return last;
    } catch (error) {
      // A job answers 404 until EventBridge has started its first execution.
      if (!(error instanceof ApiError && error.status === 404)) throw error;
    }
    if (Date.now() > deadline) assert.fail(`${what} did not happen within ${deadlineMs} ms; last seen: ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function uploadAndPublish(api: ApiClient, tenant: string, imageId: string, body: Buffer, contentType = 'image/jpeg'): Promise<ImageStatus> {
  const ticket = await api.createUpload(tenant, { imageId, contentType, contentLength: body.length });
  const response = await post(ticket, body);
  assert.equal(response.status, 204, await response.text());
  return until(() => api.getImage(tenant, imageId), (s) => s.lastExecution !== null && s.lastExecution.status !== 'RUNNING', `${tenant}/${imageId}'s render`);
}

before(async () => {
  twin = await fx.started;
  admin = await client();
  shop = await client(tenantRole('shop'));
  blog = await client(tenantRole('blog'));
  shopCaller = await callerArn(shop);
});

describe('the control API on the twin, through its real handler', () => {
  it('answers the health check unsigned, and refuses an unsigned call to any other route at API Gateway', async () => {
    const health = await fetch(`${twin.apiUrl}/v1/health`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok', region: 'us-east-1' });
    const unsigned = await fetch(`${twin.apiUrl}/v1/tenants/shop/images/anything`);
    assert.equal(unsigned.status, 403);
    assert.deepEqual(await unsigned.json(), { message: 'Forbidden' });
    const nowhere = await fetch(`${twin.apiUrl}/v2/elsewhere`);
    assert.equal(nowhere.status, 404);
  });

  it("uploads through a presigned POST as a tenant's caller, and follows it to its published URLs", async () => {
    const imageId = uniqueId('photo');
    const status = await uploadAndPublish(shop, 'shop', imageId, await sampleImage(800, 533));
    assert.equal(status.state, 'published');
    assert.equal(status.lastExecution?.status, 'SUCCEEDED');
    assert.equal(status.lastExecution?.outcome, 'published');
    assert.equal(status.version, 1);
    assert.deepEqual(status.publishedVersions, [1]);
    // The standard set: one width in webp and legacy.
    assert.equal(status.variants.length, 2, JSON.stringify(status.variants));
    assert.ok(status.variants.every((v) => v.key.startsWith(`shop/${imageId}/v1/`) && v.bytes > 0));
    const served = await fetch(`${status.urls!.versioned}?w=320`);
    assert.equal(served.status, 200);
    assert.match(served.headers.get('content-type') ?? '', /^image\//);
    // The key is derived from tenant and id, never the caller's to choose.
    const head = await twin.s3Client.send(new HeadObjectCommand({ Bucket: BUCKETS.originals.bucket, Key: `shop/${imageId}` }));
    assert.equal(head.ContentType, 'image/jpeg');
  });

  it('uploads a real photograph from a browser form, as a PNG the tenant allows', { skip: fixturesMissing || undefined }, async () => {
    const imageId = uniqueId('real');
    const status = await uploadAndPublish(shop, 'shop', imageId, await readFile(fixture('alpha-layer-1-fill.png')), 'image/png');
    assert.equal(status.state, 'published', JSON.stringify(status.lastExecution));
  });

  it("follows an image's own execution however many uploads of other images came after it", async () => {
    const imageId = uniqueId('early');
    const first = await uploadAndPublish(shop, 'shop', imageId, await sampleImage(320, 240));
    // More executions than a scan of the newest would describe (the status must not depend on it).
    const small = await sampleImage(64, 48);
    await Promise.all(Array.from({ length: 60 }, (_, i) => twin.s3Client.send(new PutObjectCommand({ Bucket: BUCKETS.originals.bucket, Key: `blog/${uniqueId(`busy${i}`)}`, Body: small }))));
    await twin.settled();
    const later = await shop.getImage('shop', imageId);
    assert.equal(later.lastExecution?.executionArn, first.lastExecution?.executionArn);
    assert.equal(later.lastExecution?.outcome, 'published');
  });

  it("refuses another tenant's caller and a tenant's caller on admin routes, at API Gateway, by IAM", async () => {
    const imageId = uniqueId('mine');
    await uploadAndPublish(shop, 'shop', imageId, await sampleImage(400, 300));
    for (const attempt of [
      () => blog.getImage('shop', imageId),
      () => blog.createUpload('shop', { imageId: 'intruder', contentType: 'image/jpeg' }),
      () => blog.requestTakedown('shop', { imageIds: [imageId], reason: 'other' }),
      () => shop.listTenants(),
      () => shop.rotateKey('shop'),
    ]) {
      await assert.rejects(attempt(), (error: unknown) => error instanceof ApiError && error.status === 403 && error.code === undefined);
    }
    // What was refused changed nothing: the image is still published, and no upload was keyed for the intruder.
    assert.equal((await shop.getImage('shop', imageId)).state, 'published');
    await assert.rejects(twin.s3Client.send(new HeadObjectCommand({ Bucket: BUCKETS.originals.bucket, Key: 'shop/intruder' })), { name: 'NotFound' });
  });

  it('refuses a too-large or wrongly typed upload before any byte is stored', async () => {
    const imageId = uniqueId('big');
    // Declared too large: the API refuses to issue the ticket.
    await assert.rejects(shop.createUpload('shop', { imageId, contentType: 'image/jpeg', contentLength: MAX_BYTES + 1 }), (e: unknown) => e instanceof ApiError && e.status === 413 && e.code === 'UploadTooLarge');
    await assert.rejects(shop.createUpload('shop', { imageId, contentType: 'image/gif' }), (e: unknown) => e instanceof ApiError && e.status === 415 && e.code === 'UnsupportedContentType');
    // Declared small, sent large: S3 refuses the POST by the policy's content-length-range.
    const ticket = await shop.createUpload('shop', { imageId, contentType: 'image/jpeg', contentLength: 1000 });
    assert.equal(ticket.key, `shop/${imageId}`);
    assert.equal(ticket.upload.maxBytes, MAX_BYTES);
    const tooLarge = await post(ticket, Buffer.alloc(MAX_BYTES + 1, 0xff));
    assert.equal(tooLarge.status, 400);
    assert.match(await tooLarge.text(), /<Code>EntityTooLarge<\/Code>/);
    // Another type than the ticket's: the policy's Content-Type condition fails.
    const retyped = await post({ ...ticket, upload: { ...ticket.upload, fields: { ...ticket.upload.fields, 'Content-Type': 'image/png' } } }, await sampleImage(100, 100), 'image/png');
    assert.equal(retyped.status, 403);
    await assert.rejects(twin.s3Client.send(new HeadObjectCommand({ Bucket: BUCKETS.originals.bucket, Key: ticket.key })), { name: 'NotFound' });
    await twin.settled();
    const started = twin.pipeline!.stepFunctions.list(twin.pipeline!.stateMachines.RenderOnUpload).filter((e) => JSON.stringify(e.input).includes(ticket.key));
    assert.deepEqual(started, [], 'no render started for a refused upload');
  });

  it('takes images down as the authenticated caller, whom the audit record names; the id stays down', async () => {
    const imageId = uniqueId('gone');
    const published = await uploadAndPublish(shop, 'shop', imageId, await sampleImage(400, 300));
    const accepted = await shop.requestTakedown('shop', { imageIds: [imageId], reason: 'gdpr' });
    assert.equal(accepted.kind, 'takedown');
    assert.equal(accepted.requester, shopCaller);
    assert.match(shopCaller, /^arn:aws:sts::\d{12}:assumed-role\/[^/]+\/.+$/);
    const job = await until(() => shop.getJob('shop', accepted.jobId), (j: JobStatus) => j.state !== 'running', 'the takedown', 120_000);
    assert.equal(job.state, 'succeeded', JSON.stringify(job));
    assert.equal(job.items.total, 1);
    // The audit record, as the batch's report points at it.
    const output = job.output as { report: { bucket: string; key: string } };
    const report = JSON.parse(await (await twin.s3Client.send(new GetObjectCommand({ Bucket: output.report.bucket, Key: output.report.key }))).Body!.transformToString());
    const auditKey = report.images.find((i: { imageId: string }) => i.imageId === imageId).auditKey as string;
    const record = JSON.parse(await (await twin.s3Client.send(new GetObjectCommand({ Bucket: BUCKETS.audit.bucket, Key: auditKey }))).Body!.transformToString());
    assert.equal(record.requester, shopCaller);
    assert.equal(record.legalBasis, 'gdpr');
    assert.equal(record.verification.verified, true);
    assert.equal((await fetch(`${published.urls!.versioned}?w=320`)).status, 404);
    assert.equal((await shop.getImage('shop', imageId)).state, 'taken-down');
    await assert.rejects(shop.createUpload('shop', { imageId, contentType: 'image/jpeg' }), (e: unknown) => e instanceof ApiError && e.status === 409 && e.code === 'Conflict');
  });

  it("re-renders a tenant's catalogue as its caller, with the job's progress", async () => {
    await uploadAndPublish(blog, 'blog', uniqueId('post'), await sampleImage(400, 300));
    const accepted = await blog.requestRerender('blog', { onlyStale: false });
    assert.equal(accepted.kind, 'rerender');
    assert.equal(accepted.requester, await callerArn(blog));
    const job = await until(() => blog.getJob('blog', accepted.jobId), (j: JobStatus) => j.state !== 'running', 'the re-render', 120_000);
    assert.equal(job.state, 'succeeded', JSON.stringify(job));
    assert.ok(job.items.total >= 1 && job.items.succeeded === job.items.total, JSON.stringify(job.items));
    // Another tenant's job is no job to this tenant's caller (the handler refuses what IAM lets through).
    await assert.rejects(shop.getJob('blog', accepted.jobId), (e: unknown) => e instanceof ApiError && e.status === 403);
    await assert.rejects(admin.getJob('shop', accepted.jobId), (e: unknown) => e instanceof ApiError && e.status === 404 && e.code === 'NotFound');
  });

  it('keeps tenant and key operations to admins, and never answers with a secret', async () => {
    const put = await admin.putTenant('news', { breakpoints: [320, 640], signing: { required: true } });
    assert.equal(put.signed, true);
    assert.equal(put.keys.length, 1);
    const rotated = (await admin.rotateKey('news')) as { kid: string };
    const keys = await admin.listKeys('news');
    assert.equal(keys.at(-1), rotated.kid);
    const secrets = Object.values((await twin.registry.tenantWithKeys('news')).signing.keys);
    const answers = JSON.stringify([put, rotated, keys, await admin.listTenants(), await admin.getPolicy('news')]);
    for (const secret of secrets) assert.ok(!answers.includes(secret), 'a secret in an answer');
    // A signed URL for the new tenant, through the API, that the edge accepts as signed (404: no image yet).
    const signed = await admin.signUrl('news', { url: '/img/news/none?w=320', ttlSeconds: 600 });
    assert.match(signed.url, /[?&]sig=/);
    assert.equal((await fetch(signed.url)).status, 404);
    await admin.retireKey('news', put.keys[0]!);
    assert.deepEqual(await admin.listKeys('news'), [rotated.kid]);
    // A retired key does not come back with a tenant's JSON that still lists it.
    const retired = (await twin.registry.tenantWithKeys('news')).signing.keys;
    await assert.rejects(admin.putTenant('news', { breakpoints: [320, 640], signing: { required: true, keys: { [put.keys[0]!]: 'x'.repeat(40), ...retired } } }), (e: unknown) => e instanceof ApiError && e.status === 409 && /never comes back/.test(e.message));
    assert.deepEqual(await admin.listKeys('news'), [rotated.kid]);
    await admin.removeTenant('news');
    await assert.rejects(admin.getPolicy('news'), (e: unknown) => e instanceof ApiError && e.status === 404);
  });

  it("lets the deployment's browser origins upload and call the API, as CORS allows, and no other origin", async () => {
    const preflight = (origin: string) =>
      fetch(`${twin.apiUrl}/v1/tenants/shop/uploads`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,x-amz-date,content-type' } });
    const allowed = await preflight(APP);
    assert.equal(allowed.status, 204);
    assert.equal(allowed.headers.get('access-control-allow-origin'), APP);
    assert.match(allowed.headers.get('access-control-allow-headers') ?? '', /authorization/);
    assert.equal((await preflight('https://evil.example')).headers.get('access-control-allow-origin'), null);
    // The presigned POST's answer carries the bucket's CORS headers for the page's origin only.
    const ticket = await shop.createUpload('shop', { imageId: uniqueId('cors'), contentType: 'image/jpeg' });
    const postFrom = async (origin: string) => {
      const form = new FormData();
      for (const [name, value] of Object.entries(ticket.upload.fields)) form.append(name, value);
      form.append('file', new Blob([new Uint8Array(await sampleImage(200, 150))], { type: 'image/jpeg' }), 'upload');
      return fetch(ticket.upload.url, { method: 'POST', body: form, headers: { origin } });
    };
    const fromApp = await postFrom(APP);
    assert.equal(fromApp.status, 204);
    assert.equal(fromApp.headers.get('access-control-allow-origin'), APP);
    assert.equal((await postFrom('https://evil.example')).headers.get('access-control-allow-origin'), null);
  });

  it('answers bad input with a 4xx {code, message} and changes nothing', async () => {
    const refusals: [() => Promise<unknown>, number, string, RegExp][] = [
      [() => shop.createUpload('shop', { imageId: 'bad id!', contentType: 'image/jpeg' }), 400, 'InvalidRequest', /imageId/],
      [() => shop.call('createUpload', { tenant: 'shop' }, { imageId: 'x', contentType: 'image/jpeg', owner: 'me' }), 400, 'InvalidRequest', /owner|unrecognized/i],
      [() => shop.requestTakedown('shop', { imageIds: ['x'], reason: 'because' }), 400, 'InvalidRequest', /reason/],
      [() => shop.requestRerender('shop', { toleratedFailurePercentage: 200 }), 400, 'InvalidRequest', /toleratedFailurePercentage/],
      [() => shop.requestRerender('shop', { variants: { widths: [999] } }), 400, 'InvalidRequest', /999/],
      [() => shop.signUrl('shop', { url: '/img/shop/x?w=320', ttlSeconds: 10 ** 9 }), 400, 'InvalidRequest', /ttlSeconds/],
      [() => shop.getJob('shop', 'not-a-job'), 400, 'InvalidRequest', /job id/],
      [() => shop.requestTakedown('shop', { imageIds: Array.from({ length: 1001 }, (_, i) => `i${i}`), reason: 'dmca' }), 400, 'InvalidRequest', /imageIds/],
      // 1,000 ids of 128 characters: within the schema, over EventBridge's 256 KB.
      [() => shop.requestTakedown('shop', { imageIds: Array.from({ length: 1000 }, (_, i) => `i${i}`.padEnd(128, 'x')), reason: 'dmca' }), 400, 'InvalidRequest', /262144.*fewer images/],
      [() => admin.getImage('nobody', 'x'), 404, 'NotFound', /nobody/],
      [() => admin.putTenant('bad', { qualities: [90, 10] }), 400, 'InvalidRequest', /tenant id|qualities/],
    ];
    for (const [attempt, status, code, message] of refusals) {
      await assert.rejects(attempt(), (e: unknown) => e instanceof ApiError && e.status === status && e.code === code && message.test(e.message), String(attempt));
    }
    assert.deepEqual((await admin.listTenants()).map((t) => t.tenant).sort(), ['blog', 'shop']);
  });
});
