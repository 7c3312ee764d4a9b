import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { IdentityError, type LocalIdentities } from './iam/identities.ts';
import { authorize } from './iam/policy.ts';
import { verifySigV4, type KnownKey } from './iam/sigv4.ts';
import { s3KeyPairOf } from './s3-key-pairs.ts';
import { LOCAL_ACCOUNT, LOCAL_REGION, resolveTokens, type CfnTemplate } from './pipeline/template.ts';

/** A Lambda function as the twin calls it for an API route: payload format 2.0 in, its result out. */
export type LocalApiFunction = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2 | string | undefined>;

/** One route of the template's HTTP API. */
export interface LocalRoute {
  readonly method: string;
  /** Path segments; `{name}` a parameter, `{name+}` the greedy rest. */
  readonly segments: readonly string[];
  readonly routeKey: string;
  readonly authorization: 'AWS_IAM' | 'NONE';
  /** The integration's function, by ARN. */
  readonly functionArn: string;
  /** The function's timeout, capped at the integration's. */
  readonly timeoutMs: number;
}

export interface LocalHttpApi {
  readonly apiId: string;
  readonly routes: readonly LocalRoute[];
  /** The API's CORS configuration, when it has one. */
  readonly cors?: LocalCors;
}

/** AWS::ApiGatewayV2::Api CorsConfiguration. */
export interface LocalCors {
  readonly AllowOrigins?: readonly string[];
  readonly AllowMethods?: readonly string[];
  readonly AllowHeaders?: readonly string[];
  readonly ExposeHeaders?: readonly string[];
  readonly MaxAge?: number;
}

/**
 * API Gateway's quotas for HTTP APIs: an integration answers within 30 s, a
 * request's line and headers take at most 10,240 bytes, its payload 10 MB.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html
 */
export const HTTP_API_QUOTAS = { integrationTimeoutMs: 30_000, requestLineAndHeadersBytes: 10_240, payloadBytes: 10 * 1024 * 1024 } as const;

/**
 * The HTTP APIs a synthesized template holds: each route's key, its authorization
 * and the Lambda function its integration invokes. Only Lambda proxy integrations
 * with payload format 2.0 are served; the twin refuses to start on anything else.
 */
export function readHttpApis(template: CfnTemplate, names: Readonly<Record<string, string>>): LocalHttpApi[] {
  const resources = template.Resources;
  const apis = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::ApiGatewayV2::Api');
  return apis.map(([apiLogicalId, api]) => {
    if (api.Properties?.ProtocolType !== 'HTTP') throw new Error(`The twin serves HTTP APIs; ${apiLogicalId} is ${api.Properties?.ProtocolType}.`);
    const routes: LocalRoute[] = [];
    for (const [id, route] of Object.entries(resources)) {
      if (route.Type !== 'AWS::ApiGatewayV2::Route' || route.Properties?.ApiId?.Ref !== apiLogicalId) continue;
      const routeKey = String(route.Properties.RouteKey);
      const target = resolveTokens(route.Properties.Target, template, names) as string | undefined;
      const integrationId = Object.keys(resources).find((key) => resources[key]!.Type === 'AWS::ApiGatewayV2::Integration' && target === `integrations/${resolveTokens({ Ref: key }, template, names)}`);
      const integration = integrationId ? resources[integrationId] : undefined;
      if (!integration || integration.Properties?.IntegrationType !== 'AWS_PROXY' || integration.Properties?.PayloadFormatVersion !== '2.0') {
        throw new Error(`Route ${routeKey} (${id}) must integrate a Lambda function with payload format 2.0 for the twin to serve it.`);
      }
      const functionId = integration.Properties.IntegrationUri?.['Fn::GetAtt']?.[0] as string | undefined;
      const fn = functionId ? resources[functionId] : undefined;
      if (!fn || fn.Type !== 'AWS::Lambda::Function') throw new Error(`Route ${routeKey}'s integration invokes no Lambda function of this template.`);
      const [method, path] = routeKey.split(' ') as [string, string];
      routes.push({
        method,
        segments: path.split('/').filter(Boolean),
        routeKey,
        authorization: route.Properties.AuthorizationType === 'AWS_IAM' ? 'AWS_IAM' : 'NONE',
        functionArn: resolveTokens({ 'Fn::GetAtt': [functionId, 'Arn'] }, template, names),
        timeoutMs: Math.min(Number(fn.Properties?.Timeout ?? 3) * 1000, HTTP_API_QUOTAS.integrationTimeoutMs),
      });
    }
    const cors = api.Properties?.CorsConfiguration as LocalCors | undefined;
    return { apiId: resolveTokens({ Ref: apiLogicalId }, template, names) as string, routes, ...(cors ? { cors } : {}) };
  });
}

/**
 * The route a request matches: a route of the same method whose literal segments
 * are equal; `{param}` takes one segment, `{param+}` the rest. The most specific
 * route wins, literal segments before parameters.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html
 */
