import { readFile } from 'node:fs/promises';
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
import { PictorError } from '../core/errors.ts';
import { formatImagePath, isImageId, isTenantId, parseImagePath } from '../core/image-path.ts';
import { normalizeQuery } from '../core/normalize.ts';
import { uploadKey } from '../core/object-keys.ts';
import { TAKEDOWN_REASONS } from '../core/takedown.ts';
import { RerenderRequestedV1, TakedownRequestedV1 } from '../events/schemas/pictor-events.ts';
import { planRerender } from '../tasks/plan-rerender/plan-rerender.ts';
import { checkList, checkNumber, checkSeconds, checkWidths, EXIT, parseCommand, refusal, UsageError, type CommandSpec, type ParsedCommand } from './cli-args.ts';
import { publicPolicyOf, publicPolicyProblems } from '../core/public-policy.ts';
import { parseConfig, policyOf, type TenantConfig } from '../core/tenant-config.ts';
import { signWithNewestKey } from '../signer/sign-url.ts';
import { DEFAULT_SIGNING_SECRET_PREFIX } from '../core/signing-keys.ts';
import { keyValueStoreClient, secretsManagerClient } from '../tenant-store/clients.ts';
import { TenantRegistry } from '../tenant-store/registry.ts';
import { SigningSecrets } from '../tenant-store/signing-secrets.ts';
import { progressBar, type ItemCounts } from './progress.ts';
import { FAULT_MODES, type FaultMode } from './regions.ts';
import { endpointsOf, readSettings } from './settings.ts';
import { BUCKETS, LOCAL_S3_CREDENTIALS, LOCAL_TABLES, TWIN_FAULTS_PATH, TWIN_HEALTH_PATH, TWIN_TENANT_STORE_PATH } from './twin-names.ts';
import { formatHealth, type HealthReport } from './health.ts';
import { DynamoDbVersionMap } from '../tasks/shared/dynamodb-version-map.ts';
import type { VersionRecord } from '../tasks/ports/version-map.ts';
import type { UploadOutcome } from '../workflows/render-on-upload.ts';

const USAGE = `Usage: pictor <command>

By default it talks to the local twin: run that from a clone of Pictor with 'npm start'. The tenants
and keys commands reach a deployment instead with the flags at the bottom.

Commands:
  upload <file> --tenant T --id X [--wait 120]
                                         Upload an original; say what the pipeline did with it.
  url --tenant T --id X [--w 640] [--h 480] [--fit cover] [--fmt auto] [--q 75] [--sign]
                                         Print the canonical versioned URL of a published image.
  sign <url> [--ttl seconds] [--kid id]  Sign /img/{tenant}/{id}?... (or a full URL, as url prints it)
                                         with the tenant's newest key (or --kid).
  rerender [--tenant T] [--widths 320,640] [--formats webp,legacy] [--only-stale] [--tolerate 5] [--requester R]
                                         Re-render a tenant's originals (or all tenants'), as new versions.
  takedown --tenant T --id X [--id Y ...] --reason ${TAKEDOWN_REASONS.join('|')} --requester R
                                         Erase images everywhere, invalidate them, verify, and audit.
  status <execution-arn>                 Show a state machine execution.
  retry <execution-arn>                  Run a failed execution again, with its own input.
  twin health                            Each of the twin's servers (edge, AWS APIs, S3 per region,
                                         DynamoDB) and whether it answers: GET /_twin/health.
  twin fault --region R --mode 503|hang|refuse|off
                                         Game day: make one region's S3 answer 503, hang, refuse
                                         connections, or recover. Without options, show each region's.

Tenants and keys, at run time (the KeyValueStore and Secrets Manager; no deploy):
  tenants put --file F [--tenant T]      Put the tenant(s) of a tenants file ({"tenants": {...}}), or one
                                         tenant's JSON with --tenant. A tenant that requires signed URLs
                                         and lists no key gets one generated into Secrets Manager.
  tenants remove --tenant T              Remove a tenant: its policy and keys leave the edge, its secret goes.
  tenants list                           Every tenant in the store, with its active key ids.
  tenants policy --tenant T [--base-url URL]
                                         The tenant's public policy, as JSON: what pictor/client builds
                                         URLs from (docs/SDK.md). No secret is in it.
  keys rotate --tenant T [--kid ID]      Add a new key (generated); it signs from now on.
  keys retire --tenant T --kid ID        After the overlap, stop accepting an old key.
  keys list --tenant T                   Active key ids, oldest first; the last one signs.

  Against a deployment instead of the twin, add --store-arn <the edge stack's TenantStore ARN>,
  --config-store-arn <its TenantConfigStore ARN> and --secrets-region <the pipeline's region>;
  AWS credentials come from the usual chain.

Every command takes --help. Exit codes: 0 done; 1 the command ran and failed; 2 a mistake in the
command line, refused before anything started.`;


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
  /** Where a command writes what it knows before its result (the execution it started). */
  readonly stdout: CliIo['stdout'];
  readonly stderr: CliIo['stderr'];
  /** Clients a command made for itself, destroyed when the run ends. */
  readonly clients: { destroy(): void }[];
}

