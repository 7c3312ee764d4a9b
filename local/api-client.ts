import { createHash, createHmac, type BinaryLike, type Hash, type Hmac } from 'node:crypto';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, HttpRequest, SourceData } from '@smithy/types';
import {
  API_ROUTES,
  type ApiErrorBody,
  type Health,
  type ImageStatus,
  type JobAccepted,
  type JobStatus,
  type RerenderRequest,
  type RouteName,
  type SignUrlRequest,
  type TakedownRequest,
  type TenantSummaryBody,
  type UploadRequest,
  type UploadTicket,
} from '../control-api/contract.ts';
import type { PublicPolicy } from '../core/public-policy.ts';
import { LOCAL_S3_CREDENTIALS } from './twin-names.ts';

/**
 * A client of the control-plane API (control-api/contract.ts), for the CLI: each
 * route of API_ROUTES, signed with SigV4 for `execute-api` as API Gateway's IAM
 * authorization checks it, against the twin's API or a deployment's.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-access-control-iam.html
 */

/** The region the twin's API signs in: the pipeline's, where the twin puts the originals. */
export const TWIN_REGION = 'us-east-1';

/** An answer of the API that is not a 2xx: its status and, when the handler answered, its `{code, message}`. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    /** The HTTP status. */
    readonly status: number,
    /** The handler's stable code; undefined when API Gateway answered itself (`{"message": "Forbidden"}`). */
    readonly code: string | undefined,
    message: string,
    /** `METHOD /path` of the request. */
    readonly request: string,
  ) {
    super(message);
  }

  /** API Gateway's own refusal: the caller's IAM policies do not allow `execute-api:Invoke` on the route. */
  get forbidden(): boolean {
    return this.status === 403 && this.code === undefined && this.message === 'Forbidden';
  }
}

/** The API did not answer at all (refused, reset, timed out). */
export class ApiUnreachable extends Error {
  override readonly name = 'ApiUnreachable';
}

/** Where the API is, and who calls it. */
export interface ApiTarget {
  /** The API's base URL: the twin's, or a deployment's ControlApiUrl output. */
  readonly url: string;
  /**
   * The region SigV4 signs for: the one the execute-api host names, or `--region`. Undefined
   * for a custom domain without `--region`: the client asks `/v1/health` which region answers.
   */
  readonly region: string | undefined;
  /** Whether this is the local twin's API (whose STS answers on its control port). */
  readonly twin: boolean;
  /** Signs requests: the caller's credentials. */
  readonly credentials: AwsCredentialIdentityProvider;
  /** Who the caller is, as STS names them: for the one line that says a request was refused. */
  readonly caller: () => Promise<string>;
}

export interface ApiAccessOptions {
  /** `--api` or PICTOR_API_URL: a deployment's API. @default the twin's (PICTOR_API_PORT) */
  readonly api?: string;
  /**
   * `--region`: the region to sign for, for an API on a custom domain, whose host names no region.
   * @default the region the API's `/v1/health` names (a latency-routed domain answers from the nearest)
   */
  readonly region?: string;
  /** `--role-arn`: a role to assume first (a tenant's), with the credentials found. */
  readonly roleArn?: string;
  /** The twin's API and its control port (STS), from endpointsOf(settings). */
  readonly twinEndpoints: { readonly api: string; readonly control: string };
  /** AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_PROFILE, AWS_REGION, USER, PICTOR_API_URL. */
  readonly env: NodeJS.ProcessEnv;
  /** Clients made here, for the caller to destroy when the run ends. */
  readonly clients: { destroy(): void }[];
}

/** A mistake in where the API is or whom to act as, found before any request: the CLI exits 2 with it. */
export class ApiAccessError extends Error {
  override readonly name = 'ApiAccessError';
}

/**
 * The API to call and the credentials to call it with:
 * - a deployment's (`--api`, PICTOR_API_URL), signed in the region its execute-api host
 *   names (`{id}.execute-api.{region}.amazonaws.com`), or for a custom domain in `--region`
 *   or else the region its `/v1/health` names (ApiClient asks), with credentials from the
 *   usual AWS sources (environment, profile, SSO, container or instance role);
 * - else the twin's, with credentials given in the environment (AWS_ACCESS_KEY_ID, or
 *   AWS_PROFILE) or, with none configured, the twin's fixed admin keys: so the twin
 *   needs no configuration, and a developer's default profile is not sent to it.
 * With `roleArn`, those credentials assume the role first (STS; the twin's answers on
 * its control port), and the role's session calls the API.
 */
