import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CloudFrontRequest, CloudFrontResultResponse } from 'aws-lambda';
import { errorBody } from '../../core/error-codes.ts';
import type { OriginRequestHandler } from '../../edge-fallback/origin-request/handler.ts';
import type { CfFunctionRequest, CfFunctionResponse, CfValues } from '../../edge-fallback/viewer-request/cf-function-event.ts';
import { EdgeCache, staleness, type CachedResponse } from './edge-cache.ts';
import { behaviorFor, withResponseHeaders, type Behavior, type DistributionConfig, type ResponseHeadersPolicy, type S3Origin } from './distribution.ts';
import { freshnessOf } from './freshness.ts';
import { isFunctionResponse, type ViewerFunctionRuntime } from './function-runtime.ts';
import { originRequestEvent } from './origin-event.ts';
import { viewerRequestEvent, viewerResponseEvent } from './viewer-event.ts';

export interface EdgeOptions {
  readonly viewer: ViewerFunctionRuntime;
  /**
   * The viewer-response function, in the same runtime and with the same live store.
   * @default none; required when a behaviour of the distribution associates one
   */
  readonly viewerResponse?: ViewerFunctionRuntime;
  readonly originRequest: OriginRequestHandler;
  /** The synthesized distribution: behaviours, cache and response headers policies, the origin group. */
  readonly distribution: DistributionConfig;
  /** Where each region's S3 answers, for CloudFront's own fetches. */
  readonly s3Endpoints: Readonly<Record<string, string>>;
  /** @default 256 MiB */
  readonly cacheBytes?: number;
  /** Milliseconds since the epoch. @default Date.now */
  readonly clock?: () => number;
}

interface OriginResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
  /**
   * Made by an edge function or by CloudFront itself rather than fetched from S3.
   * AWS documents a response headers policy for cached and origin responses only,
   * so the twin does not apply it to these until they are served from the cache.
   */
  readonly generated?: boolean;
}

type XCache = 'Hit' | 'Miss' | 'RefreshHit' | 'Error' | 'FunctionGeneratedResponse';

export interface EdgeStats {
  requests: number;
  hits: number;
  misses: number;
  refreshHits: number;
  /** Origin-request handler invocations: what Origin Shield exists to minimise. */
  originRequests: number;
  /** Variants the origin-request function rendered and stored: the on-miss transforms (counted from S3). */
  originRenders: number;
  failovers: number;
}

/** Headers a generated response may not set: CloudFront sets or drops them itself. */
const CLOUDFRONT_HEADERS = new Set(['content-length', 'connection', 'transfer-encoding', 'keep-alive', 'via', 'x-cache']);

/**
 * The twin's CloudFront: the viewer function, a cache keyed as the cache policy
 * keys it, request collapsing (Origin Shield's job), the origin-request handler,
 * and an origin group that fails over. https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/high_availability_origin_failover.html
 */
export class LocalEdge {
  readonly cache: EdgeCache;
  readonly stats: EdgeStats = { requests: 0, hits: 0, misses: 0, refreshHits: 0, originRequests: 0, originRenders: 0, failovers: 0 };
  private readonly inflight = new Map<string, Promise<OriginResponse>>();
  private readonly failover: ReadonlySet<number>;
  private readonly withPolicy = new WeakMap<object, Map<ResponseHeadersPolicy | undefined, Record<string, string>>>();
  private readonly clock: () => number;
  private server?: Server;

  constructor(private readonly options: EdgeOptions) {
    this.cache = new EdgeCache(options.cacheBytes ?? 256 * 1024 * 1024);
    this.failover = new Set(options.distribution.originGroup.failoverStatuses);
    this.clock = options.clock ?? Date.now;
    if (options.distribution.behaviors.some((b) => b.viewerResponse) && !options.viewerResponse) {
      throw new Error('The distribution runs a viewer-response function: pass its runtime as `viewerResponse`.');
    }
  }

