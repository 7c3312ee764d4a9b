import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FAULT_MODES, type FaultMode, type Regions } from './regions.ts';
import type { LocalEventBus } from './event-bus/event-bus.ts';
import type { InvalidationService } from './edge/invalidations.ts';
import type { ExecutionRecord, LocalStepFunctions } from './pipeline/step-functions.ts';
import { IdentityError, type Identity, type LocalIdentities } from './iam/identities.ts';
import { serveKeyValueStore, type LocalKeyValueStore } from './key-value-store.ts';
import type { LocalSecretsManager } from './secrets-manager.ts';
import { authorize } from './iam/policy.ts';

/**
 * The twin's control plane on one port, for the real SDK clients: CloudFront's
 * REST API (invalidations), and EventBridge's and Step Functions' JSON protocols
 * (PutEvents; StartExecution, DescribeExecution, ListExecutions), told apart by
 * the X-Amz-Target header as the services do.
 */
import { TWIN_FAULTS_PATH, TWIN_HEALTH_PATH, TWIN_TENANT_STORE_PATH } from './twin-names.ts';
import type { HealthReport } from './health.ts';
export { TWIN_FAULTS_PATH, TWIN_TENANT_STORE_PATH };

export function controlPlane(services: {
  invalidations: InvalidationService;
  bus?: LocalEventBus;
  stepFunctions?: LocalStepFunctions;
  regions?: Regions;
  identities?: LocalIdentities;
  /** The CloudFront KeyValueStore API (REST-JSON), by store ARN. */
  keyValueStores?: ReadonlyMap<string, LocalKeyValueStore>;
  secretsManager?: LocalSecretsManager;
  /** The tenant stores' ARNs: the viewer function's and the origin's and pipeline's. */
  tenantStores?: { viewer: string; config: string };
  /** The twin's servers, probed (GET TWIN_HEALTH_PATH). */
  health?: () => Promise<HealthReport>;
}) {
  return async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    if (request.url === TWIN_FAULTS_PATH && services.regions) return faults(services.regions, request, response);
    if (services.identities && String(request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) return sts(services.identities, request, response);
    if (request.url?.startsWith('/key-value-stores/') && services.keyValueStores) {
      const identities = services.identities;
      // Who signed it, and whether their policies allow the operation on the store.
      const check = identities ? (action: string, arn: string) => allowIdentity(identities.callerOf(request.headers.authorization), action, arn, 403) : undefined;
      return serveKeyValueStore(services.keyValueStores, request, response, check);
    }
    if (request.url === TWIN_TENANT_STORE_PATH && services.tenantStores) return send(response, 200, services.tenantStores);
    if (request.url === TWIN_HEALTH_PATH && services.health) return health(services.health, request, response);
    const target = request.headers['x-amz-target'];
    if (typeof target !== 'string') {
      if (services.identities) {
        try {
          services.identities.callerOf(request.headers.authorization);
        } catch (error) {
          const known = error as IdentityError;
          response.writeHead(known.status, { 'content-type': 'text/xml' }).end(`<ErrorResponse><Error><Type>Sender</Type><Code>${known.name}</Code><Message>${known.message}</Message></Error></ErrorResponse>`);
          return;
        }
      }
      return services.invalidations.handle(request, response);
    }
    try {
      // Who signed the request: a role's session or the administrator (unknown keys are refused, as AWS refuses them).
      const caller = services.identities?.callerOf(request.headers.authorization);
      const body = JSON.parse((await readBody(request)) || '{}');
      const [service, action] = target.split('.') as [string, string];
      const result =
        service === 'AWSEvents' && services.bus
          ? events(services.bus, action, body, caller)
          : service === 'AWSStepFunctions' && services.stepFunctions
            ? stepFunctions(services.stepFunctions, action, body)
            : service === 'secretsmanager' && services.secretsManager
              ? services.secretsManager.handle(action, body, caller && ((name: string, arn: string) => allowIdentity(caller, `secretsmanager:${name}`, arn, 400)))
              : undefined;
      if (result === undefined) throw apiError('UnknownOperationException', `The twin does not serve ${target}.`);
      send(response, 200, result);
    } catch (error) {
      const known = error as { name: string; message: string; status?: number };
      send(response, known.status ?? 400, { __type: known.name, message: known.message });
    }
  };
}

