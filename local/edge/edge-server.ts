import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { CloudFrontRequest, CloudFrontResultResponse } from 'aws-lambda';
import { errorBody } from '../../core/error-codes.ts';
import type { OriginRequestHandler } from '../../edge-fallback/origin-request/handler.ts';
import { parseS3OriginDomain } from '../../edge-fallback/origin-request/s3-adapters.ts';
import type { CfFunctionRequest, CfFunctionResponse, CfValues } from '../../edge-fallback/viewer-request/cf-function-event.ts';
import { EdgeCache, staleness, type CachedResponse } from './edge-cache.ts';
import { behaviorFor, withResponseHeaders, type Behavior, type DistributionConfig, type ResponseHeadersPolicy } from './distribution.ts';
import { freshnessOf } from './freshness.ts';
import { isFunctionResponse, type ViewerFunctionRuntime } from './function-runtime.ts';
import { originRequestEvent } from './origin-event.ts';
import { viewerRequestEvent } from './viewer-event.ts';

export interface EdgeOptions {
  readonly viewer: ViewerFunctionRuntime;
  readonly originRequest: OriginRequestHandler;
  /** The synthesized distribution: behaviours, cache and response headers policies, the origin group. */
  readonly distribution: DistributionConfig;
  /** Where the S3 origins' regions are served, for requests re-pointed at a bucket. */
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
  /** Of those, the ones that rendered (answered with a generated image): the on-miss transforms. */
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
  private readonly s3Clients = new Map<string, S3Client>();
  private readonly failover: ReadonlySet<number>;
  private readonly withPolicy = new WeakMap<object, Map<ResponseHeadersPolicy | undefined, Record<string, string>>>();
  private readonly clock: () => number;
  private server?: Server;

  constructor(private readonly options: EdgeOptions) {
    this.cache = new EdgeCache(options.cacheBytes ?? 256 * 1024 * 1024);
    this.failover = new Set(options.distribution.originGroup.failoverStatuses);
    this.clock = options.clock ?? Date.now;
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
    for (const client of this.s3Clients.values()) client.destroy();
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
    const deliver = (result: OriginResponse | CachedResponse, outcome: XCache, ageSeconds?: number) => {
      // An error is reported as one, served from the cache or not (x-edge-result-type "Error").
      // https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logs-reference.html
      const xcache = result.status >= 400 ? 'Error' : outcome;
      const generated = 'generated' in result && result.generated === true;
      send(response, request.method, result, xcache, ageSeconds, generated ? result.headers : this.viewerHeaders(result.headers, behavior));
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

  /** Tries the origin group in order; the origin-request handler runs again for the secondary. */
  private async fetch(viewed: CfFunctionRequest, etag?: string): Promise<OriginResponse> {
    const querystring = queryParts(viewed.querystring).join('&');
    const group = this.options.distribution.originGroup;
    const origins = [group.primary, group.secondary];
    let result: OriginResponse = { status: 502, headers: {}, body: Buffer.alloc(0) };
    for (const [index, originDomain] of origins.entries()) {
      if (index > 0) this.stats.failovers++;
      this.stats.originRequests++;
      try {
        const event = originRequestEvent({
          uri: viewed.uri,
          querystring,
          originDomain,
          originHeaders: group.customHeaders,
          headers: etag ? { 'If-None-Match': etag } : {},
        });
        const out = await this.options.originRequest(event);
        if ('status' in out && out.status === '200') this.stats.originRenders++;
        result = 'status' in out ? fromGenerated(out) : await this.fetchS3(out, etag);
      } catch {
        // A failed function is a 502 from CloudFront (LambdaExecutionError).
        result = jsonError(502, 'OriginUnavailable', 'The origin-request function failed.');
      }
      if (!this.failover.has(result.status)) return result;
    }
    return result;
  }

  /** CloudFront fetching a re-pointed request from its S3 origin. */
  private async fetchS3(request: CloudFrontRequest, etag?: string): Promise<OriginResponse> {
    const origin = parseS3OriginDomain(request.origin?.s3?.domainName ?? '');
    const endpoint = origin ? this.options.s3Endpoints[origin.region] : undefined;
    if (!origin || !endpoint) return jsonError(502, 'OriginUnavailable', 'The request names an unknown origin.');
    try {
      const object = await this.s3(endpoint, origin.region).send(
        new GetObjectCommand({ Bucket: origin.bucket, Key: decodeURIComponent(request.uri.slice(1)), IfNoneMatch: etag }),
      );
      const headers: Record<string, string> = {};
      if (object.ContentType) headers['content-type'] = object.ContentType;
      if (object.CacheControl) headers['cache-control'] = object.CacheControl;
      if (object.ETag) headers.etag = object.ETag;
      if (object.LastModified) headers['last-modified'] = object.LastModified.toUTCString();
      return { status: 200, headers, body: Buffer.from(await object.Body!.transformToByteArray()) };
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 304) return { status: 304, headers: {}, body: Buffer.alloc(0) };
      if (status === 404 || status === 403) return { ...jsonError(404, 'NotFound', 'No such image.'), generated: false };
      // No HTTP status means no connection: CloudFront fails over on it as on a 503.
      return jsonError(status ?? 503, 'OriginUnavailable', 'The S3 origin did not answer.');
    }
  }

  private s3(endpoint: string, region: string): S3Client {
    let client = this.s3Clients.get(endpoint);
    if (!client) {
      client = new S3Client({ region, endpoint, forcePathStyle: true, maxAttempts: 1, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
      this.s3Clients.set(endpoint, client);
    }
    return client;
  }
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

function jsonError(status: number, code: 'NotFound' | 'OriginUnavailable', message: string): OriginResponse {
  return { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' }, body: Buffer.from(errorBody(code, message, code === 'NotFound')), generated: true };
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
