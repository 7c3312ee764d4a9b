import { readFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { ImageStatus, JobAccepted, JobStatus, TenantSummaryBody } from '../control-api/contract.ts';
import { PictorError } from '../core/errors.ts';
import { formatImagePath, isImageId, isTenantId, parseImagePath } from '../core/image-path.ts';
import { normalizeQuery } from '../core/normalize.ts';
import { publicPolicyProblems } from '../core/public-policy.ts';
import { TAKEDOWN_REASONS } from '../core/takedown.ts';
import { parseConfig, UPLOAD_CONTENT_TYPES } from '../core/tenant-config.ts';
import { RerenderRequestedV1, TakedownRequestedV1 } from '../events/schemas/pictor-events.ts';
import { ApiAccessError, ApiClient, ApiError, resolveApiAccess, type ApiTarget } from './api-client.ts';
import { checkList, checkNumber, checkSeconds, checkWidths, EXIT, parseCommand, refusal, UsageError, type CommandSpec, type ParsedCommand } from './cli-args.ts';
import { formatHealth, type HealthReport } from './health.ts';
import { progressBar } from './progress.ts';
import { FAULT_MODES, type FaultMode } from './regions.ts';
import { endpointsOf, readSettings } from './settings.ts';
import { LOCAL_S3_CREDENTIALS, TWIN_FAULTS_PATH, TWIN_HEALTH_PATH } from './twin-names.ts';

const API_HELP = `Through the control-plane API: the local twin's (no configuration), or a deployment's with
--api URL (its ControlApiUrl output, or PICTOR_API_URL) and credentials from the usual AWS sources
(AWS_PROFILE, the environment, SSO, a role). On a custom domain it signs for the region the
API's /v1/health names (--region R signs for R instead); --role-arn ARN assumes a role first
(a tenant's, say).`;

const USAGE = `Usage: pictor <command>

${API_HELP}

Commands:
  upload <file> --tenant T --id X [--type image/jpeg] [--wait 120]
                                         Upload an original (a presigned POST); say what the pipeline
                                         did with it, and print its canonical URL.
  url --tenant T --id X [--w 640] [--h 480] [--fit cover] [--fmt auto] [--q 75] [--sign]
                                         Print the canonical versioned URL of a published image.
  sign <url> [--ttl seconds]             Sign /img/{tenant}/{id}?... (or a full URL, as url prints it)
                                         with the tenant's newest key.
  status --tenant T --id X | status <job-id> [--tenant T]
                                         An image's versions, URLs and last execution; or a takedown's or
                                         re-render's progress (an admin's without --tenant).
  rerender [--tenant T] [--widths 320,640] [--formats webp,legacy] [--only-stale] [--tolerate 5]
                                         Re-render a tenant's originals (or all tenants'), as new versions,
                                         with progress. You are the requester.
  takedown --tenant T --id X [--id Y ...] --reason ${TAKEDOWN_REASONS.join('|')}
                                         Erase images everywhere, invalidate them, verify, and audit, with
                                         you as the requester.

Tenants and keys, at run time (no deploy; an admin's credentials):
  tenants put --file F [--tenant T]      Put the tenant(s) of a tenants file ({"tenants": {...}}), or one
                                         tenant's JSON with --tenant. A tenant that requires signed URLs
                                         and lists no key gets one generated.
  tenants remove --tenant T              Remove a tenant: its policy and keys leave the edge.
  tenants list                           Every tenant, with its active key ids.
  tenants policy --tenant T [--base-url URL]
                                         The tenant's public policy, as JSON: what pictor/client builds
                                         URLs from (docs/SDK.md). No secret is in it.
  keys rotate --tenant T [--kid ID]      Add a new key (generated); it signs from now on.
  keys retire --tenant T --kid ID        After the overlap, stop accepting an old key.
  keys list --tenant T                   Active key ids, oldest first; the last one signs.

The local twin only ('npm start' from a clone of Pictor):
  status <execution-arn>                 Show a state machine execution.
  retry <execution-arn>                  Run a failed execution again, with its own input.
  twin health                            Each of the twin's servers (edge, AWS APIs, S3 per region,
                                         DynamoDB) and whether it answers: GET /_twin/health.
  twin fault --region R --mode 503|hang|refuse|off
                                         Game day: make one region's S3 answer 503, hang, refuse
                                         connections, or recover. Without options, show each region's.

Every command takes --help. Exit codes: 0 done; 1 the command ran and failed; 2 a mistake in the
command line, refused before anything started (the API's 4xx for what the line named included).`;

/** The CLI's time: when it is, and how it waits between polls of the API. */
export interface CliClock {
  /** Milliseconds since the epoch, as cx.clock.now(). */
  now(): number;
  /** Resolves after `ms`; the CLI polls an image's or a job's status at this pace. */
  sleep(ms: number): Promise<void>;
}

/** Where a run of the CLI writes, what it reads its settings from, and its clock. */
export interface CliIo {
  /** The command's result. */
  readonly stdout: { write(text: string): unknown };
  /** Errors, usage and progress; a progress bar is drawn in place when `isTTY`. */
  readonly stderr: { write(text: string): unknown; readonly isTTY?: boolean };
  /** The twin's ports (local/settings.ts), PICTOR_API_URL, AWS credentials and region, USER. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** @default the real clock */
  readonly clock?: CliClock;
}

const REAL_CLOCK: CliClock = { now: () => Date.now(), sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) };

