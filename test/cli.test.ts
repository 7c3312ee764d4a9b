import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { TAKEDOWN_REASONS } from '../core/takedown.ts';
import { parseConfig } from '../core/tenant-config.ts';
import { readPublicPolicy, srcset } from '../client/index.ts';
import { runCli, type CliClock } from '../local/cli.ts';
import { sampleImage } from '../local/sample-image.ts';
import { uniqueId, useTwin } from './support/twin-fixture.ts';

/**
 * The CLI is under test, not the renderer: uploads render WebP and the legacy format only,
 * since AVIF's encode is most of an upload's CPU time (imaging/ and the end-to-end suites cover it).
 */
const RENDERED = { formats: ['webp', 'legacy'] };
const TENANTS = {
  tenants: {
    shop: { breakpoints: [160, 320, 640, 1280], variants: RENDERED },
    vault: { breakpoints: [320, 640], variants: RENDERED, signing: { required: true, keys: { v1: 'vault-secret-0123456789abcdefghijklmnopqrstuvwxyz' } } },
    // The re-render test's own tenant: a re-render of a whole tenant counts every original it has.
    atelier: { breakpoints: [320, 640], variants: RENDERED },
  },
};

/** While true, renders of images whose id starts 'flaky' fail as a bucket that stays down would. */
let outage = false;
/** While set, renders of this image wait until `until` resolves: a test sees the CLI while the execution runs. */
let hold: { id: string; until: Promise<void> } | undefined;

/** Holds renders of `id` until the returned release is called (or 20 s pass, so a failing test cannot hang). */
function holdRenders(id: string): () => void {
  let release!: () => void;
  const until = new Promise<void>((resolve) => (release = resolve));
  setTimeout(release, 20_000).unref();
  hold = { id, until };
  return () => {
    hold = undefined;
    release();
  };
}

const fixture = useTwin({
  config: parseConfig(TENANTS),
  timeScale: 0.003,
  invalidationDelayMs: 100,
  instrument: (task, fn) => async (payload) => {
    if (task === 'render-variants' && outage && JSON.stringify(payload).includes('"flaky')) throw Object.assign(new Error('the variants bucket is down (injected)'), { name: 'OriginUnavailable' });
    if (task === 'render-variants' && hold && JSON.stringify(payload).includes(`"${hold.id}"`)) await hold.until;
    return fn(payload);
  },
  seed: async (_twin, dir) => writeFile(join(dir, 'tenants.json'), JSON.stringify(TENANTS)),
});

/** The environment `npm run pictor` would be given for this twin (local/settings.ts). */
function envOf(): NodeJS.ProcessEnv {
  const { twin, dir } = fixture;
  const port = (url: string) => new URL(url).port;
  return {
    ...process.env,
    PICTOR_TENANTS: join(dir, 'tenants.json'),
    PICTOR_EDGE_PORT: port(twin.edgeUrl),
    PICTOR_CONTROL_PORT: port(twin.controlUrl),
    PICTOR_S3_PORT: port(twin.s3.endpoint),
    PICTOR_DYNAMODB_PORT: port(twin.dynamodb!.endpoint),
    PICTOR_REGION_PORTS: Object.entries(twin.endpoints).map(([region, url]) => `${region}=${port(url)}`).join(','),
  };
}

/**
 * The CLI's clock: real time, but its polls of an execution's status come every 10 ms
 * rather than every 200-250 ms. A poll only asks whether the execution has ended;
 * asking more often answers sooner and changes nothing the twin does.
 */
const FAST_POLLS: CliClock = { now: () => Date.now(), sleep: () => new Promise((resolve) => setTimeout(resolve, 10)) };

/** Runs the CLI in this process, as `npm run pictor -- ...args` would. */
function pictor(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return pictorWatched({}, ...args);
}