export function matchRoute(routes: readonly LocalRoute[], method: string, path: string): { route: LocalRoute; parameters: Record<string, string> } | undefined {
  const segments = path.split('/').filter(Boolean);
  let best: { route: LocalRoute; parameters: Record<string, string>; literals: number } | undefined;
  for (const route of routes) {
    if (route.method !== method && route.method !== 'ANY') continue;
    const parameters: Record<string, string> = {};
    let literals = 0;
    let matched = true;
    for (let i = 0; i < route.segments.length && matched; i++) {
      const part = route.segments[i]!;
      const greedy = /^\{(.+)\+\}$/.exec(part);
      if (greedy) {
        if (i >= segments.length) matched = false;
        else parameters[greedy[1]!] = segments.slice(i).join('/');
        break;
      }
      const value = segments[i];
      if (value === undefined) matched = false;
      else if (/^\{.+\}$/.test(part)) parameters[part.slice(1, -1)] = decodeURIComponent(value);
      else if (part === value) literals++;
      else matched = false;
    }
    const greedyRoute = route.segments.some((p) => p.endsWith('+}'));
    if (matched && !greedyRoute && route.segments.length !== segments.length) matched = false;
    if (matched && (!best || literals > best.literals)) best = { route, parameters, literals };
  }
  return best && { route: best.route, parameters: best.parameters };
}

export interface LocalApiGatewayOptions {
  readonly api: LocalHttpApi;
  /** The functions the routes invoke, by ARN. */
  readonly functions: ReadonlyMap<string, LocalApiFunction>;
  readonly identities: LocalIdentities;
  /** 0 picks a free port. */
  readonly port?: number;
}

/**
 * An HTTP API's default stage on loopback, as API Gateway serves it: the route
 * the request matches, IAM authorization for AWS_IAM routes (a valid SigV4 signature
 * for execute-api in the twin's region, by a key the twin issued, with its session's
 * token; then the signer's identity policies must allow execute-api:Invoke on the
 * route's ARN), and a Lambda proxy integration with payload format 2.0.
 * API Gateway's own refusals are `{"message": ...}`, as AWS words them.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-access-control-iam.html
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
 *
 * The twin does not throttle.
 */