/** What every command reads: the API, the twin's endpoints, and the run's io. */
interface Context {
  readonly endpoints: ReturnType<typeof endpointsOf>;
  readonly env: NodeJS.ProcessEnv;
  readonly clock: CliClock;
  /** Where a command writes what it knows before its result (the job it started). */
  readonly stdout: CliIo['stdout'];
  readonly stderr: CliIo['stderr'];
  /** Clients a command made for itself, destroyed when the run ends. */
  readonly clients: { destroy(): void }[];
  /** The control-plane API, as the command line's --api, --region and --role-arn say; made on first use. */
  api(): Promise<ApiClient>;
}

/** The options every command of the API takes: where it is, and whom to act as. */
const API_OPTIONS = {
  api: { type: 'string', placeholder: 'URL' },
  region: { type: 'string', placeholder: 'region' },
  'role-arn': { type: 'string', placeholder: 'ARN' },
} as const;
const TENANT = { type: 'string', required: true, placeholder: 'T' } as const;
/** The options of the deployment's stores the tenants and keys commands once took: the API holds them now. */
const STORE_OPTIONS_REMOVED = Object.fromEntries(
  ['store-arn', 'config-store-arn', 'secrets-region', 'secret-prefix'].map((name) => [name, "the API reaches the deployment's tenant stores: give --api URL (the stack's ControlApiUrl output) instead."]),
);
const REQUESTER_REMOVED = { requester: 'the API names the caller as the requester (the credentials the request is signed with; --role-arn to act as a role).' };

/** Every command's options: read and checked before anything runs (local/cli-args.ts). */
export const COMMANDS = {
  upload: {
    usage: 'upload <file> --tenant T --id X [--type image/jpeg] [--wait 120]',
    positionals: { count: 1, what: 'one file' },
    options: {
      tenant: TENANT,
      id: { type: 'string', required: true, placeholder: 'X' },
      type: { type: 'string', placeholder: UPLOAD_CONTENT_TYPES.join('|') },
      wait: { type: 'string', default: '120', placeholder: 'seconds', check: checkSeconds },
      ...API_OPTIONS,
    },
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
      ...API_OPTIONS,
    },
  },
  sign: {
    usage: 'sign <url> [--ttl seconds]',
    positionals: { count: 1, what: 'one URL or path, such as /img/demo-private/sample?w=320' },
    options: { ttl: { type: 'string', default: '3600', placeholder: 'seconds', check: checkSeconds }, ...API_OPTIONS },
    removed: { kid: "the API signs with the tenant's newest key; rotate keys with 'pictor keys rotate'." },
  },
  status: {
    usage: 'status --tenant T --id X | status <job-id> [--tenant T]',
    positionals: { count: 1, what: 'one job id (or, on the twin, an execution ARN)', optional: true },
    options: { tenant: { type: 'string', placeholder: 'T' }, id: { type: 'string', placeholder: 'X' }, ...API_OPTIONS },
  },
  retry: { usage: 'retry <execution-arn>', positionals: { count: 1, what: 'one execution ARN' }, options: {} },
  rerender: {
    usage: 'rerender [--tenant T] [--widths 320,640] [--formats webp,legacy] [--only-stale] [--tolerate 5]',
    options: {
      tenant: { type: 'string', placeholder: 'T' },
      widths: { type: 'string', placeholder: 'widths', check: checkWidths },
      formats: { type: 'string', placeholder: 'formats', check: checkList },
      'only-stale': { type: 'boolean' },
      tolerate: { type: 'string', placeholder: 'a percentage', check: checkNumber },
      ...API_OPTIONS,
    },
    removed: REQUESTER_REMOVED,
  },
  takedown: {
    usage: `takedown --tenant T --id X [--id Y ...] --reason ${TAKEDOWN_REASONS.join('|')}`,
    options: {
      tenant: TENANT,
      id: { type: 'string', multiple: true, required: true, placeholder: 'X' },
      reason: { type: 'string', required: true, placeholder: TAKEDOWN_REASONS.join('|') },
      ...API_OPTIONS,
    },
    removed: REQUESTER_REMOVED,
  },
  'twin health': { usage: 'twin health', options: {} },
  'twin fault': { usage: `twin fault [--region R --mode ${FAULT_MODES.join('|')}]`, options: { region: { type: 'string', placeholder: 'R' }, mode: { type: 'string', placeholder: FAULT_MODES.join('|') } } },
  'tenants put': { usage: 'tenants put --file F [--tenant T]', options: { file: { type: 'string', required: true, placeholder: 'F' }, tenant: { type: 'string', placeholder: 'T' }, ...API_OPTIONS }, removed: STORE_OPTIONS_REMOVED },
  'tenants remove': { usage: 'tenants remove --tenant T', options: { tenant: TENANT, ...API_OPTIONS }, removed: STORE_OPTIONS_REMOVED },
  'tenants list': { usage: 'tenants list', options: { ...API_OPTIONS }, removed: STORE_OPTIONS_REMOVED },
  'tenants policy': { usage: 'tenants policy --tenant T [--base-url URL]', options: { tenant: TENANT, 'base-url': { type: 'string', placeholder: 'URL' }, ...API_OPTIONS }, removed: STORE_OPTIONS_REMOVED },
  'keys rotate': { usage: 'keys rotate --tenant T [--kid ID]', options: { tenant: TENANT, kid: { type: 'string', placeholder: 'ID' }, ...API_OPTIONS }, removed: STORE_OPTIONS_REMOVED },
  'keys retire': { usage: 'keys retire --tenant T --kid ID', options: { tenant: TENANT, kid: { type: 'string', required: true, placeholder: 'ID' }, ...API_OPTIONS }, removed: STORE_OPTIONS_REMOVED },
  'keys list': { usage: 'keys list --tenant T', options: { tenant: TENANT, ...API_OPTIONS }, removed: STORE_OPTIONS_REMOVED },
} as const satisfies Record<string, CommandSpec>;