  async listen(port: number, host = '127.0.0.1'): Promise<string> {
    this.server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' });
        response.end(errorBody('InternalError', String(error), false));
      });
    });
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve, reject) => this.server!.once('error', reject).listen(port, host, resolve));
    return `http://${host}:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => (this.server ? this.server.close(resolve) : resolve(undefined)));
  }

  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    this.stats.requests++;
    const [uri = '/', query = ''] = splitOnce(request.url ?? '/', '?');
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    // The behaviour follows the path the viewer asked for; its function may change the path afterwards.
    const behavior = behaviorFor(this.options.distribution, uri);
    const event = viewerRequestEvent({ method: request.method, uri, query, headers, ip: request.socket.remoteAddress });
    const viewed = await this.options.viewer.run(event);
    if (isFunctionResponse(viewed)) return send(response, request.method, fromFunctionResponse(viewed), 'FunctionGeneratedResponse');
    const deliver = async (result: OriginResponse | CachedResponse, outcome: XCache, ageSeconds?: number) => {
      // An error is reported as one, served from the cache or not (x-edge-result-type "Error").
      // https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logs-reference.html
      const xcache = result.status >= 400 ? 'Error' : outcome;
      const generated = 'generated' in result && result.generated === true;
      const headers = generated ? result.headers : this.viewerHeaders(result.headers, behavior);
      send(response, request.method, result, xcache, ageSeconds, await this.viewerResponse(behavior, viewed, result.status, headers, event.viewer.ip));
    };

    const key = this.cacheKey(viewed, behavior);
    const now = this.clock();
    const cached = this.cache.get(key);
    if (cached) {
      const state = staleness(cached, now);
      if (state === 'fresh') {
        this.stats.hits++;
        return deliver(cached, 'Hit', age(cached, now));
      }
      if (state === 'stale-while-revalidate') {
        // Serve the stale copy now; refresh it behind the viewer's back.
        void this.revalidate(key, viewed, cached, behavior).catch(() => undefined);
        this.stats.refreshHits++;
        return deliver(cached, 'RefreshHit', age(cached, now));
      }
      const { result, xcache } = await this.revalidate(key, viewed, cached, behavior);
      return deliver(result, xcache);
    }

    const leader = !this.inflight.has(key);
    const result = await this.collapse(key, () => this.fetch(viewed));
    if (leader) {
      this.stats.misses++;
      this.store(key, result, behavior);
    } else {
      this.stats.hits++;
    }
    return deliver(result, result.status >= 400 ? 'Error' : leader ? 'Miss' : 'Hit');
  }

  /**
   * The viewer-response function, where CloudFront runs it: on a behaviour that
   * associates it, for what is served from the cache or the origin (a response the
   * viewer-request function generated never gets here), below status 400, and
   * after the response headers policy, whose headers it sees and may replace.
   * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/function-code-choose-purpose.html
   * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/edge-function-restrictions-all.html
   * https://aws.amazon.com/blogs/networking-and-content-delivery/amazon-cloudfront-introduces-response-headers-policies/
   */
  private async viewerResponse(behavior: Behavior, request: CfFunctionRequest, status: number, headers: Record<string, string>, ip: string): Promise<Record<string, string>> {
    const runtime = this.options.viewerResponse;
    if (!behavior.viewerResponse || !runtime || status >= 400) return headers;
    const out = await runtime.run(viewerResponseEvent(request, status, headers, ip));
    if (!isFunctionResponse(out)) throw new Error('The viewer-response function returned no response.');
    if (out.statusCode !== status) throw new Error('The twin does not model a viewer-response function that changes the status.');
    const changed: Record<string, string> = {};
    for (const [name, entry] of Object.entries(out.headers ?? {})) if (!CLOUDFRONT_HEADERS.has(name)) changed[name] = entry.value;
    return changed;
  }

  /**
   * A response's headers as the behaviour's response headers policy makes them:
   * made once per cached response, as a hit is served many times.
   */
  private viewerHeaders(headers: Readonly<Record<string, string>>, behavior: Behavior): Record<string, string> {
    let byPolicy = this.withPolicy.get(headers);
    if (!byPolicy) this.withPolicy.set(headers, (byPolicy = new Map()));
    let out = byPolicy.get(behavior.responseHeaders);
    if (!out) byPolicy.set(behavior.responseHeaders, (out = withResponseHeaders(headers, behavior.responseHeaders)));
    return out;
  }

  /** The cache policy's key: the path, then the allowlisted query parameters in the order the function left them. */
  cacheKey(request: CfFunctionRequest, behavior: Behavior = behaviorFor(this.options.distribution, request.uri)): string {
    const allowed = behavior.cachePolicy.queryStrings;
    const kept = queryParts(request.querystring).filter((pair) => allowed.includes(splitOnce(pair, '=')[0]!));
    return kept.length > 0 ? `${request.uri}?${kept.join('&')}` : request.uri;
  }

  private async revalidate(key: string, request: CfFunctionRequest, cached: CachedResponse, behavior: Behavior): Promise<{ result: CachedResponse | OriginResponse; xcache: XCache }> {
    // Apart from plain misses, so a 304 only ever answers a conditional fetch.
    const result = await this.collapse(`${key}\n${cached.headers.etag ?? ''}`, () => this.fetch(request, cached.headers.etag));
    const now = this.clock();
    if (result.status === 304) {
      const headers = { ...cached.headers, ...(result.headers['cache-control'] ? { 'cache-control': result.headers['cache-control'] } : {}) };
      const refreshed: CachedResponse = { ...cached, headers, freshness: freshnessOf(cached.status, headers['cache-control'], behavior.cachePolicy), storedAt: now };
      this.cache.set(key, refreshed);
      this.stats.refreshHits++;
      return { result: refreshed, xcache: 'RefreshHit' };
    }
    if (result.status >= 500 && staleness(cached, now) !== 'expired') {
      this.stats.refreshHits++;
      return { result: cached, xcache: 'RefreshHit' };
    }
    this.stats.misses++;
    this.store(key, result, behavior);
    return { result, xcache: result.status >= 400 ? 'Error' : 'Miss' };
  }

  /** One origin fetch per key at a time; everyone else waits for its answer. */
  private collapse(key: string, fetch: () => Promise<OriginResponse>): Promise<OriginResponse> {
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = fetch().finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return pending;
  }

  private store(key: string, result: OriginResponse, behavior: Behavior): void {
    const freshness = freshnessOf(result.status, result.headers['cache-control'], behavior.cachePolicy);
    if (freshness.ttl > 0 || freshness.staleIfError > 0) {
      this.cache.set(key, { status: result.status, headers: result.headers, body: result.body, freshness, storedAt: this.clock() });
    }
  }

  /**
   * A miss, as CloudFront handles it for an origin group: the origin-request
   * function runs for the primary, then CloudFront fetches from that origin; it
   * tries the secondary (the function running again) only on what the origin
   * itself did: a failover status, a refused connection, a timeout. What the
   * function generates goes to the viewer as it is, and a function that fails is
   * CloudFront's own error: neither fails over.
   * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/high_availability_origin_failover.html
   * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-generating-http-responses.html
   */
  private async fetch(viewed: CfFunctionRequest, etag?: string): Promise<OriginResponse> {
    const querystring = queryParts(viewed.querystring).join('&');
    const [primary, secondary] = this.options.distribution.originGroup.members;
    let result: OriginResponse | 'unreachable' = 'unreachable';
    for (const origin of [primary, secondary]) {
      if (origin === secondary) this.stats.failovers++;
      const request = await this.originRequest(origin, viewed.uri, querystring, etag);
      if (!('uri' in request)) return request;
      result = await this.fetchS3(origin, request, etag);
      if (result !== 'unreachable' && !this.failover.has(result.status)) return result;
    }
    // The secondary's own failure is what the viewer gets; one that never answered is a 504.
    // https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/http-504-gateway-timeout.html
    return result === 'unreachable' ? cloudFrontError(504, 'OriginUnreachable', 'CloudFront could not reach the origin.') : result;
  }

  /**
   * The origin-request function, held to Lambda@Edge's rules: it ends at its
   * timeout (at most 30 s); a failure or a timeout is a 503 and a response over
   * 1 MB a 502, from CloudFront; it may rewrite the request but not point it
   * at another origin, which Origin Access Control would not sign.
   * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-limits.html#limits-lambda-at-edge
   * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/http-503-service-unavailable.html
   * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-restricting-access-to-s3.html
   */
  private async originRequest(origin: S3Origin, uri: string, querystring: string, etag?: string): Promise<CloudFrontRequest | OriginResponse> {
    this.stats.originRequests++;
    const event = originRequestEvent({ uri, querystring, originDomain: origin.domain, originHeaders: origin.customHeaders, headers: etag ? { 'If-None-Match': etag } : {} });
    const limit = this.options.distribution.originRequestTimeoutMs;
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    let out: CloudFrontRequest | CloudFrontResultResponse;
    try {
      out = await Promise.race([
        this.options.originRequest(event, { getRemainingTimeInMillis: () => limit - (Date.now() - started), invokedFunctionArn: this.options.distribution.originRequestFunctionArn }),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`The origin-request function ran past its ${limit} ms timeout.`)), limit))),
      ]);
    } catch (error) {
      console.error('twin edge: the origin-request function failed:', (error as Error).message);
      return cloudFrontError(503, 'LambdaExecutionError', 'The origin-request function failed.');
    } finally {
      clearTimeout(timer);
    }
    if ('status' in out) {
      const generated = fromGenerated(out);
      if (generatedSize(out) > GENERATED_RESPONSE_QUOTA) return cloudFrontError(502, 'LambdaValidationError', 'The origin-request function generated a response over 1 MB.');
      return generated;
    }
    const to = out.origin?.s3;
    if (!to || to.domainName !== origin.domain || (to.region && to.region !== origin.region) || to.authMethod === 'origin-access-identity') {
      console.error(`twin edge: the origin-request function pointed the request away from ${origin.domain}; Origin Access Control signs only the configured origin.`);
      return cloudFrontError(502, 'LambdaValidationError', 'The origin-request function changed the origin.');
    }
    return out;
  }

  /**
   * CloudFront fetching from an S3 origin as Origin Access Control lets it: with
   * no s3:ListBucket, a missing key answers 403. Connections are tried
   * `connectionAttempts` times for `connectionTimeout` each; once connected, the
   * response must start within the response timeout. 'unreachable' when neither
   * happened, on which the origin group fails over.
   * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/DownloadDistValuesOrigin.html
   * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html (403 without s3:ListBucket)
   */
  private async fetchS3(origin: S3Origin, request: CloudFrontRequest, etag?: string): Promise<OriginResponse | 'unreachable'> {
    const endpoint = this.options.s3Endpoints[origin.region];
    if (!endpoint) throw new Error(`The twin has no S3 endpoint for ${origin.region}.`);
    const path = `/${origin.bucket}${request.uri}${request.querystring ? `?${request.querystring}` : ''}`;
    for (let attempt = 1; attempt <= origin.connectionAttempts; attempt++) {
      const answer = await httpGet(endpoint, path, etag ? { 'if-none-match': etag } : {}, origin.connectionTimeoutMs, origin.responseTimeoutMs);
      if (answer === 'connect-failed') continue;
      if (answer === 'response-timeout') return 'unreachable';
      if (answer.status === 404) return { status: 403, headers: { 'content-type': 'application/xml' }, body: Buffer.from(S3_ACCESS_DENIED) };
      const headers: Record<string, string> = {};
      for (const name of FORWARDED_S3_HEADERS) if (answer.headers[name]) headers[name] = answer.headers[name]!;
      return { status: answer.status, headers, body: answer.body };
    }
    return 'unreachable';
  }
}

/** The headers of an S3 answer the twin keeps. */
const FORWARDED_S3_HEADERS = ['content-type', 'cache-control', 'etag', 'last-modified'];
const S3_ACCESS_DENIED = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>';

/**
 * A response generated by an origin-request function is at most 1 MB, its body
 * as sent (base64 grows it by a third) and its headers counted.
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-limits.html#limits-lambda-at-edge
 */
const GENERATED_RESPONSE_QUOTA = 1024 * 1024;

function generatedSize(out: CloudFrontResultResponse): number {
  return Buffer.byteLength(out.body ?? '') + Buffer.byteLength(JSON.stringify(out.headers ?? {}));
}

/** One GET, telling a failed connection from a response that never came. */
function httpGet(
  endpoint: string,
  path: string,
  headers: Record<string, string>,
  connectTimeoutMs: number,
  responseTimeoutMs: number,
): Promise<{ status: number; headers: Record<string, string | undefined>; body: Buffer } | 'connect-failed' | 'response-timeout'> {
  const url = new URL(endpoint);
  return new Promise((resolve) => {
    let settled = false;
    const done = (value: Awaited<ReturnType<typeof httpGet>>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(value);
    };
    const request = httpRequest({ host: url.hostname, port: url.port, path, method: 'GET', headers, agent: false });
    let timer = setTimeout(() => {
      request.destroy();
      done('connect-failed');
    }, connectTimeoutMs);
    request.on('socket', (socket) => {
      socket.once('connect', () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          request.destroy();
          done('response-timeout');
        }, responseTimeoutMs);
      });
    });
    request.on('response', (response) => {
      clearTimeout(timer);
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => done({ status: response.statusCode ?? 502, headers: response.headers as Record<string, string | undefined>, body: Buffer.concat(chunks) }));
      response.on('error', () => done('response-timeout'));
    });
    request.on('error', () => done('connect-failed'));
    request.end();
  });
}

/** An error CloudFront itself answers with. */
function cloudFrontError(status: number, code: string, message: string): OriginResponse {
  return { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' }, body: Buffer.from(JSON.stringify({ code, message })), generated: true };
}

function send(response: ServerResponse, method: string | undefined, result: OriginResponse | CachedResponse, xcache: XCache, ageSeconds?: number, viewerHeaders = result.headers): void {
  const headers: Record<string, string | number> = {
    ...viewerHeaders,
    'x-cache': `${xcache} from cloudfront`,
    via: '1.1 local.cloudfront.net (CloudFront)',
    'x-amz-cf-pop': 'LOCAL1',
    'content-length': result.body.length,
  };
  if (ageSeconds !== undefined) headers.age = ageSeconds;
  response.writeHead(result.status, headers);
  response.end(method === 'HEAD' ? undefined : result.body);
}

function fromGenerated(out: CloudFrontResultResponse): OriginResponse {
  const headers: Record<string, string> = {};
  for (const [name, values] of Object.entries(out.headers ?? {})) if (!CLOUDFRONT_HEADERS.has(name) && values[0]) headers[name] = values[0].value;
  return { status: Number(out.status), headers, body: Buffer.from(out.body ?? '', out.bodyEncoding === 'base64' ? 'base64' : 'utf8'), generated: true };
}

function fromFunctionResponse(out: CfFunctionResponse): OriginResponse {
  const headers: Record<string, string> = {};
  for (const [name, entry] of Object.entries(out.headers ?? {})) headers[name] = entry.value;
  const body = typeof out.body === 'string' ? Buffer.from(out.body) : Buffer.from(out.body?.data ?? '', out.body?.encoding === 'base64' ? 'base64' : 'utf8');
  return { status: out.statusCode, headers, body };
}

/** The `name=value` parts of a query the function left as a string or as CloudFront's object. */
function queryParts(querystring: CfValues | string): string[] {
  if (typeof querystring === 'string') return querystring.split('&').filter(Boolean);
  return Object.entries(querystring).flatMap(([name, entry]) => (entry.multiValue ?? [entry]).map((v) => `${name}=${v.value}`));
}

function splitOnce(text: string, separator: string): [string, string?] {
  const at = text.indexOf(separator);
  return at < 0 ? [text] : [text.slice(0, at), text.slice(at + 1)];
}

function age(entry: CachedResponse, now: number): number {
  return Math.max(0, Math.floor((now - entry.storedAt) / 1000));
}
