import { HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, DescribeMapRunCommand, ListExecutionsCommand, ListMapRunsCommand, type DescribeExecutionCommandOutput, type SFNClient } from '@aws-sdk/client-sfn';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { z } from 'zod';
import { errorBody } from '../core/error-codes.ts';
import { isPictorError, PictorError } from '../core/errors.ts';
import { formatImagePath, isImageId, isTenantId, parseImagePath } from '../core/image-path.ts';
import { logFailure } from '../core/log-level.ts';
import { uploadKey, variantPrefix } from '../core/object-keys.ts';
import { publicPolicyOf } from '../core/public-policy.ts';
import { policyOf, type TenantConfig } from '../core/tenant-config.ts';
import { putPictorEvent } from '../events/publish.ts';
import { RerenderRequestedV1, TakedownRequestedV1 } from '../events/schemas/pictor-events.ts';
import { signWithNewestKey } from '../signer/sign-url.ts';
import { planRerender } from '../tasks/plan-rerender/plan-rerender.ts';
import type { VersionMap } from '../tasks/ports/version-map.ts';
import type { TenantDirectory } from '../tasks/ports/tenants.ts';
import type { TenantRegistry } from '../tenant-store/registry.ts';
import { identifyCaller, mayActOn, type Caller } from './callers.ts';
import type { ApiConfig } from './config.ts';
import { API_ROUTES, routeKey, type ExecutionSummary, type ImageStatus, type JobAccepted, type JobStatus, type RouteName, type SignedUrl, type TenantSummaryBody, type UploadTicket } from './contract.ts';
import { describeIssues, RerenderBody, RotateKeyBody, SignUrlBody, TakedownBody, UploadBody } from './requests.ts';

/** What the API calls: the deployment's clients and stores, built once per cold start (control-api/handler.ts). */
export interface ApiServices {
  readonly config: ApiConfig;
  readonly s3: S3Client;
  readonly sfn: SFNClient;
  readonly events: EventBridgeClient;
  readonly versions: VersionMap;
  /** The tenants as the pipeline reads them (no secret). */
  readonly tenants: TenantDirectory;
  /** Tenants and keys: the admin operations, and a signer's keys. */
  readonly registry: TenantRegistry;
  readonly logger: Logger;
  /** @default Date.now */
  readonly now?: () => number;
}

/**
 * How long a presigned POST stays valid: long enough for a large file on a slow
 * link, short enough that a leaked form dies soon.
 */
export const UPLOAD_TICKET_SECONDS = 15 * 60;
/** How long a status's signed URLs and a signed-urls answer last by default. */
const DEFAULT_SIGNED_TTL_SECONDS = 3600;
/**
 * Executions a status or job lookup describes at most: Step Functions lists
 * executions without their input, so finding one means describing each, newest first.
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_ListExecutions.html
 */
const MAX_DESCRIBED = 50;
/** How far back an upload whose original is gone (rejected, discarded) is looked for. */
const RECENT_UPLOAD_MS = 24 * 3600 * 1000;

type Response = APIGatewayProxyStructuredResultV2;
const ROUTES_BY_KEY = new Map(Object.entries(API_ROUTES).map(([name, route]) => [routeKey(route), name as RouteName]));

/**
 * The control-plane API: one function behind every route of API_ROUTES, with
 * API Gateway's payload format 2.0. A caller's mistake is a 4xx `{code, message}`;
 * every request is logged once, with the route, the caller and the outcome.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
 */