export async function resolveApiAccess(options: ApiAccessOptions): Promise<ApiTarget> {
  const { env } = options;
  const given = options.api ?? env.PICTOR_API_URL;
  const twin = given === undefined || given === '';
  let url: URL;
  try {
    url = new URL(twin ? options.twinEndpoints.api : given);
  } catch {
    throw new ApiAccessError(`--api must be the API's URL (the stack's ControlApiUrl output, https://{id}.execute-api.{region}.amazonaws.com/), not '${given}'.`);
  }
  if (!/^https?:$/.test(url.protocol)) throw new ApiAccessError(`--api must be an http(s) URL (the stack's ControlApiUrl output), not '${given}'.`);
  // Not AWS_REGION: the caller's default region need not be the one a latency-routed domain answers from.
  const region = twin ? TWIN_REGION : regionOf(url, options.region);
  const stsEndpoint = twin ? options.twinEndpoints.control : undefined;
  // STS answers in every region; the API's if known, else the caller's own.
  const stsRegion = region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';

  const fromEnvironment = env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
    ? { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) }
    : undefined;
  let base: AwsCredentialIdentityProvider;
  let described: string;
  if (fromEnvironment) {
    base = async () => fromEnvironment;
    described = `the access key ${fromEnvironment.accessKeyId} from AWS_ACCESS_KEY_ID`;
  } else if (twin && !env.AWS_PROFILE) {
    base = async () => LOCAL_S3_CREDENTIALS;
    described = "the twin's admin keys";
  } else {
    // The SDK's default chain: profile (AWS_PROFILE), SSO, process, web identity, container, instance.
    // https://docs.aws.amazon.com/sdk-for-javascript/v3/developer-guide/setting-credentials-node.html
    const chain = fromNodeProviderChain(env.AWS_PROFILE ? { profile: env.AWS_PROFILE } : {});
    described = env.AWS_PROFILE ? `the profile ${env.AWS_PROFILE}` : 'the default credential chain';
    base = () =>
      chain().catch((error: Error) => {
        throw new Error(`No AWS credentials from ${described} to sign for ${url.host}: ${error.message} (set AWS_PROFILE, or sign in with 'aws sso login' or 'aws configure').`);
      });
  }
  const sts = (credentials: AwsCredentialIdentityProvider) => {
    const client = new STSClient({ region: stsRegion, credentials, maxAttempts: 1, ...(stsEndpoint ? { endpoint: stsEndpoint } : {}) });
    options.clients.push(client);
    return client;
  };

  if (!options.roleArn) {
    let identity: Promise<string> | undefined;
    // Asked only when a request is refused: who signed it.
    const caller = () =>
      (identity ??= sts(base)
        .send(new GetCallerIdentityCommand({}))
        .then(
          (answer) => `${answer.Arn} (${described})`,
          () => described,
        ));
    return { url: url.href, region, twin, credentials: base, caller };
  }
  if (!/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/.test(options.roleArn)) {
    throw new ApiAccessError(`--role-arn must be a role's ARN, arn:aws:iam::ACCOUNT:role/NAME, not '${options.roleArn}'.`);
  }
  // 2 to 64 of [\w+=,.@-]. https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html#API_AssumeRole_RequestParameters
  const session = `pictor-cli-${(env.USER ?? 'user').replace(/[^\w+=,.@-]/g, '')}`.slice(0, 64);
  const assumed = await sts(base)
    .send(new AssumeRoleCommand({ RoleArn: options.roleArn, RoleSessionName: session }))
    .catch((error: Error) => {
      // A role that does not exist and one the caller may not assume are both AccessDenied: a failure, not a mistake in the line.
      if (error.name === 'AccessDenied' || error.name === 'AccessDeniedException') throw new Error(`${described} may not assume ${options.roleArn}: ${error.message}`);
      throw new Error(`STS did not let ${described} assume ${options.roleArn}: ${error.name}: ${error.message}`);
    });
  const c = assumed.Credentials!;
  const credentials: AwsCredentialIdentity = { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken, expiration: c.Expiration };
  const arn = assumed.AssumedRoleUser?.Arn ?? options.roleArn;
  return { url: url.href, region, twin, credentials: async () => credentials, caller: async () => `${arn} (assumed with ${described})` };
}

/**
 * The region to sign for, from an API's URL: an execute-api host names it; a custom domain
 * does not, and the region is then the one given, or undefined: ask the API's `/v1/health`.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-call.html
 */