/** GET: each region's fault. POST {region, mode}: puts a region's S3 into a fault, or out of it with "off". */
async function faults(regions: Regions, request: IncomingMessage, response: ServerResponse): Promise<void> {
  try {
    if (request.method === 'POST') {
      const body = JSON.parse((await readBody(request)) || '{}') as { region?: unknown; mode?: unknown };
      if (typeof body.region !== 'string' || !Object.hasOwn(regions.modes, body.region)) {
        throw apiError('InvalidParameter', `region must be one of ${Object.keys(regions.modes).join(', ')}.`);
      }
      if (!(FAULT_MODES as readonly unknown[]).includes(body.mode)) throw apiError('InvalidParameter', `mode must be one of ${FAULT_MODES.join(', ')}.`);
      await regions.fault(body.region, body.mode as FaultMode);
    }
    send(response, 200, { regions: regions.modes });
  } catch (error) {
    const known = error as { name: string; message: string; status?: number };
    send(response, known.status ?? 400, { code: known.name, message: known.message });
  }
}

/**
 * EventBridge's PutEvents, answered as AWS answers it: over 10 entries or over the
 * size quota the whole request is a ValidationException (HTTP 400); an entry AWS
 * refuses gets its ErrorCode and ErrorMessage and counts in FailedEntryCount while the
 * others are put. The bus does both (LocalEventBus.putEvents).
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevents.html
 */
function events(bus: LocalEventBus, action: string, body: any, caller: Identity | undefined): unknown {
  if (action !== 'PutEvents') return undefined;
  return bus.putEvents(body?.Entries, caller);
}

/**
 * STS's query API, for the twin's roles: AssumeRole (the caller's session of a
 * role, as its trust policy and the caller's policies allow) and GetCallerIdentity.
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
 */
async function sts(identities: LocalIdentities, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const xml = (name: string, result: string) =>
    `<${name}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><${name}Result>${result}</${name}Result><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${name}Response>`;
  try {
    const caller = identities.callerOf(request.headers.authorization);
    const params = new URLSearchParams(await readBody(request));
    const action = params.get('Action');
    if (action === 'GetCallerIdentity') {
      const body = `<Arn>${caller.arn}</Arn><UserId>${caller.arn.split('/').pop()}</UserId><Account>${caller.account}</Account>`;
      response.writeHead(200, { 'content-type': 'text/xml' }).end(xml(action, body));
      return;
    }
    if (action !== 'AssumeRole') throw new IdentityError('InvalidAction', `The twin does not serve STS ${action}.`);
    const roleArn = params.get('RoleArn') ?? '';
    const session = params.get('RoleSessionName') ?? '';
    // 2 to 64 of these characters. https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html#API_AssumeRole_RequestParameters
    if (!/^[\w+=,.@-]{2,64}$/.test(session)) throw new IdentityError('ValidationError', `RoleSessionName '${session}' must be 2 to 64 of letters, digits and _+=,.@-.`);
    const credentials = identities.assumeRole(caller, roleArn, session);
    const duration = Number(params.get('DurationSeconds') ?? 3600);
    const roleName = roleArn.split('/').pop();
    const body =
      `<Credentials><AccessKeyId>${credentials.accessKeyId}</AccessKeyId><SecretAccessKey>${credentials.secretAccessKey}</SecretAccessKey>` +
      `<SessionToken>${credentials.sessionToken}</SessionToken><Expiration>${new Date(Date.now() + duration * 1000).toISOString()}</Expiration></Credentials>` +
      `<AssumedRoleUser><AssumedRoleId>AROA${roleName}:${session}</AssumedRoleId><Arn>${roleArn.replace(':iam::', ':sts::').replace(':role/', ':assumed-role/')}/${session}</Arn></AssumedRoleUser>`;
    response.writeHead(200, { 'content-type': 'text/xml' }).end(xml(action, body));
  } catch (error) {
    const known = error instanceof IdentityError ? error : new IdentityError('InternalFailure', (error as Error).message, 500);
    response
      .writeHead(known.status, { 'content-type': 'text/xml' })
      .end(`<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${known.name}</Code><Message>${known.message}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`);
  }
}

