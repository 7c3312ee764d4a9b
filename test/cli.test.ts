import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { TAKEDOWN_REASONS } from '../core/takedown.ts';
import { parseConfig } from '../core/tenant-config.ts';
import { readPublicPolicy, srcset } from '../client/index.ts';
import { runCli, type CliClock } from '../local/cli.ts';
import { LOCAL_ADMIN } from '../local/iam/identities.ts';
import { LOCAL_S3_CREDENTIALS } from '../local/twin-names.ts';
import { resolveTokens } from '../local/pipeline/template.ts';
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
    // Uploads of at most 2,000 bytes: every photo is over.
    tiny: { breakpoints: [320], variants: RENDERED, uploads: { maxBytes: 2000 } },
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

/**
 * The environment `npm run pictor` would be given for this twin (local/settings.ts), with no
 * AWS credentials or region configured: the twin needs none, and signs the API's requests as its admin.
 */
function envOf(): NodeJS.ProcessEnv {
  const { twin, dir } = fixture;
  const port = (url: string) => new URL(url).port;
  const { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_PROFILE, AWS_REGION, AWS_DEFAULT_REGION, PICTOR_API_URL, ...rest } = process.env;
  return {
    ...rest,
    PICTOR_TENANTS: join(dir, 'tenants.json'),
    PICTOR_EDGE_PORT: port(twin.edgeUrl),
    PICTOR_CONTROL_PORT: port(twin.controlUrl),
    PICTOR_API_PORT: port(twin.apiUrl!),
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
async function pictorWatched(
  watch: { stdout?: (text: string) => void; stderr?: (text: string) => void; env?: NodeJS.ProcessEnv },
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: { write: (text: string) => ((stdout += text), watch.stdout?.(text)) },
    stderr: { write: (text: string) => ((stderr += text), watch.stderr?.(text)), isTTY: false },
    env: { ...envOf(), ...watch.env },
    clock: FAST_POLLS,
  });
  return { code, stdout, stderr };
}

/** A tenant's role on the twin, as the pipeline stack outputs it (TenantRole<Tenant>): what its callers assume. */
function tenantRole(tenant: string): string {
  const template = fixture.twin.pipeline!.template as { Outputs?: Record<string, { Value: unknown }> };
  const output = template.Outputs?.[`TenantRole${tenant[0]!.toUpperCase()}${tenant.slice(1)}`];
  assert.ok(output, `the pipeline template outputs no role for tenant ${tenant}`);
  return resolveTokens(output.Value, fixture.twin.pipeline!.template, {}) as string;
}

/** Writes a sample photo to the scratch directory and uploads it with the CLI. */
async function uploaded(tenant: string, id: string, size: [number, number] = [800, 600]) {
  const photo = join(fixture.dir, `${id}.jpg`);
  await writeFile(photo, await sampleImage(...size));
  const result = await pictor('upload', photo, '--tenant', tenant, '--id', id);
  assert.equal(result.code, 0, result.stderr);
  return { photo, ...result };
}

/** What an upload says while the primary region's S3 answers 503: nothing was stored. */
const FAULTED_UPLOAD = /^pictor: The API could not serve GET \/v1\/tenants\/shop\/images\/during-outage \(503 OriginUnavailable\): /;