/** Runs the CLI, calling `watch` with each piece of its output as it is written. */
async function pictorWatched(watch: { stdout?: (text: string) => void; stderr?: (text: string) => void }, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: { write: (text: string) => ((stdout += text), watch.stdout?.(text)) },
    stderr: { write: (text: string) => ((stderr += text), watch.stderr?.(text)), isTTY: false },
    env: envOf(),
    clock: FAST_POLLS,
  });
  return { code, stdout, stderr };
}

/** Writes a sample photo to the scratch directory and uploads it with the CLI. */
async function uploaded(tenant: string, id: string, size: [number, number] = [800, 600]) {
  const photo = join(fixture.dir, `${id}.jpg`);
  await writeFile(photo, await sampleImage(...size));
  const result = await pictor('upload', photo, '--tenant', tenant, '--id', id);
  assert.equal(result.code, 0, result.stderr);
  return { photo, ...result };
}

describe('the pictor CLI against the twin', () => {
  it('uploads, waits for the version, and prints a URL the edge serves as a Hit the second time', async () => {
    const id = uniqueId('hero');
    const { stdout } = await uploaded('shop', id, [1600, 1067]);
    assert.match(stdout, /^Uploaded \S+ as shop\/\S+\.\n  execution: arn:aws:states:\S+:execution:\S+\nPublished as version 1\.\n/);

    const printed = await pictor('url', '--tenant', 'shop', '--id', id, '--w', '640', '--fmt', 'webp');
    assert.equal(printed.code, 0, printed.stderr);
    const url = printed.stdout.trim();
    assert.equal(url, `${fixture.twin.edgeUrl}/img/shop/${id}/v1?fmt=webp&q=75&w=640`);
    assert.equal((await fetch(url)).status, 200);
    const second = await fetch(url);
    assert.equal(second.headers.get('x-cache'), 'Hit from cloudfront');
    // A format the edge does not know: the message lists every spelling the edge accepts.
    const gif = await pictor('url', '--tenant', 'shop', '--id', id, '--fmt', 'gif');
    assert.deepEqual([gif.code, gif.stderr], [2, "pictor: Expected one of auto, avif, webp, jpeg, jpg, png, legacy for fmt but received 'gif'.\n"]);
  });

  it('signs URLs for tenants that require it', async () => {
    const id = uniqueId('doc');
    await uploaded('vault', id);
    const printed = await pictor('url', '--tenant', 'vault', '--id', id, '--w', '320');
    assert.match(printed.stdout, /&exp=\d+&kid=v1&sig=/);
    assert.equal((await fetch(printed.stdout.trim())).status, 200);
    // The full URL, as `url` prints it, signs as its path does, keeping its origin.
    const signed = await pictor('sign', `${fixture.twin.edgeUrl}/img/vault/${id}/v1?w=320`);
    assert.equal(signed.code, 0, signed.stderr);
    assert.ok(signed.stdout.startsWith(`${fixture.twin.edgeUrl}/img/vault/${id}/v1?`) && /&sig=/.test(signed.stdout), signed.stdout);
    assert.equal((await fetch(signed.stdout.trim())).status, 200);
  });

  it("prints a tenant's public policy, from which pictor/client builds URLs the edge serves as they are", async () => {
    const id = uniqueId('card');
    await uploaded('shop', id);
    const printed = await pictor('tenants', 'policy', '--tenant', 'shop');
    assert.equal(printed.code, 0, printed.stderr);
    const policy = readPublicPolicy(JSON.parse(printed.stdout));
    assert.equal(policy.baseUrl, fixture.twin.edgeUrl);
    assert.doesNotMatch(printed.stdout, /secret|key|referer/i);
    for (const candidate of srcset(policy, id, { format: 'webp' }).split(', ')) {
      const url = candidate.split(' ')[0]!;
      const response = await fetch(url);
      await response.arrayBuffer();
      assert.equal(response.status, 200, url);
      assert.equal(response.headers.get('content-type'), 'image/webp');
    }
    const wrong = await pictor('tenants', 'policy', '--tenant', 'nobody');
    assert.deepEqual([wrong.code, wrong.stderr.trim().split('\n').length], [2, 1]);
  });

  it('reports a rejected upload with its reason and a non-zero exit', async () => {
    const broken = join(fixture.dir, 'broken.jpg');
    const whole = await sampleImage(800, 600);
    await writeFile(broken, whole.subarray(0, whole.length / 2));
    const result = await pictor('upload', broken, '--tenant', 'shop', '--id', uniqueId('broken'));
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^pictor: The upload was rejected \(UnprocessableImage\): The original could not be decoded\./);
  });

  it('reports a failed upload with its cause and execution, and runs it again once the cause is gone', async () => {
    const id = uniqueId('flaky');
    const photo = join(fixture.dir, `${id}.jpg`);
    await writeFile(photo, await sampleImage(800, 600));
    outage = true;
    const failed = await pictor('upload', photo, '--tenant', 'shop', '--id', id).finally(() => (outage = false));
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /^pictor: The upload failed \(OriginUnavailable\): the variants bucket is down \(injected\)/);
    const arn = /execution: (\S+)/.exec(failed.stderr)?.[1];
    assert.ok(arn, failed.stderr);
    assert.match(failed.stderr, new RegExp(`'pictor retry ${arn.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}'`));
    const retried = await pictor('retry', arn);
    assert.equal(retried.code, 0, retried.stderr);
    assert.match(retried.stdout, /^SUCCEEDED /);
    assert.match(retried.stdout, new RegExp(`"outcome":"published","tenant":"shop","imageId":"${id}","version":1`));
    const printed = await pictor('url', '--tenant', 'shop', '--id', id, '--w', '320');
    assert.equal((await fetch(printed.stdout.trim())).status, 200);
  });

  it('refuses to sign a URL for longer than its tenant allows', async () => {
    const result = await pictor('sign', '/img/vault/doc?w=320', '--ttl', String(7 * 86400));
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^pictor: The URL would be valid for 604800 s; its tenant allows at most 86400 s \(signing\.maxTtl\)\./);
  });

  it("prints the upload's execution as soon as it starts, which `status` shows running, then the outcome", async () => {
    const id = uniqueId('watched');
    const photo = join(fixture.dir, `${id}.jpg`);
    await writeFile(photo, await sampleImage(640, 480));
    const release = holdRenders(id);
    let whileRunning: Promise<{ code: number; stdout: string }> | undefined;
    const result = await pictorWatched(
      {
        stdout: (text) => {
          const arn = /execution: (\S+)/.exec(text)?.[1];
          // The render is held until `status` has answered: the execution is running when it is asked.
          if (arn && !whileRunning) whileRunning = pictor('status', arn).finally(release);
        },
      },
      'upload', photo, '--tenant', 'shop', '--id', id,
    ).finally(release);
    assert.equal(result.code, 0, result.stderr);
    assert.ok(whileRunning, `no execution was printed before the outcome: ${result.stdout}`);
    const shown = await whileRunning;
    assert.equal(shown.code, 0);
    assert.match(shown.stdout, /^RUNNING /);
    assert.match(result.stdout, /\nPublished as version 1\./);
    const arn = /execution: (\S+)/.exec(result.stdout)![1]!;
    const ended = await pictor('status', arn);
    assert.match(ended.stdout, /^SUCCEEDED /);
    assert.match(ended.stdout, /"outcome":"published"/);
  });

  it('answers a mistake in the command line in one line with exit code 2, refusing it before anything starts', async () => {
    const executions = () => fixture.twin.pipeline!.stepFunctions.list().length;
    const before = executions();
    const badTenants = join(fixture.dir, 'bad-tenants.json');
    await writeFile(badTenants, JSON.stringify({ tenants: { shop: { breakpoints: [320, 160] } } }));
    for (const [args, message] of [
      [['frobnicate'], /^pictor: Unknown command 'frobnicate'; the commands are upload, url, /],
      [['upload', 'x.jpg', '--tenant', 'shop', '--id', 'x', '--bogus'], /^pictor: upload has no option --bogus; it takes --tenant, --id, --wait /],
      [['upload', 'x.jpg', '--tenant', 'shop', '--id', 'x', '--wait', '0'], /^pictor: --wait takes a whole number of seconds above 0, such as 3600, not '0'\.$/m],
      [['upload', 'x.jpg', '--tenant', 'shop'], /^pictor: upload needs --id X \(usage: pictor upload <file> --tenant T --id X \[--wait 120\]\)\.$/m],
      [['sign', '/img/vault/doc?w=320', '--ttl', '-5'], /^pictor: --ttl takes a whole number of seconds above 0, such as 3600, not '-5'\.$/m],
      [['sign', '/img/vault/doc?w=320', '--ttl', 'abc'], /^pictor: --ttl takes a whole number of seconds above 0, such as 3600, not 'abc'\.$/m],
      [['status', 'not-an-arn'], /^pictor: 'not-an-arn' is not an execution ARN; give the one /],
      [['url', '--tenant', 'Nope', '--id', 'x'], /^pictor: --tenant must be a tenant id \(3 to 32 of a-z 0-9 -\), not 'Nope'\.$/m],
      [['takedown', '--tenant', 'shop', '--id', 'hero', '--requester', 'x'], /^pictor: takedown needs --reason dmca\|gdpr\|other /],
      [['takedown', '--tenant', 'shop', '--reason', 'gdpr', '--requester', 'x'], /^pictor: takedown needs --id X /],
      [['takedown', '--tenant', 'shop', '--id', 'hero', '--reason', 'because', '--requester', 'x'], /^pictor: --reason 'because' is refused by the "Takedown Requested" schema: .*"dmca"/],
      [['takedown', '--tenant', 'shop', '--id', 'a/b', '--reason', 'gdpr', '--requester', 'x'], /^pictor: --id 'a\/b' is refused by the "Takedown Requested" schema: an image id/],
      [['rerender', '--tenant', 'nobody'], /^pictor: No tenant 'nobody' is configured\. Nothing was started\.$/m],
      [['rerender', '--tenant', 'shop', '--widths', '100'], /^pictor: Tenant 'shop' has no breakpoint 100: no request would ever ask for it\./],
      [['rerender', '--tenant', 'shop', '--formats', 'gif'], /^pictor: --formats 'gif' is refused by the "Rerender Requested" schema: .*"webp"/],
      [['rerender', '--tenant', 'shop', '--tolerate', '200'], /^pictor: --tolerate '200' is refused by the "Rerender Requested" schema: .*100/],
      [['keys', 'burn'], /^pictor: Unknown keys command 'burn'; it is one of rotate, retire, list/],
      [['tenants', 'put', '--file', badTenants], /^pictor: \S+bad-tenants\.json is wrong: tenants\.shop\.breakpoints: breakpoints must be strictly ascending\.$/m],
      [['tenants', 'put', '--file', '/no/such/tenants.json'], /^pictor: Cannot read \/no\/such\/tenants\.json/],
      [['upload', '/no/such/file', '--tenant', 'shop', '--id', 'x'], /^pictor: Cannot read \/no\/such\/file/],
      [['tenants', 'policy', '--tenant', 'shop', '--base-url', 'notaurl'], /^pictor: --base-url: Expected an origin such as 'https:\/\/images\.example\.com' \(no path\) for baseUrl but received "notaurl"\.$/m],
      [['keys', 'retire', '--tenant', 'vault'], /^pictor: keys retire needs --kid ID /],
    ] as const) {
      const result = await pictor(...args);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.equal(result.stdout, '', args.join(' '));
      assert.match(result.stderr, message, args.join(' '));
      assert.equal(result.stderr.split('\n').length, 2, `one line: ${result.stderr}`);
    }
    assert.equal(executions(), before, 'no refused command started an execution');
  });

  it('answers a failure of the command itself in one line with exit code 1', async () => {
    for (const [args, message] of [
      [['url', '--tenant', 'shop', '--id', 'nothing'], /^pictor: shop\/nothing has no published version yet\.$/m],
    ] as const) {
      const result = await pictor(...args);
      assert.equal(result.code, 1, args.join(' '));
      assert.equal(result.stdout, '', args.join(' '));
      assert.match(result.stderr, message);
    }
  });

  it('names every takedown reason core/takedown.ts defines in its usage', async () => {
    const help = await pictor('--help');
    assert.equal(help.code, 0);
    assert.match(help.stdout, new RegExp(`--reason ${TAKEDOWN_REASONS.join('\\|')} --requester R`));
  });

  it('re-renders a tenant with progress as each original finishes, and the exact summary', async () => {
    const [first, second] = [uniqueId('first'), uniqueId('second')];
    await Promise.all([uploaded('atelier', first), uploaded('atelier', second)]);
    // The second original's render waits until the CLI has shown the first one done.
    const release = holdRenders(second);
    const result = await pictorWatched({ stderr: (text) => text.startsWith('1/2 originals') && release() }, 'rerender', '--tenant', 'atelier', '--widths', '320').finally(release);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Re-render rerender-\d{14}-[0-9a-f]{8}: 2 rendered, 0 skipped, 0 failed\./);
    assert.match(result.stderr, /^execution: arn:aws:states:\S+:execution:\S+:rerender-\S+\n(0\/2 originals\n)?1\/2 originals\n2\/2 originals\n$/);
    const printed = await pictor('url', '--tenant', 'atelier', '--id', first, '--w', '320', '--fmt', 'webp');
    assert.match(printed.stdout, new RegExp(`/img/atelier/${first}/v2\\?`), 'the re-render published version 2');
  });

  /** Takes an image down with the CLI and returns what it printed. */
  async function takenDown(id: string) {
    const result = await pictor('takedown', '--tenant', 'shop', '--id', id, '--reason', 'gdpr', '--requester', 'dpo@example.com');
    assert.equal(result.code, 0, result.stderr);
    return result.stdout;
  }

  it('takes an image down: the URL that was a Hit becomes a 404, and the audit record names it', async () => {
    const id = uniqueId('gone');
    await uploaded('shop', id);
    const url = (await pictor('url', '--tenant', 'shop', '--id', id, '--w', '640', '--fmt', 'webp')).stdout.trim();
    await fetch(url);
    assert.equal((await fetch(url)).headers.get('x-cache'), 'Hit from cloudfront');
    const stdout = await takenDown(id);
    assert.match(stdout, /1 images erased, invalidated and verified 404/);
    const location = new RegExp(`audit record: s3://pictor-audit/(takedowns/shop/${id}/\\S+\\.json)`).exec(stdout);
    assert.ok(location, stdout);
    assert.equal((await fetch(url)).status, 404);
    const record = await fixture.twin.s3Client.send(new GetObjectCommand({ Bucket: 'pictor-audit', Key: location[1] }));
    const audit = JSON.parse(await record.Body!.transformToString());
    assert.equal(audit.imageId, id);
    assert.equal(audit.requester, 'dpo@example.com');
    assert.equal(audit.legalBasis, 'gdpr');
  });

  it('says so when an upload goes to an id that was taken down, with the same bytes or others, and serves nothing of it', async () => {
    const id = uniqueId('erased');
    const { photo } = await uploaded('shop', id, [1600, 1067]);
    await takenDown(id);
    const other = join(fixture.dir, 'again.jpg');
    await writeFile(other, await sampleImage(640, 480));
    // `photo` holds the very bytes the image was published with.
    for (const file of [photo, other]) {
      const result = await pictor('upload', file, '--tenant', 'shop', '--id', id);
      assert.equal(result.code, 1, file);
      assert.match(result.stderr, new RegExp(`^pictor: The upload was discarded: shop/${id} was taken down at \\S+; uploads to it are erased\\. Its bytes were erased in every region\\.`));
    }
    for (const url of [`/img/shop/${id}?w=640&fmt=webp`, `/img/shop/${id}/v3?w=640&fmt=webp`, `/img/shop/${id}/v1?w=480&fmt=webp`, `/img/shop/${id}`]) {
      assert.equal((await fetch(fixture.twin.edgeUrl + url)).status, 404, url);
    }
  });

  it('puts a region into a fault and out of it: an upload then fails saying so, and viewers of a new variant are served from the other region', async () => {
    const id = uniqueId('steady');
    await uploaded('shop', id, [1200, 800]);
    await fixture.twin.settled();
    const faulted = await pictor('twin', 'fault', '--region', 'us-east-1', '--mode', '503');
    try {
      assert.equal(faulted.code, 0, faulted.stderr);
      assert.match(faulted.stdout, /^us-east-1\s+503\s+every S3 request answers 503/m);
      assert.match(faulted.stdout, /^eu-west-1\s+off\s+answers normally/m);
      // The health endpoint reports each server, the faulted region as such.
      const health = await fetch(`${fixture.twin.controlUrl}/_twin/health`);
      assert.equal(health.status, 200);
      const report = (await health.json()) as { status: string; servers: { name: string; up: boolean; fault?: string }[] };
      assert.equal(report.status, 'degraded');
      assert.deepEqual(report.servers.find((s) => s.name === 'S3 us-east-1'), { name: 'S3 us-east-1', endpoint: fixture.twin.endpoints['us-east-1'], up: false, fault: '503' });
      assert.ok(report.servers.filter((s) => s.name !== 'S3 us-east-1').every((s) => s.up), JSON.stringify(report));
      const photo = join(fixture.dir, 'during.jpg');
      await writeFile(photo, await sampleImage(640, 480));
      const refused = await pictor('upload', photo, '--tenant', 'shop', '--id', 'during-outage');
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /S3 in us-east-1 did not take the upload, so nothing was stored; upload it again once the region answers/);
      // A variant nothing rendered yet: the failover region renders it from its replica.
      const viewed = await fetch(`${fixture.twin.edgeUrl}/img/shop/${id}?w=480&fmt=webp`);
      assert.equal(viewed.status, 200);
    } finally {
      const recovered = await pictor('twin', 'fault', '--region', 'us-east-1', '--mode', 'off');
      assert.equal(recovered.code, 0, recovered.stderr);
    }
    assert.match((await pictor('twin', 'fault')).stdout, /^us-east-1\s+off/m);
    const healthy = await pictor('twin', 'health');
    assert.equal(healthy.code, 0, healthy.stderr);
    assert.match(healthy.stdout, /^twin: ok\nedge \(CloudFront\)\s+up\s+http:/);
    for (const server of ['AWS APIs', 'S3-compatible server', 'S3 us-east-1', 'S3 eu-west-1', 'DynamoDB-compatible server']) assert.match(healthy.stdout, new RegExp(`^${server.replace(/[()]/g, '\\$&')}.*\\s+up\\s+http:`, 'm'), server);
    const wrong = await pictor('twin', 'fault', '--region', 'mars-north-1', '--mode', '503');
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /region must be one of us-east-1, eu-west-1/);
    const mode = await pictor('twin', 'fault', '--region', 'us-east-1', '--mode', 'flaky');
    assert.match(mode.stderr, /--mode is one of 503, hang, refuse, off/);
  });

  it('runs as `npm run pictor` does: a process whose exit code and output are the command\'s', async () => {
    const script = JSON.parse(await readFile(join(import.meta.dirname, '..', 'package.json'), 'utf8')).scripts.pictor as string;
    const [node, ...args] = script.split(' ');
    assert.equal(node, 'node');
    const spawned = (...rest: string[]) =>
      promisify(execFile)(process.execPath, [...args, ...rest], { cwd: join(import.meta.dirname, '..'), env: envOf() }).then(
        ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
        (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
      );
    const [shown, wrong] = await Promise.all([spawned('twin', 'fault'), spawned('frobnicate')]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /^us-east-1\s+off\s+answers normally$/m);
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /^pictor: Unknown command 'frobnicate'; the commands are [^\n]+\n$/);
  });
});