const region = 'us-east-1';
const credentials = LOCAL_S3_CREDENTIALS;

const STORE_OPTIONS = {
  'store-arn': { type: 'string', placeholder: 'ARN' },
  'config-store-arn': { type: 'string', placeholder: 'ARN' },
  'secrets-region': { type: 'string', placeholder: 'region' },
  'secret-prefix': { type: 'string', placeholder: 'prefix' },
} as const;
const STORE_USAGE = '[--store-arn ARN --config-store-arn ARN --secrets-region R]';
const TENANT = { type: 'string', required: true, placeholder: 'T' } as const;

/** Every command's options: read and checked before anything runs (local/cli-args.ts). */
export const COMMANDS = {
  upload: {
    usage: 'upload <file> --tenant T --id X [--wait 120]',
    positionals: { count: 1, what: 'one file' },
    options: { tenant: TENANT, id: { type: 'string', required: true, placeholder: 'X' }, wait: { type: 'string', default: '120', placeholder: 'seconds', check: checkSeconds } },
  },
  url: {
    usage: 'url --tenant T --id X [--w 640] [--h 480] [--fit cover] [--fmt auto] [--q 75] [--sign]',
    options: {
      tenant: TENANT,
      id: { type: 'string', required: true, placeholder: 'X' },
      w: { type: 'string', placeholder: 'width' },
      h: { type: 'string', placeholder: 'height' },
      fit: { type: 'string', placeholder: 'fit' },
      fmt: { type: 'string', placeholder: 'format' },
      q: { type: 'string', placeholder: 'quality' },
      sign: { type: 'boolean' },
    },
  },
  sign: {
    usage: 'sign <url> [--ttl seconds] [--kid id]',
    positionals: { count: 1, what: 'one URL or path, such as /img/demo-private/sample?w=320' },
    options: { ttl: { type: 'string', default: '3600', placeholder: 'seconds', check: checkSeconds }, kid: { type: 'string', placeholder: 'id' } },
  },
  status: { usage: 'status <execution-arn>', positionals: { count: 1, what: 'one execution ARN' }, options: {} },
  retry: { usage: 'retry <execution-arn>', positionals: { count: 1, what: 'one execution ARN' }, options: {} },
  rerender: {
    usage: 'rerender [--tenant T] [--widths 320,640] [--formats webp,legacy] [--only-stale] [--tolerate 5] [--requester R]',
    options: {
      tenant: { type: 'string', placeholder: 'T' },
      widths: { type: 'string', placeholder: 'widths', check: checkWidths },
      formats: { type: 'string', placeholder: 'formats', check: checkList },
      'only-stale': { type: 'boolean' },
      tolerate: { type: 'string', placeholder: 'a percentage', check: checkNumber },
      requester: { type: 'string', placeholder: 'R' },
    },
  },
  takedown: {
    usage: `takedown --tenant T --id X [--id Y ...] --reason ${TAKEDOWN_REASONS.join('|')} --requester R`,
    options: {
      tenant: TENANT,
      id: { type: 'string', multiple: true, required: true, placeholder: 'X' },
      reason: { type: 'string', required: true, placeholder: TAKEDOWN_REASONS.join('|') },
      requester: { type: 'string', required: true, placeholder: 'R' },
    },
  },
  'twin health': { usage: 'twin health', options: {} },
  'twin fault': { usage: `twin fault [--region R --mode ${FAULT_MODES.join('|')}]`, options: { region: { type: 'string', placeholder: 'R' }, mode: { type: 'string', placeholder: FAULT_MODES.join('|') } } },
  'tenants put': { usage: `tenants put --file F [--tenant T] ${STORE_USAGE}`, options: { file: { type: 'string', required: true, placeholder: 'F' }, tenant: { type: 'string', placeholder: 'T' }, ...STORE_OPTIONS } },
  'tenants remove': { usage: `tenants remove --tenant T ${STORE_USAGE}`, options: { tenant: TENANT, ...STORE_OPTIONS } },
  'tenants list': { usage: `tenants list ${STORE_USAGE}`, options: { ...STORE_OPTIONS } },
  'tenants policy': {
    usage: `tenants policy --tenant T [--base-url URL] ${STORE_USAGE}`,
    options: { tenant: TENANT, 'base-url': { type: 'string', placeholder: 'URL' }, ...STORE_OPTIONS },
  },
  'keys rotate': { usage: `keys rotate --tenant T [--kid ID] ${STORE_USAGE}`, options: { tenant: TENANT, kid: { type: 'string', placeholder: 'ID' }, ...STORE_OPTIONS } },
  'keys retire': { usage: `keys retire --tenant T --kid ID ${STORE_USAGE}`, options: { tenant: TENANT, kid: { type: 'string', required: true, placeholder: 'ID' }, ...STORE_OPTIONS } },
  'keys list': { usage: `keys list --tenant T ${STORE_USAGE}`, options: { tenant: TENANT, ...STORE_OPTIONS } },
} as const satisfies Record<string, CommandSpec>;