export function createApi(services: ApiServices): (event: APIGatewayProxyEventV2) => Promise<Response> {
  const { logger } = services;
  return async (event) => {
    const started = Date.now();
    const route = ROUTES_BY_KEY.get(event.routeKey);
    const userArn = (event.requestContext as { authorizer?: { iam?: { userArn?: string } } }).authorizer?.iam?.userArn;
    const caller = userArn ? identifyCaller(userArn, services.config) : undefined;
    const context = { route: event.routeKey, caller: caller?.arn ?? 'anonymous', requestId: event.requestContext?.requestId, ...(event.pathParameters ?? {}) };
    try {
      if (!route) throw new PictorError('NotFound', `No route ${event.routeKey}.`);
      const access = API_ROUTES[route].access;
      if (access !== 'public' && !caller) throw new PictorError('AccessDenied', 'The request is not signed with AWS credentials (IAM authorization).');
      const tenant = event.pathParameters?.tenant;
      if (tenant !== undefined && !isTenantId(tenant)) throw new PictorError('InvalidRequest', `'${tenant}' is not a tenant id: 3 to 32 of a-z 0-9 -.`);
      if (access === 'admin' && !caller!.admin) throw new PictorError('AccessDenied', `${caller!.arn} is not an admin of this API, and ${event.routeKey} is for admins.`);
      if (access === 'tenant' && !mayActOn(caller!, tenant!)) throw new PictorError('AccessDenied', `${caller!.arn} may not act on tenant ${tenant}.`);
      const response = await ROUTE_HANDLERS[route](services, { event, caller: caller!, tenant: tenant! });
      logger.info('request', { ...context, status: response.statusCode, ms: Date.now() - started });
      return response;
    } catch (error) {
      const known = isPictorError(error) ? error : undefined;
      const status = known?.status ?? 500;
      if (status >= 500) logFailure(logger, 'request failed', error, { ...context, status, ms: Date.now() - started });
      else logger.info('request refused', { ...context, status, code: known!.code, reason: known!.message, ms: Date.now() - started });
      return json(status, undefined, errorBody(known?.code ?? 'InternalError', known?.message ?? '', known?.expose ?? false));
    }
  };
}

interface Call {
  readonly event: APIGatewayProxyEventV2;
  readonly caller: Caller;
  readonly tenant: string;
}

type RouteHandler = (services: ApiServices, call: Call) => Promise<Response>;