export function regionOf(url: URL, given: string | undefined): string | undefined {
  const named = /^[a-z0-9]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(url.hostname)?.[1];
  if (named) return named;
  if (given === undefined || given === '') return undefined;
  if (!REGION.test(given)) throw new ApiAccessError(`--region must be an AWS region such as eu-west-1, not '${given}'.`);
  return given;
}

/** An AWS region's code: eu-west-1, us-gov-west-1, cn-north-1. */
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/**
 * API Gateway's refusal of a signature scoped to another region than its own: behind a
 * latency-routed domain, the DNS answer moved the caller to another region since it
 * asked `/v1/health`. A SigV4 signature's credential scope names one region
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-signing-elements.html).
 */
function scopedToAnotherRegion(status: number, message: string): boolean {
  return status === 403 && /credential should be scoped to a valid region/i.test(message);
}

/** The path parameters a route's path declares: `{tenant}` and `{imageId}` of `/v1/tenants/{tenant}/images/{imageId}`. */
type ParamsOf<P extends string> = P extends `${string}{${infer Name}}${infer Rest}` ? { readonly [K in Name]: string } & ParamsOf<Rest> : {};
export type RouteParams<R extends RouteName> = ParamsOf<(typeof API_ROUTES)[R]['path']>;

/** Node's SHA-256 (and HMAC-SHA-256, given a secret) in the shape SignatureV4 hashes with. */
export class Sha256 {
  private hash: Hash | Hmac;
  private readonly secret?: BinaryLike;
  constructor(secret?: SourceData) {
    this.secret = secret === undefined ? undefined : bytesOf(secret);
    this.hash = this.fresh();
  }
  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', this.secret);
  }
  update(data: SourceData): void {
    this.hash.update(bytesOf(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.fresh();
  }
}

function bytesOf(data: SourceData): BinaryLike {
  if (typeof data === 'string') return data;
  return ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);
}

/**
 * The API's routes, each a method, signed. For a target without a region (a custom domain,
 * no `--region`), the first signed call asks `/v1/health` which region answers, and signs for
 * it; a call refused for a signature scoped to another region asks again and is sent once more.
 */
export class ApiClient {
  private readonly signers = new Map<string, SignatureV4>();
  private region: Promise<string> | undefined;

  constructor(
    readonly target: ApiTarget,
    private readonly timeoutMs = 30_000,
  ) {}

  /** The region requests are signed for: the target's, or the one `/v1/health` names (asked once, until refused). */
  signingRegion(): Promise<string> {
    if (this.target.region !== undefined) return Promise.resolve(this.target.region);
    return (this.region ??= this.askRegion().catch((error: Error) => {
      this.region = undefined;
      throw error;
    }));
  }

  private async askRegion(): Promise<string> {
    const health = (await this.send('health', {}, undefined)) as Partial<Health> | undefined;
    const region = health?.region;
    if (typeof region !== 'string' || !REGION.test(region)) {
      throw new Error(`The API at ${this.target.url} answered GET /v1/health with no region (${JSON.stringify(health)?.slice(0, 200)}), so the region to sign for is unknown: give it with --region.`);
    }
    return region;
  }

  private signer(region: string): SignatureV4 {
    let signer = this.signers.get(region);
    if (!signer) {
      signer = new SignatureV4({ service: 'execute-api', region, credentials: this.target.credentials, sha256: Sha256 });
      this.signers.set(region, signer);
    }
    return signer;
  }

  /**
   * Calls a route and returns its JSON answer.
   * @throws {ApiError} on any answer but a 2xx
   * @throws {ApiUnreachable} when nothing answered
   */
  async call<R extends RouteName>(route: R, params: RouteParams<R>, body?: unknown): Promise<unknown> {
    if (API_ROUTES[route].access === 'public') return this.send(route, params, body);
    const region = await this.signingRegion();
    try {
      return await this.send(route, params, body, region);
    } catch (error) {
      // A failover moved the domain's answer to another region: ask which, and send once more.
      if (!(error instanceof ApiError) || this.target.region !== undefined || !scopedToAnotherRegion(error.status, error.message)) throw error;
      this.region = undefined;
      return this.send(route, params, body, await this.signingRegion());
    }
  }

