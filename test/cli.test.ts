import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { parseConfig } from '../core/tenant-config.ts';
import { sampleImage } from '../local/sample-image.ts';
import { startTwin, type Twin } from '../local/twin.ts';

const run = promisify(execFile);
const CLI = join(import.meta.dirname, '..', 'local', 'cli.ts');
const TENANTS = { tenants: { shop: { breakpoints: [160, 320, 640, 1280] }, vault: { breakpoints: [320, 640], signing: { required: true, keys: { v1: 'vault-secret-0123456789abcdefghijklmnopqrstuvwxyz' } } } } };

let twin: Twin;
let dir: string;
let env: NodeJS.ProcessEnv;
/** While true, renders of the image 'flaky' fail as a bucket that stays down would. */
let outage = false;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pictor-cli-'));
  await writeFile(join(dir, 'tenants.json'), JSON.stringify(TENANTS));
  twin = await startTwin({
    config: parseConfig(TENANTS),
    dataDir: join(dir, 'data'),
    logLevel: 'SILENT',
    timeScale: 0.003,
    invalidationDelayMs: 100,
    instrument: (task, fn) => async (payload) => {
      if (task === 'render-variants' && outage && JSON.stringify(payload).includes('"flaky"')) throw Object.assign(new Error('the variants bucket is down (injected)'), { name: 'OriginUnavailable' });
      return fn(payload);
    },
  });
  const port = (url: string) => new URL(url).port;
  env = {
    ...process.env,
    PICTOR_TENANTS: join(dir, 'tenants.json'),
    PICTOR_EDGE_PORT: port(twin.edgeUrl),
    PICTOR_CONTROL_PORT: port(twin.controlUrl),
    PICTOR_S3_PORT: port(twin.s3.endpoint),
    PICTOR_DYNAMODB_PORT: port(twin.dynamodb!.endpoint),
    PICTOR_REGION_PORTS: Object.entries(twin.endpoints).map(([region, url]) => `${region}=${port(url)}`).join(','),
  };
});

after(async () => {
  await twin.close();
  await rm(dir, { recursive: true, force: true });
});