type CommandName = keyof typeof COMMANDS;
/** The commands that talk to the twin itself, not through the API. */
const TWIN_ONLY: ReadonlySet<CommandName> = new Set(['retry', 'twin health', 'twin fault']);
/** The commands that take a sub-command (`tenants put`): the first word of COMMANDS' two-word names. */
const COMMAND_GROUPS = new Set(Object.keys(COMMANDS).filter((name) => name.includes(' ')).map((name) => name.split(' ')[0]!));
/** A command's parsed line: its options' values as strings, switches as booleans, repeated options as lists. */
type Args = ParsedCommand<Record<string, any>>;

/** A command's own help: its synopsis, and for a command of the API, the options that say where it is. */
function helpOf(name: CommandName): string {
  const usage = `usage: pictor ${COMMANDS[name].usage}`;
  return TWIN_ONLY.has(name) ? usage : `${usage}\n  [--api URL] [--region R] [--role-arn ARN]: ${API_HELP.replace(/\s*\n\s*/g, ' ')}`;
}

/**
 * Runs one `pictor` command (argv without the node and script paths) and returns its
 * exit code: 0 with the result on stdout; 1 with `pictor: <what went wrong>` on stderr
 * when the command ran and failed; 2 with one line saying what to write instead when
 * the command line was the mistake, found before anything started (or refused by the
 * API as the caller's mistake: an unknown tenant, a value it does not take).
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const env = io.env ?? process.env;
  const clients: { destroy(): void }[] = [];
  let target: ApiTarget | undefined;
  try {
    const endpoints = endpointsOf(readSettings(env));
    const command = readCommand([...argv]);
    if ('help' in command) {
      io.stdout.write(`${command.help}\n`);
      return EXIT.ok;
    }
    const { values } = command.args;
    let api: Promise<ApiClient> | undefined;
    const cx: Context = {
      endpoints,
      env,
      clock: io.clock ?? REAL_CLOCK,
      stdout: io.stdout,
      stderr: io.stderr,
      clients,
      api: () =>
        (api ??= resolveApiAccess({ api: values.api, region: values.region, roleArn: values['role-arn'], twinEndpoints: endpoints, env, clients }).then((resolved) => {
          target = resolved;
          return new ApiClient(resolved);
        })),
    };
    const output = await run(cx, command.name, command.args);
    io.stdout.write(`${output}\n`);
    return EXIT.ok;
  } catch (error) {
    const explained = error instanceof ApiError ? await explainApiError(error, target, FIELD_OPTIONS[argv[0] as string] ?? {}) : error;
    io.stderr.write(explained instanceof MissingCommand ? `${explained.message}\n` : `pictor: ${(explained as Error).message}\n`);
    return explained instanceof UsageError || explained instanceof ApiAccessError ? EXIT.usage : EXIT.failed;
  } finally {
    for (const client of clients) client.destroy();
  }
}

/**
 * The API's codes that mean the command line named something wrong (exit 2): a value
 * it does not take, a file it does not take, a tenant, image or job that is not there.
 * The others (AccessDenied, Conflict, OriginUnavailable, InternalError) are failures.
 * docs/ERROR-CODES.md
 */
const MISTAKES: ReadonlySet<string> = new Set(['InvalidRequest', 'UploadTooLarge', 'UnsupportedContentType', 'NotFound']);

/** The fields of the API's requests each command sets, by the option (or input) that sets them: its 4xx messages name the field first. */
const FIELD_OPTIONS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  upload: { contentType: '--type', contentLength: "the file's size", imageId: '--id' },
  sign: { ttlSeconds: '--ttl', url: 'the URL' },
  url: { url: 'the URL' },
  rerender: { 'variants.widths': '--widths', 'variants.formats': '--formats', toleratedFailurePercentage: '--tolerate', onlyStale: '--only-stale' },
  takedown: { imageIds: '--id', reason: '--reason' },
  keys: { kid: '--kid' },
};