const ROUTE_HANDLERS: Record<RouteName, RouteHandler> = {
  // The region that answered: a client behind a latency-routed domain signs for it (SigV4 scopes a signature to one region).
  health: async (services) => json(200, { status: 'ok', region: services.config.apiRegion }),
  createUpload: createUpload,
  getImage: async (services, { event, tenant }) => json(200, await imageStatus(services, tenant, imageIdOf(event))),
  signUrl: async (services, { event, tenant }) => {
    const body = readBody(event, SignUrlBody);
    const config = await tenantOf(services, tenant);
    const ttl = body.ttlSeconds ?? Math.min(DEFAULT_SIGNED_TTL_SECONDS, config.signing.maxTtl);
    if (ttl > config.signing.maxTtl) throw new PictorError('InvalidRequest', `ttlSeconds: at most ${config.signing.maxTtl}, the tenant's signing.maxTtl.`);
    const origin = /^https?:\/\/[^/?#]+/i.exec(body.url)?.[0];
    const pathAndQuery = origin ? body.url.slice(origin.length) : body.url;
    const path = parseImagePath(pathAndQuery.split('?')[0]!);
    if (!path.ok) throw new PictorError('InvalidRequest', `url: ${path.code === 'NotFound' ? 'give /img/{tenant}/{imageId}?..., or a full URL of one' : path.message}`);
    if (path.path.tenant !== tenant) throw new PictorError('AccessDenied', `url names tenant ${path.path.tenant}, not ${tenant}.`);
    return json(200, { url: (origin ?? services.config.edgeUrl) + (await signed(services, tenant, pathAndQuery, ttl)), expiresAt: new Date(now(services) + ttl * 1000).toISOString() } satisfies SignedUrl);
  },
  getPolicy: async (services, { tenant }) => json(200, publicPolicyOf(tenant, policyOf(await tenantOf(services, tenant)), services.config.edgeUrl)),
  requestTakedown: async (services, { event, caller, tenant }) => {
    const body = readBody(event, TakedownBody);
    await tenantOf(services, tenant);
    const detail = { schemaVersion: 1 as const, items: [...new Set(body.imageIds)].map((imageId) => ({ tenant, imageId, reason: body.reason, requester: caller.arn })) };
    checkDetail(TakedownRequestedV1, detail);
    const jobId = await asRequest(() => putPictorEvent(services.events, services.config.eventBus, 'Takedown Requested', detail), 'InvalidEvent');
    return accepted(services, tenant, { jobId, kind: 'takedown', requester: caller.arn });
  },
  requestRerender: async (services, { event, caller, tenant }) => rerender(services, caller, readBody(event, RerenderBody), tenant),
  rerenderAll: async (services, { event, caller }) => rerender(services, caller, readBody(event, RerenderBody), undefined),
  getJob: async (services, { event, tenant }) => json(200, await jobStatus(services, jobIdOf(event), tenant)),
  getAnyJob: async (services, { event }) => json(200, await jobStatus(services, jobIdOf(event), undefined)),
  listTenants: async (services) => json(200, { tenants: (await services.registry.listTenants()).map(summaryOf) }),
  putTenant: async (services, { event, tenant }) => {
    const body = readBody(event, undefined);
    // Keys change through rotate and retire: a tenants file may bring keys to a new tenant, but
    // never back one that was retired (it would sign again, as the newest listed).
    const listed = Object.keys((body as { signing?: { keys?: Record<string, unknown> } } | null)?.signing?.keys ?? {});
    const active = listed.length > 0 && (await services.tenants.exists(tenant)) ? await services.registry.listKeys(tenant) : [];
    const unknown = active.length > 0 ? listed.filter((kid) => !active.includes(kid)) : [];
    if (unknown.length > 0) {
      throw new PictorError('Conflict', `signing.keys: ${unknown.join(', ')} ${unknown.length === 1 ? 'is not an active key' : 'are not active keys'} of ${tenant} (${active.join(', ')}); keys change through POST /v1/tenants/${tenant}/keys and DELETE .../keys/{kid}, so a retired key never comes back. Leave signing.keys out.`);
    }
    try {
      return json(200, summaryOf(await services.registry.putTenant(tenant, body)));
    } catch (error) {
      // The registry's InvalidConfig is the tenant's JSON failing the tenants file's rules.
      if (isPictorError(error) && error.code === 'InvalidConfig') throw new PictorError('InvalidRequest', error.message);
      throw error;
    }
  },
  removeTenant: async (services, { tenant }) => {
    await tenantOf(services, tenant);
    await services.registry.removeTenant(tenant);
    return json(200, { tenant, removed: true });
  },
  listKeys: async (services, { tenant }) => {
    await tenantOf(services, tenant);
    return json(200, { tenant, keys: await services.registry.listKeys(tenant) });
  },
  rotateKey: async (services, { event, tenant }) => {
    const body = readBody(event, RotateKeyBody);
    await tenantOf(services, tenant);
    const kid = await asRequest(() => services.registry.rotateKey(tenant, body.kid));
    return json(201, { tenant, kid, keys: await services.registry.listKeys(tenant) });
  },
  retireKey: async (services, { event, tenant }) => {
    await tenantOf(services, tenant);
    const kid = event.pathParameters?.kid ?? '';
    await asRequest(() => services.registry.retireKey(tenant, kid));
    return json(200, { tenant, kid, retired: true, keys: await services.registry.listKeys(tenant) });
  },
};

/**
 * A presigned POST for one original: the key is derived from tenant and id, and
 * S3 itself refuses a file outside the size range or of another content type,
 * before storing a byte. https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html
 */
async function createUpload(services: ApiServices, { event, tenant }: Call): Promise<Response> {
  const body = readBody(event, UploadBody);
  const config = await tenantOf(services, tenant);
  const { maxBytes, contentTypes } = config.uploads;
  if (!(contentTypes as readonly string[]).includes(body.contentType)) {
    throw new PictorError('UnsupportedContentType', `contentType: ${body.contentType} is not one tenant ${tenant} takes (${contentTypes.join(', ')}).`);
  }
  if (body.contentLength !== undefined && body.contentLength > maxBytes) {
    throw new PictorError('UploadTooLarge', `contentLength: ${body.contentLength} bytes is over tenant ${tenant}'s limit of ${maxBytes}.`);
  }
  const image = { tenant, imageId: body.imageId };
  // An id taken down stays down: the pipeline would discard the upload, so it is refused here first.
  const record = await services.versions.get(tenant, body.imageId);
  if (record?.tombstonedAt) throw new PictorError('Conflict', `${tenant}/${body.imageId} was taken down on ${record.tombstonedAt}; an upload under its id would be discarded. Use another id.`);
  const key = uploadKey(image);
  const minBytes = 1;
  const post = await createPresignedPost(services.s3, {
    Bucket: services.config.originalsBucket,
    Key: key,
    Conditions: [['content-length-range', minBytes, maxBytes], ['eq', '$Content-Type', body.contentType]],
    Fields: { 'Content-Type': body.contentType },
    Expires: UPLOAD_TICKET_SECONDS,
  });
  const ticket: UploadTicket = {
    tenant,
    imageId: body.imageId,
    key,
    upload: { method: 'POST', url: post.url, fields: post.fields, contentType: body.contentType, minBytes, maxBytes, expiresAt: new Date(now(services) + UPLOAD_TICKET_SECONDS * 1000).toISOString() },
    status: imagePath(tenant, body.imageId),
  };
  return json(201, ticket);
}

/** What the version map, the variants bucket and RenderOnUpload's executions say of an image. */
async function imageStatus(services: ApiServices, tenant: string, imageId: string): Promise<ImageStatus> {
  const config = await tenantOf(services, tenant);
  const record = await services.versions.get(tenant, imageId);
  const lastExecution = record?.lastUpload ? await noted(services, record.lastUpload.executionArn) : await lastUploadExecution(services, uploadKey({ tenant, imageId }));
  if (!record && !lastExecution) throw new PictorError('NotFound', `No image ${tenant}/${imageId}: nothing was uploaded under that id, or not recently enough to be listed.`);
  const version = record?.version ?? 0;
  const takenDown = record?.tombstonedAt !== undefined;
  const urls = version > 0 && !takenDown ? await canonicalUrls(services, tenant, imageId, version, config) : null;
  const variants = version > 0 && !takenDown ? await listVariants(services, tenant, imageId, version) : [];
  return {
    tenant,
    imageId,
    state: takenDown ? 'taken-down' : version > 0 ? 'published' : 'pending',
    version,
    publishedVersions: record?.publishedVersions ?? [],
    urls,
    variants,
    lastExecution,
    ...(takenDown ? { takenDownAt: record!.tombstonedAt } : {}),
  };
}

async function canonicalUrls(services: ApiServices, tenant: string, imageId: string, version: number, config: TenantConfig): Promise<ImageStatus['urls']> {
  const paths = { versioned: formatImagePath({ tenant, imageId, version }), unversioned: formatImagePath({ tenant, imageId }) };
  if (!config.signing.required) return { versioned: services.config.edgeUrl + paths.versioned, unversioned: services.config.edgeUrl + paths.unversioned };
  const ttl = Math.min(DEFAULT_SIGNED_TTL_SECONDS, config.signing.maxTtl);
  return {
    versioned: services.config.edgeUrl + (await signed(services, tenant, paths.versioned, ttl)),
    unversioned: services.config.edgeUrl + (await signed(services, tenant, paths.unversioned, ttl)),
  };
}

async function listVariants(services: ApiServices, tenant: string, imageId: string, version: number): Promise<ImageStatus['variants']> {
  const listed = await aws('S3', () =>
    services.s3.send(new ListObjectsV2Command({ Bucket: services.config.variantsBucket, Prefix: variantPrefix({ tenant, imageId, version }), MaxKeys: 1000 })),
  );
  return (listed.Contents ?? []).map((o) => ({ key: o.Key!, bytes: o.Size ?? 0 }));
}

/**
 * The execution RenderOnUpload's first task noted for the image's newest upload
 * (tasks/probe-original): one DescribeExecution, however busy the pipeline. Step
 * Functions forgets an execution 90 days after it ends.
 * https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html
 */
async function noted(services: ApiServices, executionArn: string): Promise<ExecutionSummary | null> {
  try {
    return summaryOfExecution(await services.sfn.send(new DescribeExecutionCommand({ executionArn })));
  } catch (error) {
    if ((error as Error).name === 'ExecutionDoesNotExist') return null;
    throw new PictorError('OriginUnavailable', `Step Functions did not answer: ${(error as Error).name}`, { cause: error });
  }
}

/**
 * For an upload no task noted (its tenant unknown, say), the newest RenderOnUpload
 * execution of this key's uploads: executions started
 * since the original was last written (or in the last day, when it is gone),
 * newest first, describing at most MAX_DESCRIBED.
 */
async function lastUploadExecution(services: ApiServices, key: string): Promise<ExecutionSummary | null> {
  const head = await services.s3.send(new HeadObjectCommand({ Bucket: services.config.originalsBucket, Key: key })).catch((error: { name?: string; $metadata?: { httpStatusCode?: number } }) => {
    if (error.name === 'NotFound' || error.$metadata?.httpStatusCode === 404) return undefined;
    throw new PictorError('OriginUnavailable', `S3 did not answer for ${key}: ${error.name}`, { cause: error });
  });
  // S3's LastModified has whole seconds; the execution starts after the write. An upload that was
  // rejected or discarded is no longer there: its execution is among the last day's.
  const since = head?.LastModified ? head.LastModified.getTime() - 1000 : now(services) - RECENT_UPLOAD_MS;
  const found = await findExecutions(services, services.config.stateMachines.RenderOnUpload, since, (input) => input?.detail?.object?.key === key, true);
  return found[0] ? summaryOfExecution(found[0]) : null;
}

/** Executions of a state machine started at or after `since`, newest first, whose input `matches`. */
async function findExecutions(
  services: ApiServices,
  stateMachineArn: string,
  since: number,
  matches: (input: any) => boolean,
  firstOnly = false,
): Promise<DescribeExecutionCommandOutput[]> {
  const found: DescribeExecutionCommandOutput[] = [];
  let described = 0;
  let nextToken: string | undefined;
  do {
    const page = await aws('Step Functions', () => services.sfn.send(new ListExecutionsCommand({ stateMachineArn, maxResults: 100, nextToken })));
    for (const summary of page.executions ?? []) {
      if ((summary.startDate?.getTime() ?? 0) < since || described >= MAX_DESCRIBED) return found;
      described++;
      const execution = await aws('Step Functions', () => services.sfn.send(new DescribeExecutionCommand({ executionArn: summary.executionArn })));
      if (!matches(parseJson(execution.input))) continue;
      found.push(execution);
      if (firstOnly) return found;
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return found;
}

function summaryOfExecution(execution: DescribeExecutionCommandOutput): ExecutionSummary {
  const output = parseJson(execution.output) as { outcome?: string; code?: string; reason?: string } | undefined;
  return {
    executionArn: execution.executionArn!,
    status: execution.status as ExecutionSummary['status'],
    startedAt: execution.startDate!.toISOString(),
    ...(execution.stopDate ? { stoppedAt: execution.stopDate.toISOString() } : {}),
    ...(typeof output?.outcome === 'string' ? { outcome: output.outcome } : {}),
    ...(typeof output?.code === 'string' ? { code: output.code } : {}),
    ...(typeof output?.reason === 'string' ? { reason: output.reason } : {}),
    ...(execution.error ? { error: execution.error } : {}),
    ...(execution.cause ? { cause: execution.cause } : {}),
  };
}

async function rerender(services: ApiServices, caller: Caller, body: z.infer<typeof RerenderBody>, tenant: string | undefined): Promise<Response> {
  const detail = { schemaVersion: 1 as const, requester: caller.arn, ...(tenant ? { tenant } : {}), ...body };
  checkDetail(RerenderRequestedV1, detail);
  const tenants = tenant ? { [tenant]: await tenantOf(services, tenant) } : await services.tenants.all();
  // Refused as the state machine's first task would refuse it, so that a mistake starts nothing.
  try {
    planRerender({ jobId: 'check', detail }, { tenants });
  } catch (error) {
    if (isPictorError(error) && error.code === 'InvalidEvent') throw new PictorError('InvalidRequest', error.message);
    throw error;
  }
  const jobId = await asRequest(() => putPictorEvent(services.events, services.config.eventBus, 'Rerender Requested', RerenderRequestedV1.parse(detail)), 'InvalidEvent');
  return accepted(services, tenant, { jobId, kind: 'rerender', requester: caller.arn });
}

function accepted(services: ApiServices, tenant: string | undefined, job: Omit<JobAccepted, 'status'>): Response {
  const status = tenant ? `/v1/tenants/${tenant}/jobs/${job.jobId}` : `/v1/jobs/${job.jobId}`;
  return json(202, { ...job, status } satisfies JobAccepted);
}

/**
 * A takedown batch's or re-render job's executions (a re-render continues as new
 * ones, each carrying the job's id), and its Distributed Map items. A job of
 * another tenant is NotFound to a tenant's caller, as an unknown one is.
 */
async function jobStatus(services: ApiServices, jobId: string, tenant: string | undefined): Promise<JobStatus> {
  const machines = services.config.stateMachines;
  const since = now(services) - 30 * 24 * 3600 * 1000;
  const takedowns = await findExecutions(services, machines.TakedownBatch, since, (input) => input?.batchId === jobId, true);
  const rerenders = takedowns.length > 0 ? [] : await findExecutions(services, machines.CatalogueRerender, since, (input) => input?.jobId === jobId);
  const executions = (takedowns.length > 0 ? takedowns : rerenders).slice().reverse();
  const kind = takedowns.length > 0 ? 'takedown' : 'rerender';
  const first = parseJson(executions[0]?.input);
  const jobTenant: string | undefined = kind === 'takedown' ? first?.detail?.items?.[0]?.tenant : (first?.detail?.tenant ?? first?.continuation?.job?.tenant);
  if (executions.length === 0 || (tenant !== undefined && jobTenant !== tenant)) {
    throw new PictorError('NotFound', `No job ${jobId}${tenant ? ` of tenant ${tenant}` : ''} among the recent executions; a job just requested starts within seconds.`);
  }
  const items = { total: 0, running: 0, succeeded: 0, failed: 0 };
  for (const execution of executions) {
    const { mapRuns = [] } = await aws('Step Functions', () => services.sfn.send(new ListMapRunsCommand({ executionArn: execution.executionArn })));
    for (const run of mapRuns) {
      const { itemCounts } = await aws('Step Functions', () => services.sfn.send(new DescribeMapRunCommand({ mapRunArn: run.mapRunArn })));
      items.total += itemCounts?.total ?? 0;
      items.running += itemCounts?.running ?? 0;
      items.succeeded += itemCounts?.succeeded ?? 0;
      items.failed += (itemCounts?.failed ?? 0) + (itemCounts?.timedOut ?? 0) + (itemCounts?.aborted ?? 0);
    }
  }
  const last = executions.at(-1)!;
  const output = parseJson(last.output);
  // A re-render's part that continued as a new execution is not the job's end.
  const continues = last.status === 'SUCCEEDED' && output?.continuedAs !== undefined;
  const state = last.status === 'RUNNING' || continues ? 'running' : last.status === 'SUCCEEDED' ? 'succeeded' : 'failed';
  return {
    jobId,
    kind,
    state,
    ...(jobTenant ? { tenant: jobTenant } : {}),
    executions: executions.map(summaryOfExecution),
    items,
    ...(state === 'succeeded' ? { output } : {}),
  };
}

/** The tenant's configuration as the pipeline reads it; an unknown tenant is a 404. */
async function tenantOf(services: ApiServices, tenant: string): Promise<TenantConfig> {
  try {
    return await services.tenants.lookup(tenant);
  } catch (error) {
    // The directory's InvalidEvent is its "No tenant 'x' is configured": one read, not a check and a read.
    if (isPictorError(error) && error.code === 'InvalidEvent') throw new PictorError('NotFound', `No tenant ${tenant}.`);
    throw error;
  }
}

/** A path and query of the tenant's images, signed with its newest key. */
async function signed(services: ApiServices, tenant: string, pathAndQuery: string, ttlSeconds: number): Promise<string> {
  const withKeys = await services.registry.tenantWithKeys(tenant);
  try {
    return signWithNewestKey(pathAndQuery, tenant, withKeys, new Date(now(services) + ttlSeconds * 1000), undefined, new Date(now(services)));
  } catch (error) {
    // signUrl refuses a query the edge would refuse, and a tenant without keys.
    if (isPictorError(error) && error.status < 500) throw new PictorError('InvalidRequest', error.message);
    if (isPictorError(error) && error.code === 'InvalidConfig') throw new PictorError('Conflict', `${error.message} Rotate a key first (POST /v1/tenants/${tenant}/keys).`);
    throw error;
  }
}

function summaryOf(summary: { tenant: string; config: TenantConfig; keys: readonly string[] }): TenantSummaryBody {
  // Never a secret: the keys by id only.
  return { tenant: summary.tenant, signed: summary.config.signing.required, keys: summary.keys, config: { ...summary.config, signing: { ...summary.config.signing, keys: {} } } };
}

function imageIdOf(event: APIGatewayProxyEventV2): string {
  const imageId = event.pathParameters?.imageId ?? '';
  if (!isImageId(imageId)) throw new PictorError('InvalidRequest', `'${imageId}' is not an image id: 1 to 128 of A-Z a-z 0-9 _ -, starting with a letter or digit.`);
  return imageId;
}

function jobIdOf(event: APIGatewayProxyEventV2): string {
  const jobId = event.pathParameters?.jobId ?? '';
  // EventBridge's event ids are UUIDs.
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(jobId)) throw new PictorError('InvalidRequest', `'${jobId}' is not a job id (the jobId a takedown or re-render request answered).`);
  return jobId;
}

function imagePath(tenant: string, imageId: string): string {
  return `/v1/tenants/${tenant}/images/${imageId}`;
}

/** The request's JSON body, checked by `schema` when one is given. */
function readBody<S extends z.ZodType>(event: APIGatewayProxyEventV2, schema: S): z.infer<S>;
function readBody(event: APIGatewayProxyEventV2, schema: undefined): unknown;
function readBody(event: APIGatewayProxyEventV2, schema: z.ZodType | undefined): unknown {
  const text = event.body === undefined ? '' : event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  let body: unknown;
  try {
    body = text === '' ? {} : JSON.parse(text);
  } catch (error) {
    throw new PictorError('InvalidRequest', `The body is not JSON: ${(error as Error).message}`);
  }
  if (!schema) return body;
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new PictorError('InvalidRequest', describeIssues(parsed.error.issues));
  return parsed.data;
}

function checkDetail(schema: z.ZodType, detail: unknown): void {
  const parsed = schema.safeParse(detail);
  if (!parsed.success) throw new PictorError('InvalidRequest', describeIssues(parsed.error.issues));
}

/**
 * A call whose refusal is the caller's mistake: the registry's (a key id taken, a key
 * unknown), or EventBridge's size limit on an event the request made too large.
 */
async function asRequest<T>(run: () => Promise<T>, code: 'InvalidConfig' | 'InvalidEvent' = 'InvalidConfig'): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (isPictorError(error) && error.code === code) throw new PictorError('InvalidRequest', `${error.message}${code === 'InvalidEvent' ? ' Send fewer images per request.' : ''}`);
    throw error;
  }
}

/** A call to an AWS service, whose failure is the service's, not the caller's. */
async function aws<T>(service: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new PictorError('OriginUnavailable', `${service} did not answer: ${(error as Error).name}`, { cause: error });
  }
}

function parseJson(text: string | undefined): any {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function now(services: ApiServices): number {
  return (services.now ?? Date.now)();
}

function json(status: number, body: unknown, text = JSON.stringify(body)): Response {
  return {
    statusCode: status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    body: text,
  };
}