type CommandName = keyof typeof COMMANDS;
/** The commands that take a sub-command (`tenants put`): the first word of COMMANDS' two-word names. */
const COMMAND_GROUPS = new Set(Object.keys(COMMANDS).filter((name) => name.includes(' ')).map((name) => name.split(' ')[0]!));
/** A command's parsed line: its options' values as strings, switches as booleans, repeated options as lists. */
type Args = ParsedCommand<Record<string, any>>;

/**
 * Runs one `pictor` command (argv without the node and script paths) and returns its
 * exit code: 0 with the result on stdout; 1 with `pictor: <what went wrong>` on stderr
 * when the command ran and failed; 2 with one line saying what to write instead when
 * the command line was the mistake, found before anything started.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const env = io.env ?? process.env;
  const clients: { destroy(): void }[] = [];
  try {
    const endpoints = endpointsOf(readSettings(env));
    const sfn = new SFNClient({ region, endpoint: endpoints.control, credentials });
    const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ region, endpoint: endpoints.dynamodb, credentials }));
    clients.push(sfn, documents);
    const output = await main({ endpoints, sfn, documents, env, clock: io.clock ?? REAL_CLOCK, stdout: io.stdout, stderr: io.stderr, clients }, [...argv]);
    io.stdout.write(`${output}\n`);
    return EXIT.ok;
  } catch (error) {
    io.stderr.write(error instanceof MissingCommand ? `${error.message}\n` : `pictor: ${(error as Error).message}\n`);
    return error instanceof UsageError ? EXIT.usage : EXIT.failed;
  } finally {
    for (const client of clients) client.destroy();
  }
}

/** No command, or a group without its sub-command: a mistake whose answer is the usage itself, printed as it is. */
export class MissingCommand extends UsageError {}

/**
 * The command `argv` names, and its line as parsed by its spec.
 * @throws {UsageError} a MissingCommand, carrying the usage, when no command (or sub-command) is named
 */