/** An answer of the API other than a 2xx, as one line: API Gateway's refusal names the caller; a field the API names, the option that set it. */
async function explainApiError(error: ApiError, target: ApiTarget | undefined, fields: Readonly<Record<string, string>>): Promise<Error> {
  if (error.forbidden) {
    const caller = target ? await target.caller() : 'the caller';
    return new Error(
      `${caller} may not call ${error.request}: API Gateway refused it (403 ${error.message}); a tenant's role may call its own tenant's routes only, and the tenants and keys routes take an admin.`,
    );
  }
  if (error.status >= 500) return new Error(`The API could not serve ${error.request} (${error.status}${error.code ? ` ${error.code}` : ''}): ${error.message}`);
  // API Gateway's own answers: credentials it does not know, a route it does not have, its throttle.
  if (error.code === undefined && error.status === 403 && /scoped to a valid region/i.test(error.message) && target?.region !== undefined) {
    // The region signed for is not the one that answered: a custom domain's --region, say.
    return new Error(`The API answered 403 to ${error.request}: ${error.message.trim()} It does not answer from ${target.region}: leave --region out and the CLI signs for the region the API's /v1/health names.`);
  }
  if (error.code === undefined) return new Error(`The API answered ${error.status} to ${error.request}${error.status === 403 && target ? ` signed with ${await target.caller()}` : ''}: ${error.message}`);
  let message = error.message.replace(/\s*\n\s*/g, ' ');
  const field = /^([\w.]+?)(\.\d+)?: /.exec(message);
  if (field && fields[field[1]!]) message = `${fields[field[1]!]}${message.slice(field[0].length - 2)}`;
  return MISTAKES.has(error.code) ? new UsageError(message) : new Error(message);
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
  if (args.help) return { help: helpOf(name as CommandName) };
  return { name: name as CommandName, args };
}