export async function startLocalApiGateway(options: LocalApiGatewayOptions): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const server = createServer((request, response) => void serve(options, request, response));
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(options.port ?? 0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    server,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

async function serve(options: LocalApiGatewayOptions, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const send = (status: number, message: string, errorType?: string): void =>
    void response.writeHead(status, { 'content-type': 'application/json', ...(errorType ? { 'x-amzn-errortype': errorType } : {}) }).end(JSON.stringify({ message }));
  try {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const headerBytes = `${request.method} ${request.url} HTTP/1.1\r\n`.length + request.rawHeaders.reduce((n, h) => n + Buffer.byteLength(h) + 2, 0);
    if (headerBytes > HTTP_API_QUOTAS.requestLineAndHeadersBytes) return send(431, 'Request Header Fields Too Large');
    const body = await readBody(request, HTTP_API_QUOTAS.payloadBytes);
    if (body === undefined) return send(413, 'Request Entity Too Large');
    const method = request.method ?? 'GET';
    const cors = corsHeaders(options.api.cors, request);
    // With CORS configured, API Gateway answers a preflight itself, unauthenticated, whatever the routes.
    // https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-cors.html
    if (options.api.cors && method === 'OPTIONS' && request.headers['access-control-request-method']) {
      return void response.writeHead(204, cors?.preflight ?? {}).end();
    }
    // A path whose percent-encoding does not decode is the client's mistake, refused before any route.
    // https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html
    if (!decodes(url.pathname)) return send(400, 'Bad Request');
    const matched = matchRoute(options.api.routes, method, url.pathname);
    if (!matched) return send(404, 'Not Found');
    const { route, parameters } = matched;
    let callerArn: string | undefined;
    let accessKey: string | undefined;
    if (route.authorization === 'AWS_IAM') {
      const authorization = request.headers.authorization;
      try {
        // API Gateway verifies the SigV4 signature before it evaluates the caller's policies.
        // https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-access-control-iam.html
        verifySigV4({ method, target: request.url ?? '/', rawHeaders: request.rawHeaders, body }, { region: LOCAL_REGION, service: 'execute-api', keyOf: (id) => keyOf(options.identities, id) });
        const identity = options.identities.callerOf(authorization);
        callerArn = options.identities.callerArnOf(authorization);
        accessKey = /Credential=([^/,\s]+)\//.exec(authorization ?? '')?.[1];
        // The route's ARN: arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{method}/{path}.
        // https://docs.aws.amazon.com/apigateway/latest/developerguide/arn-format-reference.html
        const resource = `arn:aws:execute-api:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${options.api.apiId}/$default/${method}${url.pathname}`;
        if (authorize({ principal: identity, action: 'execute-api:Invoke', resource }, { identity: identity.statements }).effect !== 'Allow') return send(403, 'Forbidden');
      } catch (error) {
        if (error instanceof IdentityError) return error.name === 'MissingAuthenticationTokenException' ? send(403, 'Forbidden') : send(403, error.message, error.name);
        throw error;
      }
    }
    const fn = options.functions.get(route.functionArn);
    if (!fn) return send(500, 'Internal Server Error');
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
    const query: Record<string, string> = {};
    for (const [name, value] of url.searchParams) query[name] = query[name] === undefined ? value : `${query[name]},${value}`;
    const now = new Date();
    const binary = body.length > 0 && !/^(application\/json|text\/)/.test(headers['content-type'] ?? '');
    const event = {
      version: '2.0',
      routeKey: route.routeKey,
      rawPath: url.pathname,
      rawQueryString: url.search.slice(1),
      headers,
      ...(url.search ? { queryStringParameters: query } : {}),
      ...(Object.keys(parameters).length ? { pathParameters: parameters } : {}),
      requestContext: {
        accountId: LOCAL_ACCOUNT,
        apiId: options.api.apiId,
        domainName: headers.host ?? 'localhost',
        domainPrefix: (headers.host ?? 'localhost').split('.')[0]!,
        http: { method, path: url.pathname, protocol: 'HTTP/1.1', sourceIp: request.socket.remoteAddress ?? '127.0.0.1', userAgent: headers['user-agent'] ?? '' },
        requestId: randomUUID(),
        routeKey: route.routeKey,
        stage: '$default',
        time: now.toUTCString(),
        timeEpoch: now.getTime(),
        ...(callerArn ? { authorizer: { iam: { accessKey, accountId: LOCAL_ACCOUNT, callerId: callerArn.split('/').slice(1).join(':'), userArn: callerArn, userId: callerArn.split('/').pop(), cognitoIdentity: null, principalOrgId: null } } } : {}),
      },
      ...(body.length ? { body: binary ? body.toString('base64') : body.toString('utf8'), isBase64Encoded: binary } : { isBase64Encoded: false }),
    } as unknown as APIGatewayProxyEventV2;
    let result: Awaited<ReturnType<LocalApiFunction>>;
    try {
      result = await withTimeout(fn(JSON.parse(JSON.stringify(event))), route.timeoutMs);
    } catch (error) {
      if ((error as Error).name === 'IntegrationTimeout') return send(503, 'Service Unavailable');
      return send(500, 'Internal Server Error');
    }
    // A result without statusCode is a JSON body of 200. https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html#http-api-develop-integrations-lambda.response
    const structured = result && typeof result === 'object' && 'statusCode' in result ? result : { statusCode: 200, body: JSON.stringify(result ?? null), headers: { 'content-type': 'application/json' } };
    const payload = structured.body === undefined ? Buffer.alloc(0) : structured.isBase64Encoded ? Buffer.from(structured.body, 'base64') : Buffer.from(structured.body);
    // API Gateway adds the configured CORS headers to the integration's answer.
    void response.writeHead(structured.statusCode ?? 200, { 'apigw-requestid': event.requestContext.requestId, ...(structured.headers as Record<string, string>), ...(cors?.response ?? {}) }).end(payload);
  } catch {
    if (!response.headersSent) send(500, 'Internal Server Error');
  }
}

/**
 * The CORS headers for a request from an allowed origin: a preflight's, and an
 * answer's. An origin the configuration does not allow gets none, so the browser
 * refuses the answer. https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-cors.html
 */
function corsHeaders(cors: LocalCors | undefined, request: IncomingMessage): { preflight: Record<string, string>; response: Record<string, string> } | undefined {
  const origin = request.headers.origin;
  if (!cors || typeof origin !== 'string') return undefined;
  const origins = cors.AllowOrigins ?? [];
  if (!origins.includes('*') && !origins.includes(origin)) return undefined;
  const allowOrigin = origins.includes('*') ? '*' : origin;
  const response: Record<string, string> = { 'access-control-allow-origin': allowOrigin, ...(cors.ExposeHeaders?.length ? { 'access-control-expose-headers': cors.ExposeHeaders.join(',') } : {}) };
  const preflight: Record<string, string> = {
    'access-control-allow-origin': allowOrigin,
    ...(cors.AllowMethods?.length ? { 'access-control-allow-methods': cors.AllowMethods.join(',') } : {}),
    ...(cors.AllowHeaders?.length ? { 'access-control-allow-headers': cors.AllowHeaders.join(',') } : {}),
    ...(cors.MaxAge !== undefined ? { 'access-control-max-age': String(cors.MaxAge) } : {}),
  };
  return { preflight, response };
}

/** The secret the twin issued with a key, and a role session's token (which the twin's S3 holds too). */
function keyOf(identities: LocalIdentities, accessKeyId: string): KnownKey | undefined {
  const secretAccessKey = identities.secretOf(accessKeyId);
  if (secretAccessKey === undefined) return undefined;
  const sessionToken = s3KeyPairOf(accessKeyId)?.sessionToken;
  return sessionToken === undefined ? { secretAccessKey } : { secretAccessKey, sessionToken };
}

function decodes(path: string): boolean {
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}

/** The request's body, or undefined past `limit` bytes. */
async function readBody(request: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error('The integration did not answer in time.'), { name: 'IntegrationTimeout' })), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
