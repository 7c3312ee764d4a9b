import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import {
  DescribeExecutionCommand,
  DescribeMapRunCommand,
  ListExecutionsCommand,
  ListMapRunsCommand,
  ListStateMachinesCommand,
  SFNClient,
  StartExecutionCommand,
  type DescribeExecutionCommandOutput,
} from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { formatImagePath, isImageId, isTenantId, parseImagePath } from '../core/image-path.ts';
import { normalizeQuery } from '../core/normalize.ts';
import { uploadKey } from '../core/object-keys.ts';
import { TAKEDOWN_REASONS } from '../core/takedown.ts';
import { parseConfig, policyOf, type TenantConfig } from '../core/tenant-config.ts';
import { signWithNewestKey } from '../signer/sign-url.ts';
import { DEFAULT_SIGNING_SECRET_PREFIX } from '../core/signing-keys.ts';
import { keyValueStoreClient, secretsManagerClient } from '../tenant-store/clients.ts';
import { TenantRegistry } from '../tenant-store/registry.ts';
import { SigningSecrets } from '../tenant-store/signing-secrets.ts';
import { FAULT_MODES, type FaultMode } from './regions.ts';
import { endpointsOf, readSettings } from './settings.ts';
import { BUCKETS, LOCAL_S3_CREDENTIALS, LOCAL_TABLES, TWIN_FAULTS_PATH, TWIN_TENANT_STORE_PATH } from './twin-names.ts';
import { DynamoDbVersionMap } from '../tasks/shared/dynamodb-version-map.ts';
import type { VersionRecord } from '../tasks/ports/version-map.ts';
import type { UploadOutcome } from '../workflows/render-on-upload.ts';

const USAGE = `Usage: pictor <command>   (against the twin that 'npm start' runs)

Commands:
  upload <file> --tenant T --id X [--wait 120]
                                         Upload an original; say what the pipeline did with it.
  url --tenant T --id X [--w 640] [--h 480] [--fit cover] [--fmt auto] [--q 75] [--sign]
                                         Print the canonical versioned URL of a published image.
  sign <url> [--ttl seconds] [--kid id]  Sign /img/{tenant}/{id}?... with the tenant's newest key (or --kid).
  rerender [--tenant T] [--widths 320,640] [--formats webp,legacy] [--only-stale] [--tolerate 5]
                                         Re-render a tenant's originals (or all tenants'), as new versions.
  takedown --tenant T --id X [--id Y ...] --reason ${TAKEDOWN_REASONS.join('|')} --requester R
                                         Erase images everywhere, invalidate them, verify, and audit.
  status <execution-arn>                 Show a state machine execution.
  retry <execution-arn>                  Run a failed execution again, with its own input.
  twin fault --region R --mode 503|hang|refuse|off
                                         Game day: make one region's S3 answer 503, hang, refuse
                                         connections, or recover. Without options, show each region's.

Tenants and keys, at run time (the KeyValueStore and Secrets Manager; no deploy):
  tenants put --file F [--tenant T]      Put the tenant(s) of a tenants file ({"tenants": {...}}), or one
                                         tenant's JSON with --tenant. A tenant that requires signed URLs
                                         and lists no key gets one generated into Secrets Manager.
  tenants remove --tenant T              Remove a tenant: its policy and keys leave the edge, its secret goes.
  tenants list                           Every tenant in the store, with its active key ids.
  keys rotate --tenant T [--kid ID]      Add a new key (generated); it signs from now on.
  keys retire --tenant T --kid ID        After the overlap, stop accepting an old key.
  keys list --tenant T                   Active key ids, oldest first; the last one signs.

  Against a deployment instead of the twin, add --store-arn <the edge stack's TenantStore ARN>,
  --config-store-arn <its TenantConfigStore ARN> and --secrets-region <the pipeline's region>;
  AWS credentials come from the usual chain.`;

class UsageError extends Error {}

/** The CLI's time: when it is, and how it waits between polls of the twin. */
export interface CliClock {
  /** Milliseconds since the epoch, as cx.clock.now(). */
  now(): number;
  /** Resolves after `ms`; the CLI polls an execution's status at this pace. */
  sleep(ms: number): Promise<void>;
}