async function run(cx: Context, name: CommandName, args: Args): Promise<string> {
  switch (name) {
    case 'upload':
      return upload(cx, args);
    case 'url':
      return url(cx, args);
    case 'sign':
      return sign(cx, args);
    case 'status':
      return status(cx, args);
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

/** The image the options name, its ids checked by core's rules (the ones the object keys and events use). */
function imageOf(values: { tenant?: string; id?: string }): { tenant: string; imageId: string } {
  return { tenant: tenantOf(values.tenant), imageId: imageIdOf(values.id) };
}

function tenantOf(tenant: string | undefined): string {
  if (!tenant || !isTenantId(tenant)) throw new UsageError(`--tenant must be a tenant id (3 to 32 of a-z 0-9 -), not '${tenant ?? ''}'.`);
  return tenant;
}

function imageIdOf(id: string | undefined): string {
  if (!id || !isImageId(id)) throw new UsageError(`--id must be an image id (1 to 128 of A-Z a-z 0-9 _ -), not '${id ?? ''}'.`);
  return id;
}

/** A file the command line names; one it cannot read is a mistake in the command line (exit 2), as a wrong option is. */
async function readInput(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    throw new UsageError(`Cannot read ${file}: ${(error as Error).message}`);
  }
}

/**
 * The content type an original declares: from its first bytes (each format's
 * signature), else its extension. The tenant's `uploads.contentTypes` say which it takes.
 */
export function contentTypeOf(file: string, bytes: Uint8Array): string | undefined {
  const ascii = (from: number, to: number) => String.fromCharCode(...bytes.subarray(from, to));
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  if (ascii(0, 8) === '\x89PNG\r\n\x1a\n') return 'image/png';
  if (ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a') return 'image/gif';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'image/webp';
  if (ascii(4, 8) === 'ftyp' && ['avif', 'avis'].includes(ascii(8, 12))) return 'image/avif';
  if (ascii(0, 4) === 'II*\0' || ascii(0, 4) === 'MM\0*') return 'image/tiff';
  const extension = /\.([a-z0-9]+)$/i.exec(file)?.[1]?.toLowerCase();
  const byExtension: Record<string, string> = { jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', gif: 'image/gif', webp: 'image/webp', avif: 'image/avif', tif: 'image/tiff', tiff: 'image/tiff' };
  return extension ? byExtension[extension] : undefined;
}

/**
 * `upload`: asks the API for a presigned POST, posts the file to S3 with it, then
 * follows the image's status until the RenderOnUpload run of this upload has ended,
 * and says what it did: published (with the canonical URL), rejected, discarded, failed.
 */
async function upload(cx: Context, { values, positionals }: Args): Promise<string> {
  const file = positionals[0]!;
  const image = imageOf(values);
  const body = await readInput(file);
  const contentType = values.type ?? contentTypeOf(file, body);
  if (!contentType) throw new UsageError(`Cannot tell what kind of image ${file} is: give its content type with --type (${UPLOAD_CONTENT_TYPES.join(', ')}).`);
  const api = await cx.api();
  // The run before this upload, if any: the one to wait for is another.
  const before = await api.getImage(image.tenant, image.imageId).catch((error: unknown) => {
    if (error instanceof ApiError && error.status === 404 && error.code === 'NotFound') return undefined;
    throw error;
  });
  const ticket = await api.createUpload(image.tenant, { imageId: image.imageId, contentType, contentLength: body.length });
  await postUpload(ticket.upload, contentType, body);
  // At once, so that `pictor status` can follow it from another terminal while this waits.
  cx.stdout.write(`Uploaded ${file} as ${ticket.key}.\n`);
  const deadline = cx.clock.now() + Number(values.wait) * 1000;
  const follow = `pictor status --tenant ${image.tenant} --id ${image.imageId}`;
  let announced: string | undefined;
  for (;;) {
    const status = await api.getImage(image.tenant, image.imageId);
    const execution = status.lastExecution;
    if (announced && !execution) {
      // The status lists an upload's run for a day (a day's executions are described): one that has gone cannot be followed.
      throw new Error(`The image's status no longer lists the upload's run, so what it did is unknown here; its execution says.\n  execution: ${announced}`);
    }
    if (execution && execution.executionArn !== before?.lastExecution?.executionArn) {
      if (announced !== execution.executionArn) cx.stdout.write(`  execution: ${execution.executionArn}\n`);
      announced = execution.executionArn;
      if (execution.status !== 'RUNNING') return uploadResult(cx, status, execution);
    }
    if (cx.clock.now() > deadline) {
      throw new Error(`Uploaded ${ticket.key}, but ${announced ? `its RenderOnUpload run is still going: '${follow}'` : 'no RenderOnUpload run has started for it yet'} (see --wait).`);
    }
    await cx.clock.sleep(250);
  }
}

/** What the upload's run did, from the image's status: its URL once published, else an error saying why not. */
function uploadResult(cx: Context, status: ImageStatus, execution: NonNullable<ImageStatus['lastExecution']>): string {
  const arn = `  execution: ${execution.executionArn}`;
  if (execution.status !== 'SUCCEEDED') {
    const again = cx.env.PICTOR_API_URL ? '' : `\n  Once the cause is fixed, 'pictor retry ${execution.executionArn}' runs it again.`;
    throw new Error(`The upload ${execution.status === 'FAILED' ? 'failed' : execution.status.toLowerCase().replace('_', ' ')} (${execution.error}): ${execution.cause}\n${arn}${again}`);
  }
  switch (execution.outcome) {
    case 'published':
      return `Published as version ${status.version}.\n${status.urls?.versioned ?? ''}`;
    case 'rejected':
      throw new Error(`The upload was rejected${execution.code ? ` (${execution.code})` : ''}: ${execution.reason}\n${arn}`);
    case 'discarded':
      throw new Error(`The upload was discarded: ${execution.reason}. Its bytes were erased in every region.\n${arn}`);
    default:
      throw new Error(`The upload was skipped: ${execution.reason}\n${arn}`);
  }
}

/**
 * Posts the file to S3 as the presigned POST says: every field first, the file last.
 * S3 answers 204 No Content by default; an error is XML with its Code and Message.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html
 */
async function postUpload(ticket: { url: string; fields: Readonly<Record<string, string>> }, contentType: string, body: Buffer): Promise<void> {
  const form = new FormData();
  for (const [name, value] of Object.entries(ticket.fields)) form.append(name, value);
  if (!Object.keys(ticket.fields).some((name) => name.toLowerCase() === 'content-type')) form.append('Content-Type', contentType);
  form.append('file', new Blob([new Uint8Array(body)], { type: contentType }));
  const response = await fetch(ticket.url, { method: 'POST', body: form, signal: AbortSignal.timeout(60_000) }).catch((error: Error) => {
    throw new Error(`S3 at ${new URL(ticket.url).host} did not take the upload, so nothing was stored; upload it again once the region answers: ${(error.cause as Error | undefined)?.message ?? error.message}`);
  });
  if (response.ok) return;
  const xml = await response.text();
  const code = /<Code>([^<]*)<\/Code>/.exec(xml)?.[1] ?? response.statusText;
  const message = /<Message>([^<]*)<\/Message>/.exec(xml)?.[1] ?? xml.slice(0, 200);
  if (response.status >= 500) throw new Error(`S3 did not take the upload (${response.status} ${code}), so nothing was stored; upload it again once the region answers: ${message}`);
  // S3 checked the POST's policy: a file of another size or type than the ticket allows.
  throw new Error(`S3 refused the upload (${code}): ${message}`);
}

/** `url`: the published version's canonical URL with the options given, from the image's status and the tenant's public policy. */
async function url(cx: Context, { values }: Args): Promise<string> {
  const image = imageOf(values);
  const api = await cx.api();
  const [status, policy] = await Promise.all([api.getImage(image.tenant, image.imageId), api.getPolicy(image.tenant)]);
  if (!status.version) throw new Error(`${image.tenant}/${image.imageId} has no published version yet${status.state === 'taken-down' ? ': it was taken down' : ''}.`);
  const query: [string, string][] = [];
  for (const name of ['w', 'h', 'fit', 'fmt', 'q'] as const) if (values[name] !== undefined) query.push([name, values[name]]);
  const normalized = normalizeQuery(query, policy, undefined);
  if (!normalized.ok) throw new UsageError(normalized.message);
  const path = `${formatImagePath({ ...image, version: status.version })}?${normalized.normalized.signedQuery}`;
  if (policy.signed || values.sign === true) return absolute((await api.signUrl(image.tenant, { url: path })).url, policy.baseUrl);
  return `${policy.baseUrl ?? ''}${path}`;
}

/** A URL the API answered, made absolute with the tenant's base URL when it is a path. */
function absolute(url: string, baseUrl: string | undefined): string {
  return url.startsWith('/') ? `${baseUrl ?? ''}${url}` : url;
}

/** `sign`: a URL of a tenant's image, signed by the API with the tenant's newest key. */
async function sign(cx: Context, { values, positionals }: Args): Promise<string> {
  const target = positionals[0]!;
  // A full URL, as `url` prints it, keeps its origin; a path gets the tenant's base URL.
  const origin = /^https?:\/\/[^/?#]+/i.exec(target)?.[0];
  const pathAndQuery = origin ? target.slice(origin.length) : target;
  const path = parseImagePath(pathAndQuery.split('?')[0]!);
  if (!path.ok) {
    throw new UsageError(path.code === 'NotFound' ? `'${target}' names no image: give its path, /img/{tenant}/{id}?w=320, or its full URL.` : `'${target}': ${path.message}`);
  }
  const api = await cx.api();
  const signed = await api.signUrl(path.path.tenant, { url: pathAndQuery, ttlSeconds: Number(values.ttl) });
  if (!signed.url.startsWith('/')) return origin ? origin + signed.url.replace(/^https?:\/\/[^/?#]+/i, '') : signed.url;
  return (origin ?? (await api.getPolicy(path.path.tenant)).baseUrl ?? '') + signed.url;
}

/** `status`: an image's (--tenant, --id), a job's (its id), or on the twin an execution's (its ARN). */
async function status(cx: Context, { values, positionals }: Args): Promise<string> {
  const [target] = positionals;
  const usage = `usage: pictor ${COMMANDS.status.usage}`;
  if (target === undefined) {
    if (values.id === undefined) throw new UsageError(`status takes --tenant T --id X (an image's) or a job id (a takedown's or re-render's) (${usage}).`);
    if (values.tenant === undefined) throw new UsageError(`status --id needs --tenant T, the image's tenant (${usage}).`);
    const image = imageOf(values);
    return formatImageStatus(await (await cx.api()).getImage(image.tenant, image.imageId));
  }
  if (values.id !== undefined) throw new UsageError(`status takes a job id or --id, not both (${usage}).`);
  if (target.startsWith('arn:')) {
    if (values.api !== undefined || cx.env.PICTOR_API_URL) throw new UsageError(`An execution ARN is the twin's to describe; through the API, give the image (--tenant T --id X) or the job id (${usage}).`);
    return executionStatus(cx, target);
  }
  const tenant = values.tenant === undefined ? undefined : tenantOf(values.tenant);
  return formatJobStatus(await (await cx.api()).getJob(tenant, target));
}

export function formatImageStatus(s: ImageStatus): string {
  const lines = [`${s.tenant}/${s.imageId}  ${s.state}${s.version ? `  version ${s.version}` : ''}${s.publishedVersions.length > 1 ? ` (published: ${s.publishedVersions.join(', ')})` : ''}`];
  if (s.takenDownAt) lines.push(`  taken down   ${s.takenDownAt}`);
  if (s.urls) lines.push(`  versioned    ${s.urls.versioned}`, `  unversioned  ${s.urls.unversioned}`);
  if (s.variants.length) lines.push(`  variants     ${s.variants.length}, ${s.variants.reduce((sum, v) => sum + v.bytes, 0)} bytes`);
  const e = s.lastExecution;
  if (e) {
    lines.push(`  last run     ${e.status}${e.outcome ? ` ${e.outcome}` : ''}  ${e.executionArn}`, `    started    ${e.startedAt}`);
    if (e.stoppedAt) lines.push(`    stopped    ${e.stoppedAt}`);
    if (e.reason) lines.push(`    reason     ${e.reason}`);
    if (e.error) lines.push(`    error      ${e.error}: ${e.cause ?? ''}`);
  }
  return lines.join('\n');
}

export function formatJobStatus(job: JobStatus): string {
  const { items } = job;
  const lines = [`${job.kind} ${job.jobId}  ${job.state}  ${items.succeeded + items.failed}/${items.total} items${items.running ? `, ${items.running} running` : ''}${items.failed ? `, ${items.failed} failed` : ''}`];
  if (job.tenant) lines.push(`  tenant     ${job.tenant}`);
  for (const e of job.executions) lines.push(`  execution  ${e.status}  ${e.executionArn}${e.error ? `  ${e.error}: ${e.cause ?? ''}` : ''}`);
  if (job.output !== undefined) lines.push(`  output     ${JSON.stringify(job.output)}`);
  return lines.join('\n');
}

/** The twin's Step Functions, for the commands that are the twin's alone (status of an execution ARN, retry). */
function twinStepFunctions(cx: Context): SFNClient {
  const sfn = new SFNClient({ region: 'us-east-1', endpoint: cx.endpoints.control, credentials: LOCAL_S3_CREDENTIALS, maxAttempts: 1 });
  cx.clients.push(sfn);
  return sfn;
}

/**
 * An execution ARN's shape, arn:{partition}:states:{region}:{account}:execution:{machine}:{name}:
 * anything else is a mistake in the command line, not a question for the twin.
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeExecution.html
 */
function checkExecutionArn(arn: string): void {
  if (!/^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[^:]+:[^:]+$/.test(arn)) {
    throw new UsageError(`'${arn}' is not an execution ARN; give the one 'pictor upload' or 'status' printed (arn:aws:states:REGION:ACCOUNT:execution:MACHINE:NAME).`);
  }
}

async function executionStatus(cx: Context, arn: string): Promise<string> {
  checkExecutionArn(arn);
  const e = await twinStepFunctions(cx).send(new DescribeExecutionCommand({ executionArn: arn })).catch(twinUnreachable(cx));
  const lines = [`${e.status}  ${e.name}`, `  started  ${e.startDate?.toISOString()}`];
  if (e.stopDate) lines.push(`  stopped  ${e.stopDate.toISOString()}`);
  if (e.error) lines.push(`  error    ${e.error}: ${e.cause}`);
  if (e.output) lines.push(`  output   ${e.output}`);
  return lines.join('\n');
}

/** An error of the twin's AWS APIs as it is, or, when nothing answered, one saying so. */
function twinUnreachable(cx: Context): (error: Error) => never {
  return (error) => {
    if (error.name === 'ExecutionDoesNotExist' || (error as { $metadata?: unknown }).$metadata) throw error;
    throw new Error(`The twin at ${cx.endpoints.control} did not answer (is 'npm start' running?): ${error.message}`);
  };
}

/** Runs a failed execution again with its own input, as re-sending its event would: the twin's alone. */
async function retry(cx: Context, arn: string): Promise<string> {
  checkExecutionArn(arn);
  const sfn = twinStepFunctions(cx);
  const failed = await sfn.send(new DescribeExecutionCommand({ executionArn: arn })).catch(twinUnreachable(cx));
  if (failed.status === 'RUNNING' || failed.status === 'SUCCEEDED') throw new Error(`${failed.name} is ${failed.status}; only a failed execution needs running again.`);
  const name = `retry-${randomUUID()}`;
  const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: failed.stateMachineArn, name, input: failed.input }));
  for (;;) {
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (execution.status !== 'RUNNING') return executionStatus(cx, execution.executionArn!);
    await cx.clock.sleep(250);
  }
}

/** Who the event schemas' `requester` is here: the API sets it to the caller; checked with this stand-in. */
const API_CALLER = 'the API caller';

async function rerender(cx: Context, { values }: Args): Promise<string> {
  const request = {
    ...(values.widths || values.formats
      ? { variants: { ...(values.widths ? { widths: values.widths.split(',').map(Number) } : {}), ...(values.formats ? { formats: values.formats.split(',') } : {}) } }
      : {}),
    ...(values['only-stale'] ? { onlyStale: true } : {}),
    ...(values.tolerate !== undefined ? { toleratedFailurePercentage: Number(values.tolerate) } : {}),
  };
  // Refused here as the API would refuse it, by the event's schema, so that a mistake asks nothing of it.
  const parsed = RerenderRequestedV1.safeParse({ schemaVersion: 1, requester: API_CALLER, ...(values.tenant !== undefined ? { tenant: values.tenant } : {}), ...request });
  if (!parsed.success) {
    throw refusal(parsed.error.issues, { 'variants.widths': '--widths', 'variants.formats': '--formats', toleratedFailurePercentage: '--tolerate', tenant: '--tenant' }, (option) => values[option.slice(2)], '"Rerender Requested"');
  }
  const api = await cx.api();
  const accepted = await api.requestRerender(values.tenant, request);
  const job = await followJob(cx, api, values.tenant, accepted, 'originals');
  const summary = job.output as {
    rendered: number;
    skipped: number;
    failed: number;
    skippedBecause?: Record<string, number>;
    failures?: { tenant: string; imageId: string; error: string; cause: string }[];
    failuresOmitted?: number;
    report?: { bucket: string; key: string };
  };
  const lines = [`Re-render ${accepted.jobId} by ${accepted.requester}: ${summary.rendered} rendered, ${summary.skipped} skipped, ${summary.failed} failed.`];
  for (const [reason, count] of Object.entries(summary.skippedBecause ?? {})) lines.push(`  skipped ${count}: ${reason}`);
  for (const f of summary.failures ?? []) lines.push(`  failed ${f.tenant}/${f.imageId}: ${f.error} ${f.cause}`);
  if (summary.failuresOmitted) lines.push(`  … and ${summary.failuresOmitted} more failures, all in the report`);
  // Every failure, the counts and where the per-original results are: rerenders/<jobId>/report.json.
  if (summary.report) lines.push(`  report: s3://${summary.report.bucket}/${summary.report.key}`);
  for (const e of job.executions) lines.push(`  execution: ${e.executionArn}`);
  return lines.join('\n');
}

async function takedown(cx: Context, { values }: Args): Promise<string> {
  const imageIds = values.id as string[];
  const items = imageIds.map((imageId) => ({ tenant: values.tenant, imageId, reason: values.reason, requester: API_CALLER }));
  // The schema TakedownBatch's accept-takedown validates with (events/schemas), before anything is asked of the API.
  const parsed = TakedownRequestedV1.safeParse({ schemaVersion: 1, items });
  if (!parsed.success) {
    const given = (option: string) => (option === '--id' ? imageIds.find((id) => !isImageId(id)) : values[option.slice(2)]);
    throw refusal(parsed.error.issues, { 'items.tenant': '--tenant', 'items.imageId': '--id', 'items.reason': '--reason', items: '--id' }, given, '"Takedown Requested"');
  }
  const api = await cx.api();
  const accepted = await api.requestTakedown(values.tenant, { imageIds, reason: values.reason });
  const job = await followJob(cx, api, values.tenant, accepted, 'images');
  const summary = job.output as { takenDown?: number; report?: { bucket: string; key: string } };
  return [
    `Takedown ${accepted.jobId} by ${accepted.requester}: ${summary.takenDown ?? imageIds.length} images erased, invalidated and verified 404 at the edge.`,
    ...(summary.report ? [`  report: s3://${summary.report.bucket}/${summary.report.key}`] : []),
    ...job.executions.map((e) => `  execution: ${e.executionArn}`),
  ].join('\n');
}

/** How long a job may take to start after the API accepted it: EventBridge delivers within seconds. */
const JOB_START_MS = 60_000;

/**
 * Follows a job the API accepted until it has ended, drawing its progress on stderr:
 * the items of its Distributed Map runs as the job's status counts them (an item is
 * counted as it finishes, not when the run ends). A re-render continues as new
 * executions; the job has ended when the last one has. A job that failed is an error.
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_MapRunItemCounts.html
 */
async function followJob(cx: Context, api: ApiClient, tenant: string | undefined, accepted: JobAccepted, noun: string): Promise<JobStatus> {
  // At once, so that `pictor status` can follow it from another terminal.
  cx.stderr.write(`job: ${accepted.jobId} (pictor status ${accepted.jobId}${tenant ? ` --tenant ${tenant}` : ''})\n`);
  const bar = progressBar(cx.stderr, noun);
  const seen = new Set<string>();
  // The API knows a job by its executions: until EventBridge has started the first, it answers 404.
  const startsBy = cx.clock.now() + JOB_START_MS;
  for (;;) {
    const job = await api.getJob(tenant, accepted.jobId).catch((error: unknown) => {
      if (error instanceof ApiError && error.status === 404 && cx.clock.now() < startsBy) return undefined;
      throw error;
    });
    if (!job) {
      await cx.clock.sleep(200);
      continue;
    }
    for (const e of job.executions) {
      if (seen.has(e.executionArn)) continue;
      seen.add(e.executionArn);
      cx.stderr.write(`execution: ${e.executionArn}\n`);
    }
    bar.draw({ done: job.items.succeeded + job.items.failed, running: job.items.running, total: job.items.total });
    const continued = (job.output as { continuedAs?: unknown } | undefined)?.continuedAs !== undefined;
    if (job.state === 'failed' || (job.state === 'succeeded' && !continued)) {
      bar.end();
      if (job.state === 'failed') {
        const last = job.executions.at(-1);
        throw new Error(`The ${accepted.kind === 'rerender' ? 're-render' : 'takedown'} ${last?.status.toLowerCase() ?? 'failed'} (${last?.error}): ${last?.cause}\n  job: ${accepted.jobId}${last ? `\n  execution: ${last.executionArn}` : ''}`);
      }
      return job;
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


/** `tenants put|remove|list|policy`: the API's admin routes (and the tenant's policy). */
async function tenants(cx: Context, command: 'tenants put' | 'tenants remove' | 'tenants list' | 'tenants policy', { values }: Args): Promise<string> {
  switch (command) {
    case 'tenants put': {
      // The file first: a file that is not there, or wrong, is a mistake in the command line, found before the API is asked.
      const input = await readInput(values.file);
      let json: any;
      try {
        json = JSON.parse(String(input));
      } catch (error) {
        throw new UsageError(`${values.file} is not JSON: ${(error as Error).message}`);
      }
      const isFile = json && typeof json === 'object' && 'tenants' in json;
      if (!isFile && !values.tenant) throw new UsageError(`${values.file} is one tenant's JSON: say which tenant with --tenant.`);
      const file = isFile ? json : { tenants: { [values.tenant]: json } };
      // Validated whole before any tenant is put, as the API validates each.
      const config = parseTenantsFile(file, values.file);
      const ids = Object.keys(config.tenants).filter((id) => !values.tenant || id === values.tenant);
      if (ids.length === 0) throw new UsageError(`${values.file} has no tenant ${values.tenant}.`);
      const api = await cx.api();
      const lines: string[] = [];
      for (const id of ids) {
        const put = await api.putTenant(id, file.tenants[id]);
        lines.push(`put ${id}${put.keys?.length ? `  keys: ${put.keys.join(', ')} (signs with ${put.keys.at(-1)})` : ''}`);
      }
      return lines.join('\n');
    }
    case 'tenants remove':
      await (await cx.api()).removeTenant(tenantOf(values.tenant));
      return `removed ${values.tenant}`;
    case 'tenants list':
      return (await (await cx.api()).listTenants()).map((t: TenantSummaryBody) => `${t.tenant.padEnd(34)}${t.signed ? 'signed  ' : 'open    '}${t.keys.join(', ')}`).join('\n') || '(no tenants)';
    case 'tenants policy': {
      // What a front end may know of the tenant, as the store holds it now: the JSON pictor/client reads.
      const found = await (await cx.api()).getPolicy(tenantOf(values.tenant));
      const policy = values['base-url'] === undefined ? found : { ...found, baseUrl: values['base-url'].replace(/\/+$/, '') };
      const problems = publicPolicyProblems(policy);
      if (problems.length > 0) throw new (values['base-url'] === undefined ? Error : UsageError)(`${values['base-url'] === undefined ? 'The API answered a policy that is not one' : '--base-url'}: ${problems.map((p) => p.replace(/\.$/, '')).join('; ')}.`);
      return JSON.stringify(policy, null, 2);
    }
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

/** `keys rotate|retire|list`: a tenant's signing keys, rotated with overlap, through the API's admin routes. */
async function keys(cx: Context, command: 'keys rotate' | 'keys retire' | 'keys list', { values }: Args): Promise<string> {
  const tenant = tenantOf(values.tenant);
  const api = await cx.api();
  switch (command) {
    case 'keys rotate': {
      const answer = (await api.rotateKey(tenant, values.kid)) as string | { kid?: string; keys?: string[] } | undefined;
      const kid = typeof answer === 'string' ? answer : (answer?.kid ?? answer?.keys?.at(-1) ?? values.kid);
      return `${tenant} signs with ${kid} from now on; retire the older keys once URLs they signed have expired (keys retire --tenant ${tenant} --kid ...).`;
    }
    case 'keys retire':
      await api.retireKey(tenant, values.kid);
      return `${tenant} no longer accepts ${values.kid} (the edge follows within seconds).`;
    case 'keys list':
      return (await api.listKeys(tenant)).join('\n') || '(no keys)';
  }
}