describe('the pictor CLI against the twin, through its control-plane API', () => {
  it('uploads, waits for the version, and prints a URL the edge serves as a Hit the second time', async () => {
    const id = uniqueId('hero');
    const { stdout } = await uploaded('shop', id, [1600, 1067]);
    assert.match(stdout, new RegExp(`^Uploaded \\S+ as shop/${id}\\.\\n  execution: arn:aws:states:\\S+:execution:\\S+\\nPublished as version 1\\.\\n${fixture.twin.edgeUrl}/img/shop/${id}/v1\\n$`));

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

  it("shows an image's status: its version, canonical URLs, variants and last execution", async () => {
    const id = uniqueId('shown');
    await uploaded('shop', id);
    const shown = await pictor('status', '--tenant', 'shop', '--id', id);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, new RegExp(`^shop/${id}  published  version 1\\n`));
    assert.match(shown.stdout, new RegExp(`^  versioned    ${fixture.twin.edgeUrl}/img/shop/${id}/v1$`, 'm'));
    assert.match(shown.stdout, /^  variants     [1-9]\d*, [1-9]\d* bytes$/m);
    assert.match(shown.stdout, /^  last run     SUCCEEDED published  arn:aws:states:\S+:execution:/m);
    const unknown = await pictor('status', '--tenant', 'shop', '--id', 'never-uploaded');
    assert.deepEqual([unknown.code, unknown.stdout], [2, '']);
    assert.match(unknown.stderr, /^pictor: No image shop\/never-uploaded: /);
  });

  it('signs URLs for tenants that require it, through the API', async () => {
    const id = uniqueId('doc');
    await uploaded('vault', id);
    const printed = await pictor('url', '--tenant', 'vault', '--id', id, '--w', '320');
    assert.equal(printed.code, 0, printed.stderr);
    assert.match(printed.stdout, /&exp=\d+&kid=v1&sig=/);
    assert.equal((await fetch(printed.stdout.trim())).status, 200);
    // The full URL, as `url` prints it, signs as its path does, keeping its origin.
    const signed = await pictor('sign', `${fixture.twin.edgeUrl}/img/vault/${id}/v1?w=320`);
    assert.equal(signed.code, 0, signed.stderr);
    assert.ok(signed.stdout.startsWith(`${fixture.twin.edgeUrl}/img/vault/${id}/v1?`) && /&sig=/.test(signed.stdout), signed.stdout);
    assert.equal((await fetch(signed.stdout.trim())).status, 200);
    // A path gets the tenant's base URL.
    const path = await pictor('sign', `/img/vault/${id}/v1?w=320`);
    assert.ok(path.stdout.startsWith(`${fixture.twin.edgeUrl}/img/vault/${id}/v1?`), path.stdout);
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
    assert.deepEqual([wrong.code, wrong.stderr], [2, 'pictor: No tenant nobody.\n']);
  });

  it('reports a rejected upload with its reason and a non-zero exit', async () => {
    const broken = join(fixture.dir, 'broken.jpg');
    const whole = await sampleImage(800, 600);
    await writeFile(broken, whole.subarray(0, whole.length / 2));
    const id = uniqueId('broken');
    const result = await pictor('upload', broken, '--tenant', 'shop', '--id', id);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^pictor: The upload was rejected \(UnprocessableImage\): The original could not be decoded\./);
    assert.match(result.stderr, /\n  execution: arn:aws:states:\S+\n$/);
    const shown = await pictor('status', '--tenant', 'shop', '--id', id);
    assert.match(shown.stdout, /^  last run     SUCCEEDED rejected  arn:/m);
    assert.match(shown.stdout, /^    reason     The original could not be decoded\./m);
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

  it('refuses, as the API does, to sign a URL for longer than its tenant allows or an upload over its limits', async () => {
    const ttl = await pictor('sign', '/img/vault/doc?w=320', '--ttl', String(7 * 86400));
    assert.deepEqual([ttl.code, ttl.stderr], [2, "pictor: --ttl: at most 86400, the tenant's signing.maxTtl.\n"]);
    const text = join(fixture.dir, 'notes.txt');
    await writeFile(text, 'not an image');
    const typed = await pictor('upload', text, '--tenant', 'shop', '--id', uniqueId('notes'), '--type', 'text/plain');
    assert.equal(typed.code, 2);
    assert.match(typed.stderr, /^pictor: --type: text\/plain is not one tenant shop takes \(image\/jpeg, /);
    const photo = join(fixture.dir, 'large.jpg');
    await writeFile(photo, await sampleImage(320, 240));
    const large = await pictor('upload', photo, '--tenant', 'tiny', '--id', uniqueId('large'));
    assert.equal(large.code, 2);
    assert.match(large.stderr, /^pictor: the file's size: \d+ bytes is over tenant tiny's limit of 2000\.\n$/);
    const untyped = await pictor('upload', text, '--tenant', 'shop', '--id', uniqueId('notes'));
    assert.deepEqual([untyped.code, untyped.stderr.split('\n').length], [2, 2]);
    assert.match(untyped.stderr, /^pictor: Cannot tell what kind of image \S+notes\.txt is: give its content type with --type/);
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
          // The render is held until `status` has answered: the execution is running when it is asked.
          if (/execution: /.test(text) && !whileRunning) whileRunning = pictor('status', '--tenant', 'shop', '--id', id).finally(release);
        },
      },
      'upload', photo, '--tenant', 'shop', '--id', id,
    ).finally(release);
    assert.equal(result.code, 0, result.stderr);
    assert.ok(whileRunning, `no execution was printed before the outcome: ${result.stdout}`);
    const shown = await whileRunning;
    assert.equal(shown.code, 0);
    assert.match(shown.stdout, new RegExp(`^shop/${id}  pending\\n`));
    assert.match(shown.stdout, /^  last run     RUNNING  arn:/m);
    assert.match(result.stdout, /\nPublished as version 1\./);
    const arn = /execution: (\S+)/.exec(result.stdout)![1]!;
    // On the twin, the execution itself too.
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
      [['upload', 'x.jpg', '--tenant', 'shop', '--id', 'x', '--bogus'], /^pictor: upload has no option --bogus; it takes --tenant, --id, --type, --wait, --api, --region, --role-arn /],
      [['upload', 'x.jpg', '--tenant', 'shop', '--id', 'x', '--wait', '0'], /^pictor: --wait takes a whole number of seconds above 0, such as 3600, not '0'\.$/m],
      [['upload', 'x.jpg', '--tenant', 'shop'], /^pictor: upload needs --id X \(usage: pictor upload <file> --tenant T --id X \[--type image\/jpeg\] \[--wait 120\]\)\.$/m],
      [['sign', '/img/vault/doc?w=320', '--ttl', '-5'], /^pictor: --ttl takes a whole number of seconds above 0, such as 3600, not '-5'\.$/m],
      [['sign', '/img/vault/doc?w=320', '--ttl', 'abc'], /^pictor: --ttl takes a whole number of seconds above 0, such as 3600, not 'abc'\.$/m],
      [['status', 'arn:aws:states:nowhere'], /^pictor: 'arn:aws:states:nowhere' is not an execution ARN; give the one /],
      [['status', 'not-a-job-id'], /^pictor: 'not-a-job-id' is not a job id \(the jobId a takedown or re-render request answered\)\.$/m],
      [['url', '--tenant', 'Nope', '--id', 'x'], /^pictor: --tenant must be a tenant id \(3 to 32 of a-z 0-9 -\), not 'Nope'\.$/m],
      [['takedown', '--tenant', 'shop', '--id', 'hero'], /^pictor: takedown needs --reason dmca\|gdpr\|other /],
      [['takedown', '--tenant', 'shop', '--reason', 'gdpr'], /^pictor: takedown needs --id X /],
      [['takedown', '--tenant', 'shop', '--id', 'hero', '--reason', 'because'], /^pictor: --reason 'because' is refused by the "Takedown Requested" schema: .*"dmca"/],
      [['takedown', '--tenant', 'shop', '--id', 'a/b', '--reason', 'gdpr'], /^pictor: --id 'a\/b' is refused by the "Takedown Requested" schema: an image id/],
      [['takedown', '--tenant', 'shop', '--id', 'hero', '--reason', 'gdpr', '--requester', 'dpo@example.com'], /^pictor: takedown no longer takes --requester: the API names the caller as the requester/],
      [['takedown', '--tenant', 'nobody', '--id', 'hero', '--reason', 'gdpr'], /^pictor: No tenant nobody\.$/m],
      [['rerender', '--tenant', 'nobody'], /^pictor: No tenant nobody\.$/m],
      [['rerender', '--tenant', 'shop', '--widths', '100'], /^pictor: Tenant 'shop' has no breakpoint 100: no request would ever ask for it\./],
      [['rerender', '--tenant', 'shop', '--formats', 'gif'], /^pictor: --formats 'gif' is refused by the "Rerender Requested" schema: .*"webp"/],
      [['rerender', '--tenant', 'shop', '--tolerate', '200'], /^pictor: --tolerate '200' is refused by the "Rerender Requested" schema: .*100/],
      [['keys', 'burn'], /^pictor: Unknown keys command 'burn'; it is one of rotate, retire, list/],
      [['keys', 'retire', '--tenant', 'vault', '--kid', 'never-was'], /^pictor: Tenant vault has no active key never-was; its keys are v1\.$/m],
      [['keys', 'retire', '--tenant', 'vault', '--kid', 'v1'], /^pictor: v1 is the key vault's URLs are signed with; rotate first /],
      [['tenants', 'put', '--file', badTenants], /^pictor: \S+bad-tenants\.json is wrong: tenants\.shop\.breakpoints: breakpoints must be strictly ascending\.$/m],
      [['tenants', 'put', '--file', '/no/such/tenants.json'], /^pictor: Cannot read \/no\/such\/tenants\.json/],
      [['tenants', 'list', '--store-arn', 'arn:aws:cloudfront::111122223333:key-value-store/x'], /^pictor: tenants list no longer takes --store-arn: /],
      [['upload', '/no/such/file', '--tenant', 'shop', '--id', 'x'], /^pictor: Cannot read \/no\/such\/file/],
      [['tenants', 'policy', '--tenant', 'shop', '--base-url', 'notaurl'], /^pictor: --base-url: Expected an origin such as 'https:\/\/images\.example\.com' \(no path\) for baseUrl but received "notaurl"\.$/m],
      [['keys', 'retire', '--tenant', 'vault'], /^pictor: keys retire needs --kid ID /],
      [['tenants', 'list', '--role-arn', 'shop-role'], /^pictor: --role-arn must be a role's ARN/],
    ] as const) {
      const result = await pictor(...args);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.equal(result.stdout, '', args.join(' '));
      assert.match(result.stderr, message, args.join(' '));
      assert.equal(result.stderr.split('\n').length, 2, `one line: ${result.stderr}`);
    }
    await fixture.twin.pipeline!.bus.settled();
    assert.equal(executions(), before, 'no refused command started an execution');
  });

  it('names every takedown reason core/takedown.ts defines in its usage, and no requester', async () => {
    const help = await pictor('--help');
    assert.equal(help.code, 0);
    assert.match(help.stdout, new RegExp(`--reason ${TAKEDOWN_REASONS.join('\\|')}\\n`));
    assert.doesNotMatch(help.stdout, /--requester/);
  });

  it('re-renders a tenant with progress as each original finishes, and the exact summary naming the caller', async () => {
    const [first, second] = [uniqueId('first'), uniqueId('second')];
    await Promise.all([uploaded('atelier', first), uploaded('atelier', second)]);
    // The second original's render waits until the CLI has shown the first one done.
    const release = holdRenders(second);
    const result = await pictorWatched({ stderr: (text) => text.startsWith('1/2 originals') && release() }, 'rerender', '--tenant', 'atelier', '--widths', '320').finally(release);
    assert.equal(result.code, 0, result.stderr);
    const job = /^job: (\S+) \(pictor status \1 --tenant atelier\)\n/.exec(result.stderr)?.[1];
    assert.ok(job, result.stderr);
    assert.match(result.stderr, /\nexecution: arn:aws:states:\S+:execution:\S+\n(0\/2 originals\n)?1\/2 originals\n2\/2 originals\n$/);
    assert.equal(result.stdout.split('\n')[0], `Re-render ${job} by ${LOCAL_ADMIN.arn}: 2 rendered, 0 skipped, 0 failed.`);
    const printed = await pictor('url', '--tenant', 'atelier', '--id', first, '--w', '320', '--fmt', 'webp');
    assert.match(printed.stdout, new RegExp(`/img/atelier/${first}/v2\\?`), 'the re-render published version 2');
    // The job, from anywhere: by its tenant's route, or an admin's.
    for (const args of [['status', job, '--tenant', 'atelier'], ['status', job]]) {
      const shown = await pictor(...args);
      assert.equal(shown.code, 0, shown.stderr);
      assert.match(shown.stdout, new RegExp(`^rerender ${job}  succeeded  2/2 items\\n  tenant     atelier\\n  execution  SUCCEEDED  arn:`));
    }
  });

  /** Takes an image down with the CLI and returns what it printed. */
  async function takenDown(id: string, ...as: string[]) {
    const result = await pictor('takedown', '--tenant', 'shop', '--id', id, '--reason', 'gdpr', ...as);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /^job: \S+ \(pictor status \S+ --tenant shop\)\n/);
    return result.stdout;
  }

  /** The audit record of an image's takedown. */
  async function auditOf(id: string) {
    const listed = await fixture.twin.s3Client.send(new ListObjectsV2Command({ Bucket: 'pictor-audit', Prefix: `takedowns/shop/${id}/` }));
    assert.equal(listed.Contents?.length, 1, `one audit record for ${id}`);
    const record = await fixture.twin.s3Client.send(new GetObjectCommand({ Bucket: 'pictor-audit', Key: listed.Contents![0]!.Key! }));
    return JSON.parse(await record.Body!.transformToString());
  }

  it('takes an image down: the URL that was a Hit becomes a 404, and the output and audit record name the caller', async () => {
    const id = uniqueId('gone');
    await uploaded('shop', id);
    const url = (await pictor('url', '--tenant', 'shop', '--id', id, '--w', '640', '--fmt', 'webp')).stdout.trim();
    await fetch(url);
    assert.equal((await fetch(url)).headers.get('x-cache'), 'Hit from cloudfront');
    const stdout = await takenDown(id);
    assert.match(stdout, new RegExp(`^Takedown [0-9a-f-]{36} by ${LOCAL_ADMIN.arn}: 1 images erased, invalidated and verified 404 at the edge\\.\\n  report: s3://pictor-reports/\\S+\\n  execution: arn:aws:states:`));
    assert.equal((await fetch(url)).status, 404);
    const audit = await auditOf(id);
    assert.equal(audit.imageId, id);
    assert.equal(audit.requester, LOCAL_ADMIN.arn);
    assert.equal(audit.legalBasis, 'gdpr');
  });

  it("acts as a tenant's role: on its own images, named as the requester; refused on another tenant's, in one line naming it", async () => {
    const id = uniqueId('own');
    const role = tenantRole('shop');
    const asShop = ['--role-arn', role];
    const photo = join(fixture.dir, `${id}.jpg`);
    await writeFile(photo, await sampleImage(640, 480));
    const up = await pictor('upload', photo, '--tenant', 'shop', '--id', id, ...asShop);
    assert.equal(up.code, 0, up.stderr);
    const session = new RegExp(`arn:aws:sts::\\d{12}:assumed-role/${role.split('/').pop()}/pictor-cli-[\\w+=,.@-]*`);
    // Another tenant's image, and an admin's route: API Gateway refuses both, and the line says who asked.
    for (const args of [['status', '--tenant', 'vault', '--id', 'doc'], ['tenants', 'list'], ['takedown', '--tenant', 'vault', '--id', 'doc', '--reason', 'dmca']]) {
      const refused = await pictor(...args, ...asShop);
      assert.equal(refused.code, 1, `${args.join(' ')}: ${refused.stderr}`);
      assert.equal(refused.stderr.split('\n').length, 2, `one line: ${refused.stderr}`);
      assert.match(refused.stderr, new RegExp(`^pictor: ${session.source} \\(assumed with the twin's admin keys\\) may not call (GET|POST) /v1/tenants[/\\w-]*: API Gateway refused it \\(403 Forbidden\\)`));
    }
    const stdout = await takenDown(id, ...asShop);
    assert.match(stdout, new RegExp(`^Takedown \\S+ by ${session.source}: 1 images erased`));
    assert.match((await auditOf(id)).requester, session);
  });

  it('says so when an upload goes to an id that was taken down, and serves nothing of it', async () => {
    const id = uniqueId('erased');
    const { photo } = await uploaded('shop', id, [1600, 1067]);
    await takenDown(id);
    const result = await pictor('upload', photo, '--tenant', 'shop', '--id', id);
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`^pictor: shop/${id} was taken down on \\S+; an upload under its id would be discarded\\. Use another id\\.\\n$`));
    for (const url of [`/img/shop/${id}?w=640&fmt=webp`, `/img/shop/${id}/v3?w=640&fmt=webp`, `/img/shop/${id}/v1?w=480&fmt=webp`, `/img/shop/${id}`]) {
      assert.equal((await fetch(fixture.twin.edgeUrl + url)).status, 404, url);
    }
    const status = await pictor('status', '--tenant', 'shop', '--id', id);
    assert.match(status.stdout, new RegExp(`^shop/${id}  taken-down  version 1\\n  taken down   \\S+\\n`));
  });

  it('puts tenants and rotates, lists and retires their keys through the admin routes', async () => {
    const file = join(fixture.dir, 'gallery.json');
    await writeFile(file, JSON.stringify({ breakpoints: [320, 640], variants: RENDERED, signing: { required: true } }));
    const put = await pictor('tenants', 'put', '--tenant', 'gallery', '--file', file);
    assert.equal(put.code, 0, put.stderr);
    const generated = /^put gallery  keys: (\S+) \(signs with \1\)$/.exec(put.stdout.trim())?.[1];
    assert.ok(generated, put.stdout);
    assert.match((await pictor('tenants', 'list')).stdout, new RegExp(`^gallery\\s+signed  ${generated}$`, 'm'));
    const rotated = await pictor('keys', 'rotate', '--tenant', 'gallery', '--kid', 'g2');
    assert.equal(rotated.stdout, 'gallery signs with g2 from now on; retire the older keys once URLs they signed have expired (keys retire --tenant gallery --kid ...).\n');
    assert.equal((await pictor('keys', 'list', '--tenant', 'gallery')).stdout, `${generated}\ng2\n`);
    const retired = await pictor('keys', 'retire', '--tenant', 'gallery', '--kid', generated);
    assert.equal(retired.code, 0, retired.stderr);
    assert.equal((await pictor('keys', 'list', '--tenant', 'gallery')).stdout, 'g2\n');
    assert.equal((await pictor('tenants', 'remove', '--tenant', 'gallery')).stdout, 'removed gallery\n');
    assert.doesNotMatch((await pictor('tenants', 'list')).stdout, /^gallery/m);
    const gone = await pictor('keys', 'list', '--tenant', 'gallery');
    assert.deepEqual([gone.code, gone.stderr], [2, 'pictor: No tenant gallery.\n']);
  });

  it('reaches an API named by --api or PICTOR_API_URL, in the region given or the one it names, with the credentials the environment gives', async () => {
    const credentials = { AWS_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey };
    const api = fixture.twin.apiUrl!;
    const flagged = await pictorWatched({ env: credentials }, 'tenants', 'list', '--api', api, '--region', 'us-east-1');
    assert.equal(flagged.code, 0, flagged.stderr);
    assert.match(flagged.stdout, /^shop\s+open/m);
    const named = await pictorWatched({ env: { ...credentials, PICTOR_API_URL: api, AWS_REGION: 'us-east-1' } }, 'status', '--tenant', 'shop', '--id', 'never-uploaded');
    assert.match(named.stderr, /^pictor: No image shop\/never-uploaded: /);
    // Credentials the API does not know: API Gateway's own answer, naming where they came from.
    const unknown = await pictorWatched({ env: { AWS_ACCESS_KEY_ID: 'AKIAUNKNOWNKEY000000', AWS_SECRET_ACCESS_KEY: 'not-a-secret' } }, 'tenants', 'list');
    assert.deepEqual(
      [unknown.code, unknown.stderr],
      [1, 'pictor: The API answered 403 to GET /v1/tenants signed with the access key AKIAUNKNOWNKEY000000 from AWS_ACCESS_KEY_ID: The security token included in the request is invalid.\n'],
    );
    // The twin's URL names no region, as a custom domain does not: signed for the region its /v1/health names, whatever AWS_REGION says.
    const regionless = await pictorWatched({ env: { ...credentials, AWS_REGION: 'ap-southeast-2' } }, 'tenants', 'list', '--api', api);
    assert.equal(regionless.code, 0, regionless.stderr);
    assert.match(regionless.stdout, /^shop\s+open/m);
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
      assert.match(refused.stderr, FAULTED_UPLOAD);
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