/** Where a run of the CLI writes, what it reads its settings from, and its clock. */
export interface CliIo {
  /** The command's result. */
  readonly stdout: { write(text: string): unknown };
  /** Errors, usage and progress; a progress bar is drawn in place when `isTTY`. */
  readonly stderr: { write(text: string): unknown; readonly isTTY?: boolean };
  /** The twin's ports (local/settings.ts), USER and AWS_REGION. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** @default the real clock */
  readonly clock?: CliClock;
}

const REAL_CLOCK: CliClock = { now: () => Date.now(), sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) };

/** What every command reads: the twin's endpoints, its clients, and the run's io. */
interface Context {
  readonly endpoints: ReturnType<typeof endpointsOf>;
  readonly sfn: SFNClient;
  readonly documents: DynamoDBDocumentClient;
  readonly env: NodeJS.ProcessEnv;
  readonly clock: CliClock;
  readonly stderr: CliIo['stderr'];
  /** Clients a command made for itself, destroyed when the run ends. */
  readonly clients: { destroy(): void }[];
}

const region = 'us-east-1';
const credentials = LOCAL_S3_CREDENTIALS;

/**
 * Runs one `pictor` command (argv without the node and script paths) and returns its
 * exit code: 0 with the result on stdout, 1 with `pictor: <what to change>` on stderr
 * (and the usage, when the command line was the mistake).
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const env = io.env ?? process.env;
  const clients: { destroy(): void }[] = [];
  try {
    const endpoints = endpointsOf(readSettings(env));
    const sfn = new SFNClient({ region, endpoint: endpoints.control, credentials });
    const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ region, endpoint: endpoints.dynamodb, credentials }));
    clients.push(sfn, documents);
    const output = await main({ endpoints, sfn, documents, env, clock: io.clock ?? REAL_CLOCK, stderr: io.stderr, clients }, [...argv]);
    io.stdout.write(`${output}\n`);
    return 0;
  } catch (error) {
    io.stderr.write(`pictor: ${(error as Error).message}${error instanceof UsageError ? `\n\n${USAGE}` : ''}\n`);
    return 1;
  } finally {
    for (const client of clients) client.destroy();
  }
}

async function main(cx: Context, argv: string[]): Promise<string> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'upload':
      return upload(cx, rest);
    case 'url':
      return url(cx, rest);
    case 'sign':
      return sign(cx, rest);
    case 'status':
      return status(cx, rest);
    case 'retry':
      return retry(cx, rest);
    case 'rerender':
      return rerender(cx, rest);
    case 'takedown':
      return takedown(cx, rest);
    case 'twin':
      return twin(cx, rest);
    case 'tenants':
      return tenants(cx, rest);
    case 'keys':
      return keys(cx, rest);
    case undefined:
    case '-h':
    case '--help':
      return USAGE;
    default:
      throw new UsageError(`Unknown command '${command}'.`);
  }
}

async function upload(cx: Context, args: string[]): Promise<string> {
  const { positionals, values } = parseArgs({ args, allowPositionals: true, options: { tenant: { type: 'string' }, id: { type: 'string' }, wait: { type: 'string', default: '120' } } });
  const file = positionals[0];
  if (!file || positionals.length > 1) throw new UsageError('upload takes one file.');
  if (!/^[1-9][0-9]*$/.test(values.wait)) throw new UsageError(`--wait takes a number of seconds, not '${values.wait}'.`);
  const image = imageOf(values);
  const tenant = await tenantOf(cx, image.tenant);
  const body = await readFile(file).catch((error: Error) => {
    throw new Error(`Cannot read ${file}: ${error.message}`);
  });
  // Through the primary region's endpoint, as a tenant's upload reaches S3: a fault there fails it.
  const s3 = new S3Client({ region, endpoint: cx.endpoints.regions[BUCKETS.originals.region], forcePathStyle: true, credentials, requestChecksumCalculation: 'WHEN_REQUIRED', maxAttempts: 1 });
  cx.clients.push(s3);
  const key = uploadKey(image);
  const sent = new Date(cx.clock.now());
  const put = await s3.send(new PutObjectCommand({ Bucket: BUCKETS.originals.bucket, Key: key, Body: body })).catch((error: Error) => {
    throw new Error(`S3 in ${BUCKETS.originals.region} did not take the upload, so nothing was stored; upload it again once the region answers (is 'npm start' running? is a fault injected, see 'pictor twin fault'?): ${error.name}: ${error.message}`);
  });
  const execution = await uploadExecution(cx, { key, etag: (put.ETag ?? '').replace(/"/g, ''), versionId: put.VersionId, sent }, cx.clock.now() + Number(values.wait) * 1000);
  const arn = `  execution: ${execution.executionArn}`;
  if (execution.status !== 'SUCCEEDED') {
    throw new Error(`The upload failed (${execution.error}): ${execution.cause}\n${arn}\n  Once the cause is fixed, 'pictor retry ${execution.executionArn}' runs it again.`);
  }
  // What the execution says it did, in its own output (workflows/render-on-upload.ts).
  const output = JSON.parse(execution.output ?? '{}') as { outcome: UploadOutcome; version?: number; code?: string; reason?: string; quarantineKey?: string | null };
  switch (output.outcome) {
    case 'published': {
      const link = canonicalUrl(cx, image, output.version!, tenant, new URLSearchParams('w=640'));
      return `Uploaded ${file} as ${key}; published as version ${output.version}.\n${link}\n${arn}`;
    }
    case 'rejected':
      throw new Error(`The upload was rejected (${output.code}): ${output.reason}\n  quarantined as ${output.quarantineKey ?? '(already replaced)'}\n${arn}`);
    case 'discarded':
      throw new Error(`The upload was discarded: ${output.reason}. Its bytes were erased in every region.\n${arn}`);
    default:
      throw new Error(`The upload was skipped: ${output.reason}\n${arn}`);
  }
}

/**
 * The RenderOnUpload execution of this upload, once it has ended: the first one
 * since it was sent whose event names its key, its ETag and, on a versioned bucket,
 * its version. The same bytes uploaded again are another upload. An error past the deadline.
 */