function stepFunctions(sfn: LocalStepFunctions, action: string, body: any): unknown {
  switch (action) {
    case 'StartExecution': {
      const execution = sfn.start(body.stateMachineArn, JSON.parse(body.input ?? '{}'), body.name);
      return { executionArn: execution.executionArn, startDate: seconds(execution.startDate) };
    }
    case 'DescribeExecution': {
      const execution = sfn.describe(body.executionArn);
      if (!execution) throw apiError('ExecutionDoesNotExist', `Execution does not exist: '${body.executionArn}'`);
      return describe(execution);
    }
    case 'ListStateMachines':
      return { stateMachines: sfn.stateMachineArns.map((arn) => ({ stateMachineArn: arn, name: arn.split(':').pop(), type: 'STANDARD', creationDate: 0 })) };
    case 'ListMapRuns': {
      const execution = sfn.describe(body.executionArn);
      if (!execution) throw apiError('ExecutionDoesNotExist', `Execution does not exist: '${body.executionArn}'`);
      return {
        mapRuns: execution.mapRuns.map((m) => ({
          executionArn: m.executionArn,
          mapRunArn: m.mapRunArn,
          stateMachineArn: m.mapRunArn.replace(':mapRun:', ':stateMachine:').replace(/:[^:]+$/, ''),
          startDate: seconds(m.startDate),
          stopDate: m.stopDate ? seconds(m.stopDate) : undefined,
        })),
      };
    }
    case 'DescribeMapRun': {
      const mapRun = sfn.mapRun(body.mapRunArn);
      if (!mapRun) throw apiError('ResourceNotFound', `Map run does not exist: '${body.mapRunArn}'`);
      const counts = { ...mapRun.itemCounts, timedOut: 0, resultsWritten: mapRun.resultWriterDetails ? mapRun.itemCounts.succeeded + mapRun.itemCounts.failed + mapRun.itemCounts.aborted : 0 };
      return {
        mapRunArn: mapRun.mapRunArn,
        executionArn: mapRun.executionArn,
        status: mapRun.status,
        startDate: seconds(mapRun.startDate),
        stopDate: mapRun.stopDate ? seconds(mapRun.stopDate) : undefined,
        maxConcurrency: mapRun.maxConcurrency,
        toleratedFailurePercentage: mapRun.toleratedFailurePercentage ?? 0,
        toleratedFailureCount: mapRun.toleratedFailureCount ?? 0,
        itemCounts: counts,
        executionCounts: counts,
      };
    }
    case 'ListExecutions': {
      // A map run's child executions are listed by its ARN, never among the state machine's own.
      // https://docs.aws.amazon.com/step-functions/latest/apireference/API_ListExecutions.html
      const executions = body.mapRunArn ? sfn.listMapRunExecutions(body.mapRunArn) : sfn.list(body.stateMachineArn);
      const matching = executions.filter((e) => !body.statusFilter || e.status === body.statusFilter);
      // Newest first, a page of maxResults (1 to 1000; 0 or none is 100) at a time, as AWS pages them.
      const pageSize = body.maxResults ? Number(body.maxResults) : 100;
      if (!Number.isInteger(pageSize) || pageSize < 0 || pageSize > 1000) throw apiError('ValidationException', `maxResults must be from 0 to 1000, not ${body.maxResults}.`);
      const start = body.nextToken ? Number(Buffer.from(String(body.nextToken), 'base64url').toString()) : 0;
      if (!Number.isInteger(start) || start < 0) throw apiError('InvalidToken', 'The nextToken is not one this API gave.');
      const page = matching.slice(start, start + pageSize);
      const nextToken = start + pageSize < matching.length ? Buffer.from(String(start + pageSize)).toString('base64url') : undefined;
      return { executions: page.map(describe), ...(nextToken ? { nextToken } : {}) };
    }
    default:
      return undefined;
  }
}

function describe(e: ExecutionRecord) {
  return {
    executionArn: e.executionArn,
    stateMachineArn: e.stateMachineArn,
    name: e.name,
    status: e.status,
    startDate: seconds(e.startDate),
    stopDate: e.stopDate ? seconds(e.stopDate) : undefined,
    input: JSON.stringify(e.input),
    output: e.output === undefined ? undefined : JSON.stringify(e.output),
    error: e.error,
    cause: e.cause,
  };
}

function seconds(date: Date): number {
  return date.getTime() / 1000;
}

/**
 * An identity-based policy check, as the services make it for callers in their own
 * account: an AccessDeniedException unless one of the caller's statements allows it.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 */
function allowIdentity(caller: Identity, action: string, resource: string, status: number): void {
  if (authorize({ principal: caller, action, resource }, { identity: caller.statements }).effect === 'Allow') return;
  throw Object.assign(new Error(`User: ${caller.arn} is not authorized to perform: ${action} on resource: ${resource}`), { name: 'AccessDeniedException', status });
}

function apiError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name });
}

/**
 * GET the twin's health report (503 when a server is down); HEAD answers the same
 * status and headers without the body, as HTTP's HEAD does; any other method is 405
 * with the methods it takes in Allow. https://www.rfc-editor.org/rfc/rfc9110#name-head
 */
async function health(probe: () => Promise<HealthReport>, request: IncomingMessage, response: ServerResponse): Promise<void> {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'application/json' });
    response.end(JSON.stringify({ message: `${TWIN_HEALTH_PATH} takes GET or HEAD, not ${request.method}.` }));
    return;
  }
  const report = await probe();
  const body = JSON.stringify(report);
  response.writeHead(report.status === 'down' ? 503 : 200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  response.end(request.method === 'HEAD' ? undefined : body);
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
  response.end(JSON.stringify(body));
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
