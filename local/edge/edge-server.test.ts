import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CloudFrontRequest, CloudFrontResultResponse } from 'aws-lambda';
import { edgeStoreEntries, parseConfig } from '../../core/tenant-config.ts';
import type { OriginRequestHandler } from '../../edge-fallback/origin-request/handler.ts';
import { startRegions, type Regions } from '../regions.ts';
import { startLocalS3, type LocalS3 } from '../s3-server.ts';
import { ALL_BUCKETS, BUCKETS, REGIONS } from '../topology.ts';
import { readDistribution, synthesizeEdge, type DistributionConfig } from './distribution.ts';
import { LocalEdge } from './edge-server.ts';
import { ViewerFunctionRuntime } from './function-runtime.ts';

/**
 * The twin's CloudFront holds an origin-request function to Lambda@Edge's rules,
 * whatever the function does: these functions misbehave on purpose.
 */
const CONFIG = parseConfig({ tenants: { acme: { breakpoints: [320, 640] } } });
const URL_PATH = '/img/acme/photo?w=320&fmt=webp';

let s3: LocalS3;
let regions: Regions;
let directory: string;
let distribution: DistributionConfig;
let viewer: ViewerFunctionRuntime;
let viewerResponse: ViewerFunctionRuntime;

before(async () => {
  directory = await mkdtemp(join(tmpdir(), 'pictor-edge-server-'));
  s3 = await startLocalS3({ directory, buckets: ALL_BUCKETS });
  regions = await startRegions(s3.endpoint, REGIONS);
  distribution = readDistribution(synthesizeEdge(CONFIG));
  const store = edgeStoreEntries(CONFIG);
  viewer = new ViewerFunctionRuntime(distribution.viewerFunctionCode, store);
  viewerResponse = new ViewerFunctionRuntime(distribution.viewerResponseFunctionCode!, store);
});

after(async () => {
  await regions.close();
  await s3.close();
  await rm(directory, { recursive: true, force: true });
});

async function through(originRequest: OriginRequestHandler, options: { timeoutMs?: number; path?: string; viewerResponse?: ViewerFunctionRuntime } = {}) {
  const edge = new LocalEdge({
    viewer,
    viewerResponse: options.viewerResponse ?? viewerResponse,
    originRequest,
    distribution: options.timeoutMs ? { ...distribution, originRequestTimeoutMs: options.timeoutMs } : distribution,
    s3Endpoints: regions.endpoints,
  });
  const url = await edge.listen(0);
  try {
    const response = await fetch(url + (options.path ?? URL_PATH));
    return { status: response.status, body: await response.text(), headers: response.headers, stats: { ...edge.stats } };
  } finally {
    await edge.close();
  }
}

const generated = (status: string, body = ''): CloudFrontResultResponse => ({ status, headers: { 'content-type': [{ key: 'Content-Type', value: 'text/plain' }] }, body });

describe("the twin's edge and the origin-request function", () => {
  it('sends what the function generates to the viewer as it is, a 5xx included: no failover', async () => {
    const out = await through(async () => generated('503', 'generated'));
    assert.deepEqual([out.status, out.body, out.stats.failovers, out.stats.originRequests], [503, 'generated', 0, 1]);
  });

  it("answers CloudFront's 503 for a function that throws, without failing over", async () => {
    const out = await through(async () => {
      throw new Error('boom');
    });
    assert.deepEqual([out.status, JSON.parse(out.body).code, out.stats.failovers], [503, 'LambdaExecutionError', 0]);
  });

  it("answers CloudFront's 503 once the function runs past its timeout", async () => {
    const out = await through(() => new Promise(() => undefined), { timeoutMs: 200 });
    assert.deepEqual([out.status, JSON.parse(out.body).code, out.stats.failovers], [503, 'LambdaExecutionError', 0]);
  });

  it("answers CloudFront's 502 for a generated response over 1 MB", async () => {
    const out = await through(async () => generated('200', 'x'.repeat(1024 * 1024)));
    assert.deepEqual([out.status, JSON.parse(out.body).code], [502, 'LambdaValidationError']);
  });

  it('refuses a request pointed at another origin, which Origin Access Control would not sign', async () => {
    const out = await through(async (event) => {
      const request = event.Records[0]!.cf.request as CloudFrontRequest;
      request.origin = { s3: { ...request.origin!.s3!, domainName: `${BUCKETS.failoverVariants.bucket}.s3.${BUCKETS.failoverVariants.region}.amazonaws.com` } };
      return request;
    });
    assert.deepEqual([out.status, JSON.parse(out.body).code], [502, 'LambdaValidationError']);
  });

  it('answers 403, as S3 answers CloudFront without s3:ListBucket, for a key that is not there', async () => {
    const out = await through(async (event) => ({ ...event.Records[0]!.cf.request, uri: '/acme/photo/latest/nothing.webp' }));
    assert.equal(out.status, 403);
    assert.match(out.body, /<Code>AccessDenied<\/Code>/);
  });
});

describe("the twin's edge and the viewer-response function", () => {
  // Marks what it saw: the header the response headers policy added, and that it ran at all.
  const marking = () =>
    new ViewerFunctionRuntime(`async function handler(event) {
  const headers = event.response.headers;
  headers['x-ran'] = { value: headers['strict-transport-security'] ? 'after-policy' : 'before-policy' };
  return event.response;
}`);

  it('runs on what the origin serves and on what the cache serves, after the response headers policy', async () => {
    const edge = new LocalEdge({ viewer, viewerResponse: marking(), originRequest: async () => generated('200', 'rendered'), distribution, s3Endpoints: regions.endpoints });
    const url = await edge.listen(0);
    try {
      const seen = [];
      for (let i = 0; i < 2; i++) {
        const response = await fetch(url + URL_PATH);
        await response.arrayBuffer();
        seen.push([response.status, response.headers.get('x-cache'), response.headers.get('x-ran')]);
      }
      // The origin-request function's own response gets no policy until it is served from the cache (see edge-server.ts).
      assert.deepEqual(seen, [
        [200, 'Miss from cloudfront', 'before-policy'],
        [200, 'Hit from cloudfront', 'after-policy'],
      ]);
    } finally {
      await edge.close();
    }
  });

  it('does not run on a status of 400 or more from the origin, nor on what the viewer-request function generated', async () => {
    const error = await through(async () => generated('404', 'gone'), { viewerResponse: marking() });
    assert.deepEqual([error.status, error.headers.get('x-ran')], [404, null]);
    const refused = await through(async () => generated('200'), { viewerResponse: marking(), path: '/img/acme/photo?w=abc' });
    assert.deepEqual([refused.status, refused.headers.get('x-ran'), refused.stats.originRequests], [400, null, 0]);
  });
});