export function readCommand(argv: readonly string[]): { name: CommandName; args: Args } | { help: string } {
  const [command, sub, ...rest] = argv;
  if (command === undefined) throw new MissingCommand(USAGE);
  if (command === '-h' || command === '--help' || command === 'help') return { help: USAGE };
  const grouped = COMMAND_GROUPS.has(command);
  const name = grouped ? `${command} ${sub ?? ''}` : command;
  if (!Object.hasOwn(COMMANDS, name)) {
    if (grouped) {
      const subs = Object.keys(COMMANDS).filter((c) => c.startsWith(`${command} `)).map((c) => c.split(' ')[1]);
      const usage = Object.entries(COMMANDS).filter(([c]) => c.startsWith(`${command} `)).map(([, spec]) => `usage: pictor ${spec.usage}`).join('\n');
      if (sub === undefined) throw new MissingCommand(usage);
      if (sub === '-h' || sub === '--help') return { help: usage };
      throw new UsageError(`Unknown ${command} command '${sub}'; it is one of ${subs.join(', ')} (pictor ${command} --help).`);
    }
    throw new UsageError(`Unknown command '${command}'; the commands are ${[...new Set(Object.keys(COMMANDS).map((c) => c.split(' ')[0]))].join(', ')} (pictor --help).`);
  }
  const spec: CommandSpec = COMMANDS[name as CommandName];
  const args = parseCommand(name, spec, grouped ? rest : [sub, ...rest].filter((a) => a !== undefined));
  if (args.help) return { help: `usage: pictor ${spec.usage}` };
  return { name: name as CommandName, args };
}

async function main(cx: Context, argv: string[]): Promise<string> {
  const command = readCommand(argv);
  if ('help' in command) return command.help;
  const { name, args } = command;
  switch (name) {
    case 'upload':
      return upload(cx, args);
    case 'url':
      return url(cx, args);
    case 'sign':
      return sign(cx, args);
    case 'status':
      return status(cx, args.positionals[0]!);
    case 'retry':
      return retry(cx, args.positionals[0]!);
    case 'rerender':
      return rerender(cx, args);
    case 'takedown':
      return takedown(cx, args);
    case 'twin fault':
      return twinFault(cx, args);
    case 'twin health':
      return twinHealth(cx);
    case 'tenants put':
    case 'tenants remove':
    case 'tenants list':
    case 'tenants policy':
      return tenants(cx, name, args);
    case 'keys rotate':
    case 'keys retire':
    case 'keys list':
      return keys(cx, name, args);
  }
}