async function uploadExecution(cx: Context, upload: { key: string; etag: string; versionId?: string; sent: Date }, deadline: number): Promise<DescribeExecutionCommandOutput> {
  const renderOnUpload = await stateMachine(cx, 'RenderOnUpload');
  let running: string | undefined;
  for (;;) {
    const { executions = [] } = await cx.sfn.send(new ListExecutionsCommand({ stateMachineArn: renderOnUpload }));
    // Oldest first: a duplicate delivery of the event starts a later one.
    for (const summary of executions.filter((e) => e.startDate && e.startDate >= upload.sent).reverse()) {
      const execution = await cx.sfn.send(new DescribeExecutionCommand({ executionArn: summary.executionArn }));
      const object = JSON.parse(execution.input ?? '{}')?.detail?.object;
      if (object?.key !== upload.key || object?.etag?.replace(/"/g, '') !== upload.etag) continue;
      if (upload.versionId && object['version-id'] !== upload.versionId) continue;
      if (execution.status !== 'RUNNING') return execution;
      running = execution.executionArn;
      break;
    }
    if (cx.clock.now() > deadline) {
      throw new Error(`Uploaded ${upload.key}, but ${running ? `its RenderOnUpload run is still going: 'pictor status ${running}'` : 'no RenderOnUpload run started for it'} (see --wait).`);
    }
    await cx.clock.sleep(250);
  }
}

/** Runs a failed execution again with its own input, as re-sending its event would. */
async function retry(cx: Context, args: string[]): Promise<string> {
  const [arn] = args;
  if (!arn || args.length > 1) throw new UsageError('retry takes one execution ARN.');
  const failed = await cx.sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
  if (failed.status === 'RUNNING' || failed.status === 'SUCCEEDED') throw new Error(`${failed.name} is ${failed.status}; only a failed execution needs running again.`);
  const name = `retry-${randomUUID()}`;
  const { executionArn } = await cx.sfn.send(new StartExecutionCommand({ stateMachineArn: failed.stateMachineArn, name, input: failed.input }));
  for (;;) {
    const execution = await cx.sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (execution.status !== 'RUNNING') return status(cx, [execution.executionArn!]);
    await cx.clock.sleep(250);
  }
}

/** A state machine's ARN, by the construct that made it. */
async function stateMachine(cx: Context, name: string): Promise<string> {
  const { stateMachines = [] } = await cx.sfn.send(new ListStateMachinesCommand({})).catch((error: Error) => {
    throw new Error(`The twin at ${cx.endpoints.control} did not answer (is 'npm start' running?): ${error.message}`);
  });
  const found = stateMachines.find((m) => m.name?.includes(name));
  if (!found) throw new Error(`The twin runs no ${name} state machine.`);
  return found.stateMachineArn!;
}

async function url(cx: Context, args: string[]): Promise<string> {
  const { values } = parseArgs({
    args,
    options: {
      tenant: { type: 'string' },
      id: { type: 'string' },
      w: { type: 'string' },
      h: { type: 'string' },
      fit: { type: 'string' },
      fmt: { type: 'string' },
      q: { type: 'string' },
      sign: { type: 'boolean', default: false },
    },
  });
  const image = imageOf(values);
  const tenant = await tenantOf(cx, image.tenant);
  const record = await versionRecord(cx, image.tenant, image.imageId);
  if (!record?.version) throw new Error(`${image.tenant}/${image.imageId} has no published version yet.`);
  const query = new URLSearchParams();
  for (const name of ['w', 'h', 'fit', 'fmt', 'q'] as const) if (values[name] !== undefined) query.set(name, values[name]!);
  return canonicalUrl(cx, image, Number(record.version), tenant, query, values.sign);
}

function canonicalUrl(cx: Context, image: { tenant: string; imageId: string }, version: number, tenant: TenantConfig, query: URLSearchParams, signed = false): string {
  const path = formatImagePath({ ...image, version });
  if (signed || tenant.signing.required) {
    return cx.endpoints.edge + signWithNewestKey(`${path}?${query}`, image.tenant, tenant, new Date(cx.clock.now() + 3600_000));
  }
  const normalized = normalizeQuery([...query.entries()], policyOf(tenant), undefined);
  if (!normalized.ok) throw new UsageError(normalized.message);
  return `${cx.endpoints.edge}${path}?${normalized.normalized.signedQuery}`;
}

async function sign(cx: Context, args: string[]): Promise<string> {
  const { positionals, values } = parseArgs({ args, allowPositionals: true, options: { ttl: { type: 'string', default: '3600' }, kid: { type: 'string' } } });
  const target = positionals[0];
  if (!target || positionals.length > 1) throw new UsageError('sign takes one URL path, such as /img/demo-private/sample?w=320.');
  if (!/^\d+$/.test(values.ttl)) throw new UsageError(`--ttl must be a number of seconds, not '${values.ttl}'.`);
  const path = parseImagePath(target.split('?')[0]!);
  if (!path.ok) throw new UsageError(path.message);
  const tenant = await tenantOf(cx, path.path.tenant);
  return cx.endpoints.edge + signWithNewestKey(target, path.path.tenant, tenant, new Date(cx.clock.now() + Number(values.ttl) * 1000), values.kid);
}

async function status(cx: Context, args: string[]): Promise<string> {
  const [arn] = args;
  if (!arn || args.length > 1) throw new UsageError('status takes one execution ARN.');
  const e = await cx.sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
  const lines = [`${e.status}  ${e.name}`, `  started  ${e.startDate?.toISOString()}`];
  if (e.stopDate) lines.push(`  stopped  ${e.stopDate.toISOString()}`);
  if (e.error) lines.push(`  error    ${e.error}: ${e.cause}`);
  if (e.output) lines.push(`  output   ${e.output}`);
  return lines.join('\n');
}

async function rerender(cx: Context, args: string[]): Promise<string> {
  const { values } = parseArgs({
    args,
    options: {
      tenant: { type: 'string' },
      widths: { type: 'string' },
      formats: { type: 'string' },
      'only-stale': { type: 'boolean', default: false },
      tolerate: { type: 'string' },
      requester: { type: 'string' },
    },
  });
  if (values.tenant !== undefined) await tenantOf(cx, values.tenant);
  const widths = values.widths?.split(',').map((w) => {
    if (!/^[1-9][0-9]*$/.test(w)) throw new UsageError(`--widths takes widths such as 320,640; '${w}' is not one.`);
    return Number(w);
  });
  const formats = values.formats?.split(',');
  if (values.tolerate !== undefined && !/^\d+(\.\d+)?$/.test(values.tolerate)) throw new UsageError(`--tolerate takes a percentage, not '${values.tolerate}'.`);
  const requester = values.requester ?? cx.env.USER ?? 'pictor-cli';
  const detail = {
    schemaVersion: 1,
    requester,
    ...(values.tenant ? { tenant: values.tenant } : {}),
    ...(widths || formats ? { variants: { ...(widths ? { widths } : {}), ...(formats ? { formats } : {}) } } : {}),
    ...(values['only-stale'] ? { onlyStale: true } : {}),
    ...(values.tolerate !== undefined ? { toleratedFailurePercentage: Number(values.tolerate) } : {}),
  };
  const first = await runToEnd(cx, { machine: 'CatalogueRerender', prefix: 'rerender', what: 're-render', noun: 'originals' }, (jobId) => ({ jobId, detail }));
  const { name: jobId } = first;
  const { executionArn, output: summary } = await followParts(cx, first.executionArn, first.output);
  const lines = [`Re-render ${jobId}: ${summary.rendered} rendered, ${summary.skipped} skipped, ${summary.failed} failed.`];
  for (const [reason, count] of Object.entries(summary.skippedBecause as Record<string, number>)) lines.push(`  skipped ${count}: ${reason}`);
  for (const f of summary.failures as { tenant: string; imageId: string; error: string; cause: string }[]) lines.push(`  failed ${f.tenant}/${f.imageId}: ${f.error} ${f.cause}`);
  if (summary.failuresOmitted) lines.push(`  … and ${summary.failuresOmitted} more failures, all in the report`);
  // Every failure, the counts and where the per-original results are: rerenders/<jobId>/report.json.
  if (summary.report) lines.push(`  report: s3://${summary.report.bucket}/${summary.report.key}`);
  lines.push(`  execution: ${executionArn}`);
  return lines.join('\n');
}

/**
 * Follows a re-render through its parts: an execution that reached its share of
 * pages ends with `continuedAs` (the next part's execution name), and the job's
 * summary is the last part's output.
 */
async function followParts(cx: Context, executionArn: string, output: any): Promise<{ executionArn: string; output: any }> {
  while (output?.continuedAs) {
    executionArn = executionArn.replace(/:[^:]+$/, `:${output.continuedAs.name}`);
    cx.stderr.write(`  continued as part ${output.continuedAs.part}: ${output.totals.rendered + output.totals.skipped + output.totals.failed} originals so far\n`);
    for (;;) {
      const execution = await cx.sfn.send(new DescribeExecutionCommand({ executionArn })).catch((error: Error) => {
        if (error.name === 'ExecutionDoesNotExist') return undefined;
        throw error;
      });
      if (execution && execution.status !== 'RUNNING') {
        if (execution.status !== 'SUCCEEDED') throw new Error(`The re-render ${execution.status?.toLowerCase()} (${execution.error}): ${execution.cause}\n  execution: ${executionArn}`);
        output = JSON.parse(execution.output!);
        break;
      }
      await cx.clock.sleep(250);
    }
  }
  return { executionArn, output };
}

async function takedown(cx: Context, args: string[]): Promise<string> {
  const { values } = parseArgs({
    args,
    options: { tenant: { type: 'string' }, id: { type: 'string', multiple: true }, reason: { type: 'string' }, requester: { type: 'string' } },
  });
  const ids = values.id ?? [];
  if (ids.length === 0) throw new UsageError('takedown needs at least one --id.');
  const images = ids.map((id) => imageOf({ tenant: values.tenant, id }));
  await tenantOf(cx, images[0]!.tenant);
  if (!(TAKEDOWN_REASONS as readonly string[]).includes(values.reason ?? '')) {
    throw new UsageError(`--reason must be ${TAKEDOWN_REASONS.slice(0, -1).join(', ')} or ${TAKEDOWN_REASONS.at(-1)}: it is the legal basis the audit record names.`);
  }
  if (!values.requester) throw new UsageError('--requester must say who asked: the audit record names them.');
  const items = images.map((image) => ({ ...image, reason: values.reason, requester: values.requester }));
  const { name: batchId, executionArn, output: summary } = await runToEnd(cx, { machine: 'TakedownBatch', prefix: 'takedown', what: 'takedown', noun: 'images' }, (batchId) => ({
    batchId,
    detail: { schemaVersion: 1, items },
  }));
  // The batch's report lists every image; the summary says where it is.
  const s3 = new S3Client({ region, endpoint: cx.endpoints.regions[BUCKETS.reports.region], forcePathStyle: true, credentials, requestChecksumCalculation: 'WHEN_REQUIRED', maxAttempts: 1 });
  cx.clients.push(s3);
  const report = JSON.parse(await (await s3.send(new GetObjectCommand({ Bucket: summary.report.bucket, Key: summary.report.key }))).Body!.transformToString()) as {
    images: { tenant: string; imageId: string; auditKey?: string; invalidationId?: string }[];
  };
  return [
    `Takedown ${batchId}: ${summary.takenDown} images erased, invalidated and verified 404 at the edge.`,
    ...report.images.map((i) => `  ${i.tenant}/${i.imageId}: audit record: s3://${BUCKETS.audit.bucket}/${i.auditKey}, invalidation ${i.invalidationId ?? 'none'}`),
    `  report: s3://${summary.report.bucket}/${summary.report.key}`,
    `  execution: ${executionArn}`,
  ].join('\n');
}

/**
 * Starts a job under a fresh name (which is also its id in the input), follows it
 * to its end, and returns its output; a job that did not succeed is an error.
 */
async function runToEnd(
  cx: Context,
  job: { machine: string; prefix: string; what: string; noun: string },
  input: (name: string) => unknown,
): Promise<{ name: string; executionArn: string; output: any }> {
  const name = `${job.prefix}-${new Date(cx.clock.now()).toISOString().replace(/[-:.TZ]/g, '').slice(0, 14)}-${randomUUID().slice(0, 8)}`;
  const execution = await follow(cx, job.machine, name, input(name), job.noun);
  if (execution.status !== 'SUCCEEDED') throw new Error(`The ${job.what} ${execution.status?.toLowerCase()} (${execution.error}): ${execution.cause}\n  execution: ${execution.executionArn}`);
  return { name, executionArn: execution.executionArn!, output: JSON.parse(execution.output!) };
}

/**
 * Starts an execution and draws its progress on stderr until it ends: the items
 * its Distributed Map runs have finished, as DescribeMapRun counts them.
 */
async function follow(cx: Context, machine: string, name: string, input: unknown, noun: string): Promise<DescribeExecutionCommandOutput> {
  const { executionArn } = await cx.sfn.send(new StartExecutionCommand({ stateMachineArn: await stateMachine(cx, machine), name, input: JSON.stringify(input) }));
  const bar = progressBar(cx.stderr, noun);
  for (;;) {
    const execution = await cx.sfn.send(new DescribeExecutionCommand({ executionArn }));
    const { mapRuns = [] } = await cx.sfn.send(new ListMapRunsCommand({ executionArn }));
    let done = 0;
    let total = 0;
    for (const run of mapRuns) {
      const { itemCounts } = await cx.sfn.send(new DescribeMapRunCommand({ mapRunArn: run.mapRunArn }));
      done += (itemCounts?.succeeded ?? 0) + (itemCounts?.failed ?? 0);
      total += itemCounts?.total ?? 0;
    }
    bar.draw(done, total);
    if (execution.status !== 'RUNNING') {
      bar.end();
      return execution;
    }
    await cx.clock.sleep(200);
  }
}

/** A one-line bar on a terminal; on anything else, a line at each tenth, so logs stay short. */
function progressBar(stderr: CliIo['stderr'], noun: string) {
  const tty = stderr.isTTY;
  let lastTenth = -1;
  return {
    draw(done: number, total: number) {
      const share = total === 0 ? 0 : done / total;
      if (tty) {
        const filled = Math.round(share * 30);
        stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(30 - filled)}] ${done}/${total} ${noun}`);
      } else if (Math.floor(share * 10) > lastTenth && total > 0) {
        lastTenth = Math.floor(share * 10);
        stderr.write(`${done}/${total} ${noun}\n`);
      }
    },
    end() {
      if (tty) stderr.write('\n');
    },
  };
}

/** `twin fault`: puts a region of the running twin into a fault, or shows each region's. */
async function twin(cx: Context, args: string[]): Promise<string> {
  const [sub, ...rest] = args;
  if (sub !== 'fault') throw new UsageError(`Unknown twin command '${sub ?? ''}'; try 'twin fault --region us-east-1 --mode 503'.`);
  const { values } = parseArgs({ args: rest, options: { region: { type: 'string' }, mode: { type: 'string' } } });
  if ((values.region === undefined) !== (values.mode === undefined)) throw new UsageError('twin fault takes --region and --mode together, or neither.');
  if (values.mode !== undefined && !(FAULT_MODES as readonly string[]).includes(values.mode)) throw new UsageError(`--mode is one of ${FAULT_MODES.join(', ')}, not '${values.mode}'.`);
  const request = values.region ? { method: 'POST', body: JSON.stringify({ region: values.region, mode: values.mode }) } : {};
  const response = await fetch(cx.endpoints.control + TWIN_FAULTS_PATH, { ...request, signal: AbortSignal.timeout(10_000) }).catch((error: Error) => {
    throw new Error(`The twin's control plane at ${cx.endpoints.control} did not answer (is 'npm start' running?): ${error.message}`);
  });
  const body = (await response.json()) as { regions?: Record<string, FaultMode>; message?: string };
  if (!response.ok || !body.regions) throw new UsageError(body.message ?? `The twin answered ${response.status}.`);
  const meaning: Record<FaultMode, string> = {
    off: 'answers normally',
    '503': 'every S3 request answers 503 Service Unavailable',
    hang: 'S3 accepts connections and never answers',
    refuse: 'S3 refuses connections',
  };
  return Object.entries(body.regions)
    .map(([name, mode]) => `${name.padEnd(16)}${mode.padEnd(8)}${meaning[mode]}`)
    .join('\n');
}

function imageOf(values: { tenant?: string; id?: string }): { tenant: string; imageId: string } {
  if (!values.tenant || !isTenantId(values.tenant)) throw new UsageError('--tenant must be a tenant id (3 to 32 of a-z 0-9 -).');
  if (!values.id || !isImageId(values.id)) throw new UsageError('--id must be an image id (1 to 128 of A-Z a-z 0-9 _ -).');
  return { tenant: values.tenant, imageId: values.id };
}

/** A tenant as the running twin's store has it, with its signing keys from Secrets Manager. */
async function tenantOf(cx: Context, name: string): Promise<TenantConfig> {
  return (await registryOf(cx, [])).tenantWithKeys(name);
}

/** `tenants put|remove|list`: the tenant registry (tenant-store/registry.ts). */
async function tenants(cx: Context, args: string[]): Promise<string> {
  const [sub, ...rest] = args;
  const { values } = parseArgs({ args: rest, options: { file: { type: 'string' }, tenant: { type: 'string' }, ...STORE_OPTIONS } });
  const registry = await registryOf(cx, rest);
  switch (sub) {
    case 'put': {
      if (!values.file) throw new UsageError('tenants put needs --file, a tenants file or (with --tenant) one tenant\'s JSON.');
      let json: any;
      try {
        json = JSON.parse(await readFile(values.file, 'utf8'));
      } catch (error) {
        throw new UsageError(`Cannot read ${values.file}: ${(error as Error).message}`);
      }
      const isFile = json && typeof json === 'object' && 'tenants' in json;
      if (!isFile && !values.tenant) throw new UsageError(`${values.file} is one tenant's JSON: say which tenant with --tenant.`);
      const entries: [string, unknown][] = isFile ? Object.entries(parseConfig(json, values.file).tenants).filter(([id]) => !values.tenant || id === values.tenant) : [[values.tenant!, json]];
      if (entries.length === 0) throw new UsageError(`${values.file} has no tenant ${values.tenant}.`);
      const lines: string[] = [];
      for (const [id, tenant] of entries) {
        const put = await registry.putTenant(id, tenant);
        lines.push(`put ${id}${put.keys.length ? `  keys: ${put.keys.join(', ')} (signs with ${put.keys.at(-1)})` : ''}`);
      }
      return lines.join('\n');
    }
    case 'remove':
      if (!values.tenant) throw new UsageError('tenants remove needs --tenant.');
      await registry.removeTenant(values.tenant);
      return `removed ${values.tenant}`;
    case 'list':
      return (await registry.listTenants()).map((t) => `${t.tenant.padEnd(34)}${t.config.signing.required ? 'signed  ' : 'open    '}${t.keys.join(', ')}`).join('\n') || '(no tenants)';
    default:
      throw new UsageError(`Unknown tenants command '${sub ?? ''}'; try 'tenants list'.`);
  }
}

/** `keys rotate|retire|list`: a tenant's signing keys, rotated with overlap. */
async function keys(cx: Context, args: string[]): Promise<string> {
  const [sub, ...rest] = args;
  const { values } = parseArgs({ args: rest, options: { tenant: { type: 'string' }, kid: { type: 'string' }, ...STORE_OPTIONS } });
  if (!values.tenant) throw new UsageError(`keys ${sub ?? ''} needs --tenant.`);
  const registry = await registryOf(cx, rest);
  switch (sub) {
    case 'rotate': {
      const kid = await registry.rotateKey(values.tenant, values.kid);
      return `${values.tenant} signs with ${kid} from now on; retire the older keys once URLs they signed have expired (keys retire --tenant ${values.tenant} --kid ...).`;
    }
    case 'retire':
      if (!values.kid) throw new UsageError('keys retire needs --kid, the key to retire.');
      await registry.retireKey(values.tenant, values.kid);
      return `${values.tenant} no longer accepts ${values.kid} (the edge follows within seconds).`;
    case 'list':
      return (await registry.listKeys(values.tenant)).join('\n') || '(no keys)';
    default:
      throw new UsageError(`Unknown keys command '${sub ?? ''}'; try 'keys list --tenant T'.`);
  }
}

const STORE_OPTIONS = { 'store-arn': { type: 'string' }, 'config-store-arn': { type: 'string' }, 'secrets-region': { type: 'string' }, 'secret-prefix': { type: 'string' } } as const;

/**
 * The registry against the running twin, or against a deployment given its tenant
 * store's ARN (and the pipeline's region, where verify-gone reads the secrets).
 */
async function registryOf(cx: Context, args: string[]): Promise<TenantRegistry> {
  const { values } = parseArgs({ args, strict: false, options: STORE_OPTIONS });
  const arn = values['store-arn'] as string | undefined;
  const prefix = (values['secret-prefix'] as string | undefined) ?? DEFAULT_SIGNING_SECRET_PREFIX;
  const configArn = values['config-store-arn'] as string | undefined;
  if (arn || configArn) {
    if (!arn || !configArn) throw new UsageError('A deployment has two tenant stores: give --store-arn (TenantStore) and --config-store-arn (TenantConfigStore).');
    const region = (values['secrets-region'] as string | undefined) ?? cx.env.AWS_REGION;
    if (!region) throw new UsageError('--secrets-region names the pipeline\'s region, where the signing-key secrets live.');
    const [keyValueStore, secrets] = [keyValueStoreClient(), secretsManagerClient({ region })];
    cx.clients.push(keyValueStore, secrets);
    return new TenantRegistry({ keyValueStore, storeArn: arn, configStoreArn: configArn, secrets: new SigningSecrets(secrets, prefix) });
  }
  const response = await fetch(cx.endpoints.control + TWIN_TENANT_STORE_PATH, { signal: AbortSignal.timeout(10_000) }).catch((error: Error) => {
    throw new Error(`The twin's control plane at ${cx.endpoints.control} did not answer (is 'npm start' running?): ${error.message}`);
  });
  const stores = (await response.json()) as { viewer: string; config: string };
  const port = new URL(cx.endpoints.control).port;
  const [keyValueStore, secrets] = [keyValueStoreClient({ endpoint: `http://localhost:${port}`, credentials }), secretsManagerClient({ endpoint: cx.endpoints.control, credentials })];
  cx.clients.push(keyValueStore, secrets);
  return new TenantRegistry({ keyValueStore, storeArn: stores.viewer, configStoreArn: stores.config, secrets: new SigningSecrets(secrets, prefix) });
}

/** The image's row in the version map, read as the tasks read it (tasks/shared/dynamodb-version-map.ts). */
async function versionRecord(cx: Context, tenant: string, imageId: string): Promise<VersionRecord | null> {
  try {
    return await new DynamoDbVersionMap(cx.documents, LOCAL_TABLES.versions).get(tenant, imageId);
  } catch (error) {
    throw new Error(`The twin's version map at ${cx.endpoints.dynamodb} did not answer (is 'npm start' running?): ${((error as Error).cause as Error | undefined)?.message ?? (error as Error).message}`);
  }
}