  /** Sends one request, signed for `region` when given. */
  private async send<R extends RouteName>(route: R, params: RouteParams<R>, body: unknown, region?: string): Promise<unknown> {
    const declared = API_ROUTES[route];
    const path = declared.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent((params as Record<string, string>)[name] ?? ''));
    const base = new URL(this.target.url);
    const url = new URL(base.pathname.replace(/\/+$/, '') + path, base);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const request: HttpRequest = {
      method: declared.method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query: {},
      headers: { host: url.host, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(payload === undefined ? {} : { body: payload }),
    };
    const signed = region === undefined ? request : await this.signer(region).sign(request);
    // fetch sets Host itself, to the same value.
    const { host: _host, ...headers } = signed.headers;
    const what = `${declared.method} ${path}`;
    const response = await fetch(url, { method: declared.method, headers, body: payload, signal: AbortSignal.timeout(this.timeoutMs) }).catch((error: Error) => {
      const cause = (error.cause as Error | undefined)?.message ?? error.message;
      throw new ApiUnreachable(
        this.target.twin
          ? `The twin's API at ${this.target.url.replace(/\/$/, '')} did not answer (is 'npm start' running? PICTOR_API_PORT says where): ${cause}`
          : `The API at ${this.target.url} did not answer: ${cause}`,
      );
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (response.ok) return json;
    const error = json as Partial<ApiErrorBody> | undefined;
    const message = typeof error?.message === 'string' ? error.message : text.slice(0, 200) || response.statusText;
    throw new ApiError(response.status, typeof error?.code === 'string' ? error.code : undefined, message, what);
  }

  health(): Promise<unknown> {
    return this.call('health', {});
  }
  createUpload(tenant: string, request: UploadRequest): Promise<UploadTicket> {
    return this.call('createUpload', { tenant }, request) as Promise<UploadTicket>;
  }
  getImage(tenant: string, imageId: string): Promise<ImageStatus> {
    return this.call('getImage', { tenant, imageId }) as Promise<ImageStatus>;
  }
  /** The answer's shape is not in the contract: `{url}` at least. */
  signUrl(tenant: string, request: SignUrlRequest): Promise<{ url: string; expiresAt?: string }> {
    return this.call('signUrl', { tenant }, request) as Promise<{ url: string; expiresAt?: string }>;
  }
  getPolicy(tenant: string): Promise<PublicPolicy> {
    return this.call('getPolicy', { tenant }) as Promise<PublicPolicy>;
  }
  requestTakedown(tenant: string, request: TakedownRequest): Promise<JobAccepted> {
    return this.call('requestTakedown', { tenant }, request) as Promise<JobAccepted>;
  }
  /** A tenant's catalogue, or with no tenant every tenant's (an admin's). */
  requestRerender(tenant: string | undefined, request: RerenderRequest): Promise<JobAccepted> {
    return (tenant === undefined ? this.call('rerenderAll', {}, request) : this.call('requestRerender', { tenant }, request)) as Promise<JobAccepted>;
  }
  /** A job of a tenant, or with no tenant any job (an admin's). */
  getJob(tenant: string | undefined, jobId: string): Promise<JobStatus> {
    return (tenant === undefined ? this.call('getAnyJob', { jobId }) : this.call('getJob', { tenant, jobId })) as Promise<JobStatus>;
  }
  listTenants(): Promise<readonly TenantSummaryBody[]> {
    return this.call('listTenants', {}).then(listOf) as Promise<readonly TenantSummaryBody[]>;
  }
  putTenant(tenant: string, config: unknown): Promise<TenantSummaryBody> {
    return this.call('putTenant', { tenant }, config) as Promise<TenantSummaryBody>;
  }
  removeTenant(tenant: string): Promise<unknown> {
    return this.call('removeTenant', { tenant });
  }
  listKeys(tenant: string): Promise<readonly string[]> {
    return this.call('listKeys', { tenant }).then(listOf) as Promise<readonly string[]>;
  }
  /** The new key's id. */
  rotateKey(tenant: string, kid?: string): Promise<unknown> {
    return this.call('rotateKey', { tenant }, kid === undefined ? {} : { kid });
  }
  retireKey(tenant: string, kid: string): Promise<unknown> {
    return this.call('retireKey', { tenant, kid });
  }
}

/** A list answered bare, or as the one array property of an object (`{tenants: [...]}`). */
function listOf(answer: unknown): unknown[] {
  if (Array.isArray(answer)) return answer;
  const arrays = Object.values((answer ?? {}) as object).filter(Array.isArray);
  if (arrays.length === 1) return arrays[0] as unknown[];
  throw new Error(`The API answered a list with ${JSON.stringify(answer)?.slice(0, 200)}.`);
}