async function pictor(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', CLI, ...args], { env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('the pictor CLI against the twin', () => {
  it('uploads, waits for the version, and prints a URL the edge serves as a Hit the second time', async () => {
    const photo = join(dir, 'photo.jpg');
    await writeFile(photo, await sampleImage(1600, 1067));
    const uploaded = await pictor('upload', photo, '--tenant', 'shop', '--id', 'hero');
    assert.equal(uploaded.code, 0, uploaded.stderr);
    assert.match(uploaded.stdout, /published as version 1/);
    assert.match(uploaded.stdout, /execution: arn:aws:states:\S+:execution:\S+/);

    const printed = await pictor('url', '--tenant', 'shop', '--id', 'hero', '--w', '640', '--fmt', 'webp');
    assert.equal(printed.code, 0, printed.stderr);
    const url = printed.stdout.trim();
    assert.equal(url, `${twin.edgeUrl}/img/shop/hero/v1?fmt=webp&q=75&w=640`);
    assert.equal((await fetch(url)).status, 200);
    const second = await fetch(url);
    assert.equal(second.headers.get('x-cache'), 'Hit from cloudfront');
  });

  it('signs URLs for tenants that require it', async () => {
    const photo = join(dir, 'vault.jpg');
    await writeFile(photo, await sampleImage(800, 600));
    assert.equal((await pictor('upload', photo, '--tenant', 'vault', '--id', 'doc')).code, 0);
    const printed = await pictor('url', '--tenant', 'vault', '--id', 'doc', '--w', '320');
    assert.match(printed.stdout, /&exp=\d+&kid=v1&sig=/);
    assert.equal((await fetch(printed.stdout.trim())).status, 200);
  });

  it('reports a rejected upload with its reason and a non-zero exit', async () => {
    const broken = join(dir, 'broken.jpg');
    const whole = await sampleImage(800, 600);
    await writeFile(broken, whole.subarray(0, whole.length / 2));
    const result = await pictor('upload', broken, '--tenant', 'shop', '--id', 'broken');
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^pictor: The upload was rejected \(UnprocessableImage\): The original could not be decoded\./);
  });

  it('reports a failed upload with its cause and execution, and runs it again once the cause is gone', async () => {
    const photo = join(dir, 'flaky.jpg');
    await writeFile(photo, await sampleImage(800, 600));
    outage = true;
    const failed = await pictor('upload', photo, '--tenant', 'shop', '--id', 'flaky');
    outage = false;
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /^pictor: The upload failed \(OriginUnavailable\): the variants bucket is down \(injected\)/);
    const arn = /execution: (\S+)/.exec(failed.stderr)?.[1];
    assert.ok(arn, failed.stderr);
    assert.match(failed.stderr, new RegExp(`'pictor retry ${arn.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}'`));
    const retried = await pictor('retry', arn);
    assert.equal(retried.code, 0, retried.stderr);
    assert.match(retried.stdout, /^SUCCEEDED /);
    assert.match(retried.stdout, /"outcome":"published","tenant":"shop","imageId":"flaky","version":1/);
    const printed = await pictor('url', '--tenant', 'shop', '--id', 'flaky', '--w', '320');
    assert.equal((await fetch(printed.stdout.trim())).status, 200);
  });

  it('refuses to sign a URL for longer than its tenant allows', async () => {
    const result = await pictor('sign', '/img/vault/doc?w=320', '--ttl', String(7 * 86400));
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^pictor: The URL would be valid for 604800 s; its tenant allows at most 86400 s \(signing\.maxTtl\)\./);
  });

  it('shows an execution, and answers mistakes in one line with a non-zero exit', async () => {
    const [execution] = twin.pipeline!.stepFunctions.list();
    const shown = await pictor('status', execution!.executionArn);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /^SUCCEEDED /);
    for (const [args, message] of [
      [['url', '--tenant', 'shop', '--id', 'nothing'], /^pictor: shop\/nothing has no published version yet\.$/m],
      [['upload', '/no/such/file', '--tenant', 'shop', '--id', 'x'], /^pictor: Cannot read \/no\/such\/file/m],
      [['url', '--tenant', 'Nope', '--id', 'x'], /^pictor: --tenant must be a tenant id/m],
      [['frobnicate'], /^pictor: Unknown command 'frobnicate'\./m],
      [['takedown', '--tenant', 'shop', '--id', 'hero', '--requester', 'x'], /^pictor: --reason must be dmca, gdpr or other/m],
      [['takedown', '--tenant', 'shop', '--reason', 'gdpr', '--requester', 'x'], /^pictor: takedown needs at least one --id\./m],
      [['rerender', '--tenant', 'nobody'], /^pictor: No tenant 'nobody'/m],
      [['rerender', '--tenant', 'shop', '--widths', '100'], /^pictor: The re-render failed \(InvalidEvent\): Tenant 'shop' has no breakpoint 100/m],
    ] as const) {
      const result = await pictor(...args);
      assert.equal(result.code, 1, args.join(' '));
      assert.match(result.stderr, message);
    }
  });

  it('re-renders a tenant with a progress line and the exact summary', async () => {
    const result = await pictor('rerender', '--tenant', 'shop', '--widths', '320');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Re-render rerender-\d{14}-[0-9a-f]{8}: 2 rendered, 0 skipped, 0 failed\./);
    assert.match(result.stderr, /2\/2 originals/);
    const printed = await pictor('url', '--tenant', 'shop', '--id', 'hero', '--w', '320', '--fmt', 'webp');
    assert.match(printed.stdout, /\/img\/shop\/hero\/v2\?/, 'the re-render published version 2');
  });

  it('takes an image down: the URL that was a Hit becomes a 404, and the audit record names it', async () => {
    const url = (await pictor('url', '--tenant', 'shop', '--id', 'hero', '--w', '640', '--fmt', 'webp')).stdout.trim();
    await fetch(url);
    assert.equal((await fetch(url)).headers.get('x-cache'), 'Hit from cloudfront');
    const result = await pictor('takedown', '--tenant', 'shop', '--id', 'hero', '--reason', 'gdpr', '--requester', 'dpo@example.com');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /1 images erased, invalidated and verified 404/);
    const location = /audit record: s3:\/\/pictor-audit\/(takedowns\/shop\/hero\/\S+\.json)/.exec(result.stdout);
    assert.ok(location, result.stdout);
    assert.equal((await fetch(url)).status, 404);
    const record = await twin.s3Client.send(new GetObjectCommand({ Bucket: 'pictor-audit', Key: location[1] }));
    const audit = JSON.parse(await record.Body!.transformToString());
    assert.equal(audit.imageId, 'hero');
    assert.equal(audit.requester, 'dpo@example.com');
    assert.equal(audit.legalBasis, 'gdpr');
  });

  it('says so when an upload goes to an id that was taken down, with the same bytes or others, and serves nothing of it', async () => {
    const other = join(dir, 'again.jpg');
    await writeFile(other, await sampleImage(640, 480));
    // photo.jpg holds the very bytes 'hero' was published with.
    for (const photo of [join(dir, 'photo.jpg'), other]) {
      const result = await pictor('upload', photo, '--tenant', 'shop', '--id', 'hero');
      assert.equal(result.code, 1, photo);
      assert.match(result.stderr, /^pictor: The upload was discarded: shop\/hero was taken down at \S+; uploads to it are erased\. Its bytes were erased in every region\./);
    }
    for (const url of ['/img/shop/hero?w=640&fmt=webp', '/img/shop/hero/v3?w=640&fmt=webp', '/img/shop/hero/v1?w=480&fmt=webp', '/img/shop/hero']) {
      assert.equal((await fetch(twin.edgeUrl + url)).status, 404, url);
    }
  });

  it('puts a region into a fault and out of it: an upload then fails saying so, and viewers of a new variant are served from the other region', async () => {
    const steady = join(dir, 'steady.jpg');
    await writeFile(steady, await sampleImage(1200, 800));
    assert.equal((await pictor('upload', steady, '--tenant', 'shop', '--id', 'steady')).code, 0);
    await twin.settled();
    const faulted = await pictor('twin', 'fault', '--region', 'us-east-1', '--mode', '503');
    try {
      assert.equal(faulted.code, 0, faulted.stderr);
      assert.match(faulted.stdout, /^us-east-1\s+503\s+every S3 request answers 503/m);
      assert.match(faulted.stdout, /^eu-west-1\s+off\s+answers normally/m);
      const photo = join(dir, 'during.jpg');
      await writeFile(photo, await sampleImage(640, 480));
      const refused = await pictor('upload', photo, '--tenant', 'shop', '--id', 'during-outage');
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /S3 in us-east-1 did not take the upload, so nothing was stored; upload it again once the region answers/);
      // A variant nothing rendered yet: the failover region renders it from its replica.
      const viewed = await fetch(`${twin.edgeUrl}/img/shop/steady?w=480&fmt=webp`);
      assert.equal(viewed.status, 200);
    } finally {
      const recovered = await pictor('twin', 'fault', '--region', 'us-east-1', '--mode', 'off');
      assert.equal(recovered.code, 0, recovered.stderr);
    }
    assert.match((await pictor('twin', 'fault')).stdout, /^us-east-1\s+off/m);
    const wrong = await pictor('twin', 'fault', '--region', 'mars-north-1', '--mode', '503');
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /region must be one of us-east-1, eu-west-1/);
    const mode = await pictor('twin', 'fault', '--region', 'us-east-1', '--mode', 'flaky');
    assert.match(mode.stderr, /--mode is one of 503, hang, refuse, off/);
  });
});