async function upload(cx: Context, { values, positionals }: Args): Promise<string> {
  const file = positionals[0]!;
  const image = imageOf(values);
  const body = await readInput(file);
  const tenant = await tenantOf(cx, image.tenant);
  // Through the primary region's endpoint, as a tenant's upload reaches S3: a fault there fails it.
  const s3 = new S3Client({ region, endpoint: cx.endpoints.regions[BUCKETS.originals.region], forcePathStyle: true, credentials, requestChecksumCalculation: 'WHEN_REQUIRED', maxAttempts: 1 });
  cx.clients.push(s3);
  const key = uploadKey(image);
  const sent = new Date(cx.clock.now());
  const put = await s3.send(new PutObjectCommand({ Bucket: BUCKETS.originals.bucket, Key: key, Body: body })).catch((error: Error) => {
    throw new Error(`S3 in ${BUCKETS.originals.region} did not take the upload, so nothing was stored; upload it again once the region answers (is 'npm start' running? is a fault injected, see 'pictor twin fault'?): ${error.name}: ${error.message}`);
  });
  // The execution as soon as it exists, so that `pictor status` can follow it while this waits.
  const started = (executionArn: string) => cx.stdout.write(`Uploaded ${file} as ${key}.\n  execution: ${executionArn}\n`);
  const execution = await uploadExecution(cx, { key, etag: (put.ETag ?? '').replace(/"/g, ''), versionId: put.VersionId, sent }, cx.clock.now() + Number(values.wait) * 1000, started);
  const arn = `  execution: ${execution.executionArn}`;
  if (execution.status !== 'SUCCEEDED') {
    throw new Error(`The upload failed (${execution.error}): ${execution.cause}\n${arn}\n  Once the cause is fixed, 'pictor retry ${execution.executionArn}' runs it again.`);
  }
  // What the execution says it did, in its own output (workflows/render-on-upload.ts).
  const output = JSON.parse(execution.output ?? '{}') as { outcome: UploadOutcome; version?: number; code?: string; reason?: string; quarantineKey?: string | null };
  switch (output.outcome) {
    case 'published':
      return `Published as version ${output.version}.\n${canonicalUrl(cx, image, output.version!, tenant, new URLSearchParams('w=640'))}`;
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
async function uploadExecution(
  cx: Context,
  upload: { key: string; etag: string; versionId?: string; sent: Date },
  deadline: number,
  onStarted: (executionArn: string) => void,
): Promise<DescribeExecutionCommandOutput> {
  const renderOnUpload = await stateMachine(cx, 'RenderOnUpload');
  let running: string | undefined;
  const seen = (arn: string) => {
    if (running === arn) return;
    running = arn;
    onStarted(arn);
  };
  for (;;) {
    const { executions = [] } = await cx.sfn.send(new ListExecutionsCommand({ stateMachineArn: renderOnUpload }));
    // Oldest first: a duplicate delivery of the event starts a later one.
    for (const summary of executions.filter((e) => e.startDate && e.startDate >= upload.sent).reverse()) {
      const execution = await cx.sfn.send(new DescribeExecutionCommand({ executionArn: summary.executionArn }));
      const object = JSON.parse(execution.input ?? '{}')?.detail?.object;
      if (object?.key !== upload.key || object?.etag?.replace(/"/g, '') !== upload.etag) continue;
      if (upload.versionId && object['version-id'] !== upload.versionId) continue;
      seen(execution.executionArn!);
      if (execution.status !== 'RUNNING') return execution;
      break;
    }
    if (cx.clock.now() > deadline) {
      throw new Error(`Uploaded ${upload.key}, but ${running ? `its RenderOnUpload run is still going: 'pictor status ${running}'` : 'no RenderOnUpload run started for it'} (see --wait).`);
    }
    await cx.clock.sleep(250);
  }
}

/** Runs a failed execution again with its own input, as re-sending its event would. */
async function retry(cx: Context, arn: string): Promise<string> {
  checkExecutionArn(arn);
  const failed = await cx.sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
  if (failed.status === 'RUNNING' || failed.status === 'SUCCEEDED') throw new Error(`${failed.name} is ${failed.status}; only a failed execution needs running again.`);
  const name = `retry-${randomUUID()}`;
  const { executionArn } = await cx.sfn.send(new StartExecutionCommand({ stateMachineArn: failed.stateMachineArn, name, input: failed.input }));
  for (;;) {
    const execution = await cx.sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (execution.status !== 'RUNNING') return status(cx, execution.executionArn!);
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

async function url(cx: Context, { values }: Args): Promise<string> {
  const image = imageOf(values);
  const tenant = await tenantOf(cx, image.tenant);
  const record = await versionRecord(cx, image.tenant, image.imageId);
  if (!record?.version) throw new Error(`${image.tenant}/${image.imageId} has no published version yet.`);
  const query = new URLSearchParams();
  for (const name of ['w', 'h', 'fit', 'fmt', 'q'] as const) if (values[name] !== undefined) query.set(name, values[name]!);
  return canonicalUrl(cx, image, Number(record.version), tenant, query, values.sign === true);
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

async function sign(cx: Context, { values, positionals }: Args): Promise<string> {
  const target = positionals[0]!;
  // A full URL, as `url` prints it, keeps its origin; a path gets the twin's edge.
  const origin = /^https?:\/\/[^/?#]+/i.exec(target)?.[0];
  const pathAndQuery = origin ? target.slice(origin.length) : target;
  const path = parseImagePath(pathAndQuery.split('?')[0]!);
  if (!path.ok) {
    throw new UsageError(path.code === 'NotFound' ? `'${target}' names no image: give its path, /img/{tenant}/{id}?w=320, or its full URL.` : `'${target}': ${path.message}`);
  }
  const tenant = await tenantOf(cx, path.path.tenant);
  return (origin ?? cx.endpoints.edge) + signWithNewestKey(pathAndQuery, path.path.tenant, tenant, new Date(cx.clock.now() + Number(values.ttl) * 1000), values.kid);
}

/**
 * An execution ARN's shape, arn:{partition}:states:{region}:{account}:execution:{machine}:{name}:
 * anything else is a mistake in the command line, not a question for the twin.
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeExecution.html
 */
function checkExecutionArn(arn: string): void {
  if (!/^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[^:]+:[^:]+$/.test(arn)) {
    throw new UsageError(`'${arn}' is not an execution ARN; give the one 'pictor upload', 'rerender' or 'takedown' printed (arn:aws:states:REGION:ACCOUNT:execution:MACHINE:NAME).`);
  }
}

async function status(cx: Context, arn: string): Promise<string> {
  checkExecutionArn(arn);
  const e = await cx.sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
  const lines = [`${e.status}  ${e.name}`, `  started  ${e.startDate?.toISOString()}`];
  if (e.stopDate) lines.push(`  stopped  ${e.stopDate.toISOString()}`);
  if (e.error) lines.push(`  error    ${e.error}: ${e.cause}`);
  if (e.output) lines.push(`  output   ${e.output}`);
  return lines.join('\n');
}

async function rerender(cx: Context, { values }: Args): Promise<string> {
  const detail = {
    schemaVersion: 1,
    requester: values.requester ?? cx.env.USER ?? 'pictor-cli',
    ...(values.tenant !== undefined ? { tenant: values.tenant } : {}),
    ...(values.widths || values.formats
      ? { variants: { ...(values.widths ? { widths: values.widths.split(',').map(Number) } : {}), ...(values.formats ? { formats: values.formats.split(',') } : {}) } }
      : {}),
    ...(values['only-stale'] ? { onlyStale: true } : {}),
    ...(values.tolerate !== undefined ? { toleratedFailurePercentage: Number(values.tolerate) } : {}),
  };
  // Refused here as the state machine's first task would refuse it, by the same schema and plan,
  // so that a mistake starts nothing: the event's schema, then the plan against the tenants' configuration.
  const parsed = RerenderRequestedV1.safeParse(detail);
  if (!parsed.success) {
    throw refusal(parsed.error.issues, { 'variants.widths': '--widths', 'variants.formats': '--formats', toleratedFailurePercentage: '--tolerate', tenant: '--tenant', requester: '--requester' }, (option) => values[option.slice(2)], '"Rerender Requested"');
  }
  const jobId = jobName(cx, 'rerender');
  const tenants = Object.fromEntries((await (await registryOf(cx, {})).listTenants()).map((t) => [t.tenant, t.config]));
  try {
    planRerender({ jobId, detail }, { tenants });
  } catch (error) {
    if (error instanceof PictorError && error.code === 'InvalidEvent') throw new UsageError(`${error.message} Nothing was started.`);
    throw error;
  }
  const first = await runToEnd(cx, { machine: 'CatalogueRerender', name: jobId, what: 're-render', noun: 'originals' }, { jobId, detail });
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

async function takedown(cx: Context, { values }: Args): Promise<string> {
  const items = (values.id as string[]).map((imageId) => ({ tenant: values.tenant, imageId, reason: values.reason, requester: values.requester }));
  const detail = { schemaVersion: 1, items };
  // The schema TakedownBatch's accept-takedown validates with (events/schemas), before anything starts.
  const parsed = TakedownRequestedV1.safeParse(detail);
  if (!parsed.success) {
    const given = (option: string) => (option === '--id' ? (values.id as string[]).find((id) => !isImageId(id)) : values[option.slice(2)]);
    throw refusal(parsed.error.issues, { 'items.tenant': '--tenant', 'items.imageId': '--id', 'items.reason': '--reason', 'items.requester': '--requester', items: '--id' }, given, '"Takedown Requested"');
  }
  await tenantOf(cx, values.tenant);
  const batchId = jobName(cx, 'takedown');
  const { executionArn, output: summary } = await runToEnd(cx, { machine: 'TakedownBatch', name: batchId, what: 'takedown', noun: 'images' }, { batchId, detail });
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

/** A fresh job name, which is also the job's id in its input: the prefix, the time, and a random part. */
function jobName(cx: Context, prefix: string): string {
  return `${prefix}-${new Date(cx.clock.now()).toISOString().replace(/[-:.TZ]/g, '').slice(0, 14)}-${randomUUID().slice(0, 8)}`;
}

/** Starts a job under its name, follows it to its end, and returns its output; a job that did not succeed is an error. */
async function runToEnd(cx: Context, job: { machine: string; name: string; what: string; noun: string }, input: unknown): Promise<{ executionArn: string; output: any }> {
  const execution = await follow(cx, job.machine, job.name, input, job.noun);
  if (execution.status !== 'SUCCEEDED') throw new Error(`The ${job.what} ${execution.status?.toLowerCase()} (${execution.error}): ${execution.cause}\n  execution: ${execution.executionArn}`);
  return { executionArn: execution.executionArn!, output: JSON.parse(execution.output!) };
}

/**
 * Starts an execution and draws its progress on stderr until it ends: the items of
 * its Distributed Map runs, as DescribeMapRun counts them while they run (an item is
 * counted as it finishes, not when the run ends).
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_MapRunItemCounts.html
 */
async function follow(cx: Context, machine: string, name: string, input: unknown, noun: string): Promise<DescribeExecutionCommandOutput> {
  const { executionArn } = await cx.sfn.send(new StartExecutionCommand({ stateMachineArn: await stateMachine(cx, machine), name, input: JSON.stringify(input) }));
  // At once, so that `pictor status` can follow it from another terminal.
  cx.stderr.write(`execution: ${executionArn}\n`);
  const bar = progressBar(cx.stderr, noun);
  for (;;) {
    const execution = await cx.sfn.send(new DescribeExecutionCommand({ executionArn }));
    const { mapRuns = [] } = await cx.sfn.send(new ListMapRunsCommand({ executionArn }));
    const counts: ItemCounts = { done: 0, running: 0, total: 0 };
    for (const run of mapRuns) {
      const { itemCounts } = await cx.sfn.send(new DescribeMapRunCommand({ mapRunArn: run.mapRunArn }));
      counts.done += (itemCounts?.succeeded ?? 0) + (itemCounts?.failed ?? 0) + (itemCounts?.timedOut ?? 0) + (itemCounts?.aborted ?? 0);
      counts.running += itemCounts?.running ?? 0;
      counts.total += itemCounts?.total ?? 0;
    }
    bar.draw(counts);
    if (execution.status !== 'RUNNING') {
      bar.end();
      return execution;
    }
    await cx.clock.sleep(200);
  }
}

/** `twin health`: each of the running twin's servers, and whether it answers. */
async function twinHealth(cx: Context): Promise<string> {
  const response = await fetch(cx.endpoints.control + TWIN_HEALTH_PATH, { signal: AbortSignal.timeout(10_000) }).catch((error: Error) => {
    throw new Error(`The twin's control plane at ${cx.endpoints.control} did not answer (is 'npm start' running? PICTOR_CONTROL_PORT says where): ${error.message}`);
  });
  const report = (await response.json()) as HealthReport;
  if (report.status === 'down') throw new Error(formatHealth(report));
  return formatHealth(report);
}

/** `twin fault`: puts a region of the running twin into a fault, or shows each region's. */
async function twinFault(cx: Context, { values }: Args): Promise<string> {
  if ((values.region === undefined) !== (values.mode === undefined)) throw new UsageError('twin fault takes --region and --mode together, or neither.');
  if (values.mode !== undefined && !(FAULT_MODES as readonly string[]).includes(values.mode)) throw new UsageError(`--mode is one of ${FAULT_MODES.join(', ')}, not '${values.mode}'.`);
  // The twin's regions are its own to name: it answers a wrong one with the list (a usage mistake, exit 2).
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

/** The image the options name, its ids checked by core's rules (the ones the object keys and events use). */
function imageOf(values: { tenant?: string; id?: string }): { tenant: string; imageId: string } {
  if (!values.tenant || !isTenantId(values.tenant)) throw new UsageError(`--tenant must be a tenant id (3 to 32 of a-z 0-9 -), not '${values.tenant ?? ''}'.`);
  if (!values.id || !isImageId(values.id)) throw new UsageError(`--id must be an image id (1 to 128 of A-Z a-z 0-9 _ -), not '${values.id ?? ''}'.`);
  return { tenant: values.tenant, imageId: values.id };
}

/**
 * A tenant as the running twin's store has it, with its signing keys from Secrets Manager.
 * A tenant the store does not have is a mistake in the command line (exit 2).
 */
async function tenantOf(cx: Context, name: string): Promise<TenantConfig> {
  if (!isTenantId(name)) throw new UsageError(`--tenant must be a tenant id (3 to 32 of a-z 0-9 -), not '${name}'.`);
  const registry = await registryOf(cx, {});
  return registry.tenantWithKeys(name).catch((error: unknown) => {
    // The registry's InvalidConfig here is its "No tenant 'x' in the tenant store".
    if (error instanceof PictorError && error.code === 'InvalidConfig') throw new UsageError(error.message);
    throw error;
  });
}

/** `tenants put|remove|list`: the tenant registry (tenant-store/registry.ts). */
async function tenants(cx: Context, command: 'tenants put' | 'tenants remove' | 'tenants list' | 'tenants policy', { values }: Args): Promise<string> {
  // The file first: a file that is not there is a mistake in the command line, found before the store is asked.
  const input = command === 'tenants put' ? await readInput(values.file) : undefined;
  const registry = await registryOf(cx, values);
  switch (command) {
    case 'tenants put': {
      let json: any;
      try {
        json = JSON.parse(String(input));
      } catch (error) {
        throw new UsageError(`${values.file} is not JSON: ${(error as Error).message}`);
      }
      const isFile = json && typeof json === 'object' && 'tenants' in json;
      if (!isFile && !values.tenant) throw new UsageError(`${values.file} is one tenant's JSON: say which tenant with --tenant.`);
      // Validated whole before any tenant is put, as one tenant's JSON sits in a tenants file.
      const config = parseTenantsFile(isFile ? json : { tenants: { [values.tenant]: json } }, values.file);
      const entries = Object.entries(config.tenants).filter(([id]) => !values.tenant || id === values.tenant);
      if (entries.length === 0) throw new UsageError(`${values.file} has no tenant ${values.tenant}.`);
      const lines: string[] = [];
      for (const [id, tenant] of entries) {
        const put = await registry.putTenant(id, tenant);
        lines.push(`put ${id}${put.keys.length ? `  keys: ${put.keys.join(', ')} (signs with ${put.keys.at(-1)})` : ''}`);
      }
      return lines.join('\n');
    }
    case 'tenants remove':
      await registry.removeTenant(values.tenant);
      return `removed ${values.tenant}`;
    case 'tenants list':
      return (await registry.listTenants()).map((t) => `${t.tenant.padEnd(34)}${t.config.signing.required ? 'signed  ' : 'open    '}${t.keys.join(', ')}`).join('\n') || '(no tenants)';
    case 'tenants policy': {
      // What a front end may know of the tenant, as the store holds it now: the JSON pictor/client reads.
      const found = (await registry.listTenants()).find((t) => t.tenant === values.tenant);
      if (!found) throw new UsageError(`No tenant '${values.tenant}' in the tenant store (pictor tenants list).`);
      const deployed = values['store-arn'] !== undefined;
      const policy = publicPolicyOf(values.tenant, policyOf(found.config), values['base-url'] ?? (deployed ? undefined : cx.endpoints.edge));
      const problems = publicPolicyProblems(policy);
      if (problems.length > 0) throw new UsageError(`--base-url: ${problems.map((p) => p.replace(/\.$/, '')).join('; ')}.`);
      return JSON.stringify(policy, null, 2);
    }
  }
}

/** A file the command line names; one it cannot read is a mistake in the command line (exit 2), as a wrong option is. */
async function readInput(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    throw new UsageError(`Cannot read ${file}: ${(error as Error).message}`);
  }
}

/** A tenants file as core validates it; its problems, each at its place, on one line. */
function parseTenantsFile(json: unknown, file: string): ReturnType<typeof parseConfig> {
  try {
    return parseConfig(json, file);
  } catch (error) {
    const problems = error instanceof PictorError ? (error.context.problems as string[] | undefined) : undefined;
    if (!problems) throw error;
    throw new UsageError(`${file} is wrong: ${problems.join('; ')}.`);
  }
}

/** `keys rotate|retire|list`: a tenant's signing keys, rotated with overlap. */
async function keys(cx: Context, command: 'keys rotate' | 'keys retire' | 'keys list', { values }: Args): Promise<string> {
  const registry = await registryOf(cx, values);
  switch (command) {
    case 'keys rotate': {
      const kid = await registry.rotateKey(values.tenant, values.kid);
      return `${values.tenant} signs with ${kid} from now on; retire the older keys once URLs they signed have expired (keys retire --tenant ${values.tenant} --kid ...).`;
    }
    case 'keys retire':
      await registry.retireKey(values.tenant, values.kid);
      return `${values.tenant} no longer accepts ${values.kid} (the edge follows within seconds).`;
    case 'keys list':
      return (await registry.listKeys(values.tenant)).join('\n') || '(no keys)';
  }
}

/**
 * The registry against the running twin, or against a deployment given its tenant
 * store's ARN (and the pipeline's region, where verify-gone reads the secrets).
 */
async function registryOf(cx: Context, values: Record<string, any>): Promise<TenantRegistry> {
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
