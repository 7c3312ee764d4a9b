import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CopyObjectCommand, DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { CloudFrontRequest, CloudFrontResultResponse } from 'aws-lambda';
import sharp from 'sharp';
import { publishedKey, snapshotKey, variantKey } from '../../core/object-keys.ts';
import { SECURITY_HEADERS } from '../../core/security-headers.ts';
import { NOT_FOUND_PATH } from '../../core/image-path.ts';
import { publishDirectly } from '../../local/seed.ts';
import { serveVariant } from './origin-request.ts';
import { DEFAULT_RENDER_LIMITS } from '../../imaging/render.ts';
import { budgetUntil, s3OriginalSource, s3VariantStore } from './s3-adapters.ts';
import { parseConfig } from '../../core/tenant-config.ts';
import { originRequestContext, originRequestEvent } from '../../local/edge/origin-event.ts';
import { LOCAL_S3_CREDENTIALS, startLocalS3, type LocalS3 } from '../../local/s3-server.ts';
import { ALL_BUCKETS, BUCKETS, localOriginRequestConfig, REGIONS } from '../../local/topology.ts';
import { readDistribution, synthesizeEdge, type S3Origin } from '../../local/edge/distribution.ts';
import { startFaultProxy, type FaultProxy } from '../../local/fault-proxy.ts';
import { startRegions, type Regions } from '../../local/regions.ts';
import { dHash, fixture, fixturesMissing, hammingDistance, noise, syntheticPhoto } from '../../test/support/images.ts';
import { createOriginRequestHandler, type OriginRequestHandler } from './handler.ts';

const CONFIG = parseConfig({
  tenants: {
    acme: { breakpoints: [100, 320, 640, 1280, 2048] },
    rival: { breakpoints: [100, 320, 640, 1280, 2048] },
    vault: { breakpoints: [100, 320, 640], signing: { required: true, keys: { k1: 'vault-secret-0123456789abcdefghijklmnopqrstuv' } } },
  },
});

let s3: LocalS3;
let client: S3Client;
let handle: OriginRequestHandler;
let directory: string;
/** The primary origin as the synthesized distribution configures it: the variants bucket, its custom headers. */
let ORIGIN: S3Origin;
/** The version of the function the distribution invokes, in the twin's account. */
let FUNCTION_ARN: string;

before(async () => {
  directory = await mkdtemp(join(tmpdir(), 'pictor-origin-'));
  s3 = await startLocalS3({ directory, buckets: ALL_BUCKETS });
  client = new S3Client({ region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: LOCAL_S3_CREDENTIALS });
  process.env.AWS_ACCESS_KEY_ID = LOCAL_S3_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = LOCAL_S3_CREDENTIALS.secretAccessKey;
  handle = createOriginRequestHandler(localOriginRequestConfig(CONFIG, { 'us-east-1': s3.endpoint, 'eu-west-1': s3.endpoint }, 'SILENT'));
  const distribution = readDistribution(synthesizeEdge(CONFIG));
  ORIGIN = distribution.originGroup.members[0];
  FUNCTION_ARN = distribution.originRequestFunctionArn;
});

after(async () => {
  await s3.close();
  await rm(directory, { recursive: true, force: true });
});

/** An original as publishing leaves it: its snapshot and the published pointer. */
async function upload(tenant: string, id: string, body: Buffer) {
  await publishDirectly(client, { tenant, imageId: id }, body);
}

/** A tenant's upload that nothing has published. */
async function rawUpload(tenant: string, id: string, body: Buffer) {
  await client.send(new PutObjectCommand({ Bucket: BUCKETS.originals.bucket, Key: `${tenant}/${id}`, Body: body }));
}

async function request(uri: string, querystring: string, using: OriginRequestHandler = handle) {
  return using(originRequestEvent({ uri, querystring, originDomain: ORIGIN.domain, originHeaders: ORIGIN.customHeaders }), context());
}

/** The context Lambda gives the function as the twin's distribution invokes it. */
function context() {
  return originRequestContext(FUNCTION_ARN);
}

/** The bytes a viewer gets: the generated body, or the object CloudFront then fetches from the origin. */
async function served(result: CloudFrontRequest | CloudFrontResultResponse): Promise<{ status: number; body: Buffer; headers: Record<string, string> }> {
  if ('status' in result) {
    const headers = Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k, v[0]!.value]));
    const body = Buffer.from(result.body ?? '', result.bodyEncoding === 'base64' ? 'base64' : 'utf8');
    return { status: Number(result.status), body, headers };
  }
  // The configured origin, which Origin Access Control signs for: never another.
  assert.equal(result.origin?.s3?.domainName, ORIGIN.domain);
  const object = await client.send(new GetObjectCommand({ Bucket: BUCKETS.variants.bucket, Key: decodeURIComponent(result.uri.slice(1)) }));
  return { status: 200, body: Buffer.from(await object.Body!.transformToByteArray()), headers: { 'content-type': object.ContentType!, 'cache-control': object.CacheControl! } };
}

async function storedVariants(prefix: string): Promise<string[]> {
  const list = await client.send(new ListObjectsV2Command({ Bucket: BUCKETS.variants.bucket, Prefix: prefix }));
  return (list.Contents ?? []).map((o) => o.Key!);
}

describe('origin-request with generated images', () => {
  it('renders a miss, stores it, and serves the stored variant next time', async () => {
    await upload('acme', 'gen', await syntheticPhoto(1600, 1000));
    const first = await served(await request('/img/acme/gen', 'fmt=webp&q=75&w=640'));
    assert.equal(first.status, 200);
    assert.equal(first.headers['content-type'], 'image/webp');
    assert.equal(first.headers['cache-control'], 'public, max-age=60, stale-while-revalidate=60, stale-if-error=86400');
    const meta = await sharp(first.body).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['webp', 640, 400]);
    assert.deepEqual(await storedVariants('acme/gen/'), ['acme/gen/latest/w640_q75.webp']);

    const second = await request('/img/acme/gen', 'fmt=webp&q=75&w=640');
    assert.ok(!('status' in second), 'a stored variant is served from the variants bucket');
    assert.equal(second.uri, '/acme/gen/latest/w640_q75.webp');
  });

  it('never enlarges, and marks versioned URLs immutable', async () => {
    await client.send(new PutObjectCommand({ Bucket: BUCKETS.originals.bucket, Key: snapshotKey({ tenant: 'acme', imageId: 'small' }, 2), Body: await syntheticPhoto(200, 150) }));
    const out = await served(await request('/img/acme/small/v2', 'fmt=jpeg&q=75&w=1280'));
    const meta = await sharp(out.body).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 200, 150]);
    assert.equal(out.headers['cache-control'], 'public, max-age=31536000, immutable');
  });

  it("answers 404 for a version that was never published, not today's bytes", async () => {
    await upload('acme', 'published', await syntheticPhoto(400, 300));
    const out = await served(await request('/img/acme/published/v7', 'fmt=jpeg&q=75&w=320'));
    assert.equal(out.status, 404);
    assert.doesNotMatch(out.headers['cache-control']!, /immutable/);
    assert.deepEqual(await storedVariants('acme/published/'), []);
  });

  it('refuses to render when the edge snapped differently from the origin (policy skew)', async () => {
    await upload('acme', 'skew', await syntheticPhoto(800, 600));
    const out = await served(await request('/img/acme/skew', 'fmt=webp&q=75&w=600'));
    assert.equal(out.status, 503);
    assert.equal(out.headers['cache-control'], 'no-store');
    assert.deepEqual(await storedVariants('acme/skew/'), []);
  });

  it("fails closed when the origin does not say where the originals are", async () => {
    await upload('acme', 'header', await syntheticPhoto(800, 600));
    const event = originRequestEvent({ uri: '/img/acme/header', querystring: 'fmt=webp&q=75&w=320', originDomain: ORIGIN.domain });
    const out = (await handle(event, context())) as CloudFrontResultResponse;
    assert.equal(out.status, '500');
    assert.equal(JSON.parse(out.body!).code, 'InternalError');
    assert.deepEqual(await storedVariants('acme/header/'), []);
    assert.equal((await served(await request('/img/acme/header', 'fmt=webp&q=75&w=320'))).status, 200);
    assert.deepEqual(await storedVariants('acme/header/'), ['acme/header/latest/w320_q75.webp']);
  });

  it('passes the request on to its own origin with nothing but the URI changed', async () => {
    await upload('acme', 'as-is', await syntheticPhoto(800, 600));
    const event = originRequestEvent({ uri: '/img/acme/as-is', querystring: 'fmt=webp&q=75&w=320', originDomain: ORIGIN.domain, originHeaders: ORIGIN.customHeaders, headers: { 'If-None-Match': '"x"' } });
    const before = structuredClone(event.Records[0]!.cf.request);
    const out = (await handle(event, context())) as CloudFrontRequest;
    assert.equal(out.uri, '/acme/as-is/latest/w320_q75.webp');
    assert.deepEqual({ ...out, uri: before.uri }, before);
  });

  it('treats tenant names that are object properties as unknown', async () => {
    const out = await served(await request('/img/constructor/x', 'fmt=webp&q=75&w=320'));
    assert.equal(out.status, 404);
  });

  it('rasterizes a tiny SVG at the requested size', async () => {
    await upload('acme', 'dot', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"><rect width="1" height="1" fill="red"/></svg>'));
    const out = await served(await request('/img/acme/dot', 'fmt=png&w=2048'));
    assert.equal(out.status, 200);
    assert.ok(((await sharp(out.body).metadata()).width ?? 0) >= 1280);
  });

  it('crops to both sides with fit=cover and picks PNG for a transparent legacy original', async () => {
    const transparent = await sharp({ create: { width: 800, height: 600, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 0.5 } } }).png().toBuffer();
    await upload('acme', 'alpha', transparent);
    const out = await served(await request('/img/acme/alpha', 'fit=cover&fmt=legacy&h=320&q=75&w=320'));
    const meta = await sharp(out.body).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height, meta.hasAlpha], ['png', 320, 320, true]);
  });

  it("answers 404 alike for a missing image and another tenant's image", async () => {
    await upload('rival', 'secret', await syntheticPhoto(300, 200));
    const missing = await served(await request('/img/acme/nothing-here', 'fmt=webp&q=75&w=320'));
    const foreign = await served(await request('/img/acme/secret', 'fmt=webp&q=75&w=320'));
    assert.equal(missing.status, 404);
    assert.deepEqual(foreign, missing);
    assert.deepEqual(JSON.parse(foreign.body.toString()), { code: 'NotFound', message: 'No such image.' });
  });

  it('refuses a query that did not come through the viewer function', async () => {
    const out = await served(await request('/img/acme/gen', 'w=abc'));
    assert.equal(out.status, 400);
    assert.equal(JSON.parse(out.body.toString()).code, 'InvalidParameter');
  });

  it('stores a variant over the 1 MB generated-response limit for CloudFront to fetch, like any other', async () => {
    await upload('acme', 'noise', await noise(2048, 2048));
    const result = await request('/img/acme/noise', 'fmt=png&w=2048');
    assert.ok(!('status' in result), 'passed on to the origin');
    assert.equal(result.uri, '/acme/noise/latest/w2048.png');
    const out = await served(result);
    assert.ok(out.body.length > 1024 * 1024, `${out.body.length} bytes`);
    const meta = await sharp(out.body).metadata();
    assert.deepEqual([meta.format, meta.width], ['png', 2048]);
  });
});

describe('origin-request serves published bytes only', () => {
  it('never serves an upload that nothing published, at any URL', async () => {
    await rawUpload('acme', 'unpublished', await syntheticPhoto(400, 300));
    for (const [uri, query] of [['/img/acme/unpublished', 'fmt=webp&q=75&w=320'], ['/img/acme/unpublished/v1', 'fmt=webp&q=75&w=320'], ['/img/acme/unpublished', 'fmt=legacy&q=75']]) {
      assert.equal((await served(await request(uri!, query!))).status, 404, uri);
    }
    assert.deepEqual(await storedVariants('acme/unpublished/'), []);
  });

  it('renders an unversioned URL from the published version, whatever was uploaded since', async () => {
    const published = await syntheticPhoto(800, 600);
    const uploaded = await sharp(published).negate().jpeg().toBuffer();
    await upload('acme', 'pointer', published);
    await rawUpload('acme', 'pointer', uploaded);
    const out = await served(await request('/img/acme/pointer', 'fmt=jpeg&q=90&w=320'));
    assert.equal(out.status, 200);
    const hash = await dHash(out.body);
    const [toPublished, toUploaded] = [hammingDistance(hash, await dHash(published)), hammingDistance(hash, await dHash(uploaded))];
    assert.ok(toPublished <= 10 && toUploaded >= 30, `the published bytes (${toPublished} bits off), not the newer upload (${toUploaded} bits off)`);
  });

  it('withdraws what it stored when the image was taken down while it rendered', async () => {
    for (const path of [{ tenant: 'acme', imageId: 'racing' }, { tenant: 'acme', imageId: 'racing', version: 1 }]) {
      await upload('acme', 'racing', await syntheticPhoto(800, 600));
      const budget = budgetUntil(Date.now() + 30_000);
      const source = s3OriginalSource(client, BUCKETS.originals.bucket, DEFAULT_RENDER_LIMITS.maxInputBytes, budget);
      const erasing = {
        ...source,
        // The takedown erases the pointer and the snapshot just after this miss read them.
        async get(key: string) {
          const bytes = await source.get(key);
          for (const k of [publishedKey(path), snapshotKey(path, 1)]) await client.send(new DeleteObjectCommand({ Bucket: BUCKETS.originals.bucket, Key: k }));
          return bytes;
        },
      };
      const log = { info: () => undefined, warn: () => undefined };
      const spec = { fmt: 'webp' as const, q: 75, w: 320 };
      const policy = { breakpoints: [320], qualities: [75], defaultQuality: 75, formats: ['webp' as const], signed: false, ttl: 60, maxSignedTtl: 86400 };
      const deps = { originals: [erasing], variants: s3VariantStore(client, BUCKETS.variants.bucket, budget), limits: { ...DEFAULT_RENDER_LIMITS, maxDimension: 320 }, log };
      await assert.rejects(serveVariant({ path, spec, policy }, deps), { name: 'NotFound' });
      assert.deepEqual(await storedVariants('acme/racing/'), [], `nothing of ${variantKey(path, spec)} stays behind`);
    }
  });

  it('answers the origin of "not here" exactly as a missing image', async () => {
    const missing = await served(await request('/img/acme/never-was', 'fmt=webp&q=75&w=320'));
    const sentinel = await served(await request(`${NOT_FOUND_PATH}/img/nobody/x`, ''));
    assert.equal(missing.status, 404);
    assert.deepEqual(sentinel, missing);
  });

  it('puts the security headers on every response it makes itself (CloudFront adds them to what it fetches)', async () => {
    for (const [uri, query, status] of [['/img/acme/missing', 'fmt=webp&q=75&w=100', 404], ['/img/acme/headers', 'w=abc', 400]] as const) {
      const out = await served(await request(uri, query));
      assert.equal(out.status, status);
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) assert.equal(out.headers[name], value, `${name} on ${status}`);
    }
  });

  it("never answers a private tenant's viewer with something a shared cache may keep", async () => {
    await upload('vault', 'secret', await syntheticPhoto(400, 300));
    const rendered = await request('/img/vault/secret', 'fmt=webp&q=75&w=320');
    // Stored, then fetched by CloudFront from S3, where the private response headers policy applies.
    assert.ok(!('status' in rendered), 'a fresh render is not answered inline');
    assert.equal(rendered.uri, '/vault/secret/latest/w320_q75.webp');
    const missing = await served(await request('/img/vault/nothing', 'fmt=webp&q=75&w=320'));
    assert.equal(missing.status, 404);
    assert.equal(missing.headers['cache-control'], 'private, no-cache');
  });
});

describe('origin-request with real-world images', { skip: fixturesMissing }, () => {
  it('turns EXIF orientations 1 to 8 upright', async () => {
    const upright = await dHash(await readFile(fixture('Landscape_1.jpg')));
    for (let orientation = 1; orientation <= 8; orientation++) {
      await upload('acme', `landscape-${orientation}`, await readFile(fixture(`Landscape_${orientation}.jpg`)));
      const out = await served(await request(`/img/acme/landscape-${orientation}`, 'fmt=jpeg&q=90&w=320'));
      const meta = await sharp(out.body).metadata();
      assert.deepEqual([meta.width, meta.height], [320, 240], `orientation ${orientation}`);
      assert.equal(meta.orientation, undefined, `orientation ${orientation} leaves no EXIF tag behind`);
      const distance = hammingDistance(await dHash(out.body), upright);
      assert.ok(distance <= 6, `orientation ${orientation} is ${distance} bits from upright`);
    }
  });

  it('converts CMYK to sRGB', async () => {
    await upload('acme', 'cmyk', await readFile(fixture('Channel_digital_image_CMYK_color.jpg')));
    const out = await served(await request('/img/acme/cmyk', 'fmt=jpeg&q=90&w=320'));
    const meta = await sharp(out.body).metadata();
    assert.deepEqual([meta.space, meta.channels, meta.width], ['srgb', 3, 320]);
    const original = await sharp(fixture('Channel_digital_image_CMYK_color.jpg')).toColourspace('srgb').jpeg().toBuffer();
    assert.ok(hammingDistance(await dHash(out.body), await dHash(original)) <= 6);
  });

  it('strips EXIF, XMP and IPTC', async () => {
    await upload('acme', 'metadata', await readFile(fixture('Landscape_9.jpg')));
    for (const query of ['fmt=jpeg&q=75&w=320', 'fmt=webp&q=75&w=320', 'fmt=png&w=320']) {
      const out = await served(await request('/img/acme/metadata', query));
      const meta = await sharp(out.body).metadata();
      assert.equal(out.status, 200, query);
      assert.deepEqual([meta.exif, meta.xmp, meta.iptc, meta.icc], [undefined, undefined, undefined, undefined], query);
    }
  });

  it('rejects decompression bombs from the header, without decoding', async () => {
    for (const name of ['65536-uint32-limit.png', 'giant-image.jpg']) {
      await upload('acme', name.replace(/\W/g, '-'), await readFile(fixture(name)));
      const rssBefore = process.memoryUsage().rss;
      const out = await served(await request(`/img/acme/${name.replace(/\W/g, '-')}`, 'fmt=webp&q=75&w=320'));
      const grown = process.memoryUsage().rss - rssBefore;
      assert.equal(out.status, 413, name);
      assert.equal(JSON.parse(out.body.toString()).code, 'ImageTooLarge');
      // Decoding either would take gigabytes; a header read takes next to nothing.
      assert.ok(grown < 150 * 1024 * 1024, `${name}: RSS grew ${grown} bytes`);
    }
  });

  it('answers 422 for truncated and corrupt originals, and stores nothing', async () => {
    for (const name of ['truncated.jpg', 'truncated.png', 'corrupt-header.jpg']) {
      const id = name.replace(/\W/g, '-');
      await upload('acme', id, await readFile(fixture(name)));
      const out = await served(await request(`/img/acme/${id}`, 'fmt=webp&q=75&w=320'));
      assert.equal(out.status, 422, name);
      assert.equal(JSON.parse(out.body.toString()).code, 'UnprocessableImage');
      assert.notEqual(out.headers['cache-control'], undefined);
      assert.doesNotMatch(out.headers['cache-control']!, /immutable|max-age=[1-9]\d{2,}/, 'an error is never cached like a variant');
      assert.deepEqual(await storedVariants(`acme/${id}/`), [], name);
    }
  });

  it('renders the other formats a tenant may upload', async () => {
    for (const name of ['4.webp', 'pitm.avif', 'circle.svg', 'uncompressed_tiff.tiff', '16-bit-grey-alpha.png', 'animated-loop-3.gif']) {
      const id = name.replace(/\W/g, '-');
      await upload('acme', id, await readFile(fixture(name)));
      const out = await served(await request(`/img/acme/${id}`, 'fmt=legacy&q=75&w=100'));
      assert.equal(out.status, 200, name);
      const meta = await sharp(out.body).metadata();
      assert.ok(meta.format === 'jpeg' || meta.format === 'png', `${name}: ${meta.format}`);
      assert.equal(meta.width, 100, name);
    }
  });

  it('keeps an animation animated in WebP', async () => {
    await upload('acme', 'animated', await readFile(fixture('animated-loop-3.webp')));
    const out = await served(await request('/img/acme/animated', 'fmt=webp&q=75&w=320'));
    const meta = await sharp(out.body, { animated: true }).metadata();
    assert.equal(meta.pages, 10);
    assert.equal(meta.width, 320);
  });
});

describe('origin-request when a region fails', () => {
  let proxy: FaultProxy;
  let regions: Regions;
  let throughProxy: OriginRequestHandler;
  let throughRegions: OriginRequestHandler;
  const forever = 1_000_000;

  before(async () => {
    proxy = await startFaultProxy(s3.endpoint);
    regions = await startRegions(s3.endpoint, REGIONS);
    throughProxy = createOriginRequestHandler(localOriginRequestConfig(CONFIG, { 'us-east-1': proxy.url, 'eu-west-1': s3.endpoint }, 'SILENT'));
    throughRegions = createOriginRequestHandler(localOriginRequestConfig(CONFIG, regions.endpoints, 'SILENT'));
  });
  after(async () => {
    await proxy.close();
    await regions.close();
  });

  /** Published in the primary and copied to the replica, as replication leaves it. */
  async function publishEverywhere(id: string, body: Buffer) {
    await upload('acme', id, body);
    for (const key of [publishedKey({ tenant: 'acme', imageId: id }), snapshotKey({ tenant: 'acme', imageId: id }, 1)]) {
      await client.send(new CopyObjectCommand({ Bucket: BUCKETS.replica.bucket, Key: key, CopySource: `${BUCKETS.originals.bucket}/${key}`, MetadataDirective: 'COPY' }));
    }
  }

  it("renders from the next copy of the originals when its own region's copy does not answer", async () => {
    await publishEverywhere('nearest-down', await syntheticPhoto(800, 600));
    const lift = proxy.inject({ match: { path: new RegExp(`^/${BUCKETS.originals.bucket}/`) }, status: 503, when: 'before', times: forever });
    try {
      const out = await served(await request('/img/acme/nearest-down', 'fmt=webp&q=75&w=320', throughProxy));
      assert.equal(out.status, 200);
      assert.deepEqual([(await sharp(out.body).metadata()).width], [320]);
    } finally {
      lift();
    }
  });

  it("lets CloudFront see its origin's outage rather than render, or answer for it", async () => {
    await publishEverywhere('origin-down', await syntheticPhoto(800, 600));
    const lift = proxy.inject({ match: { path: new RegExp(`^/${BUCKETS.variants.bucket}/`) }, status: 503, when: 'before', times: forever });
    try {
      const out = await request('/img/acme/origin-down', 'fmt=webp&q=75&w=320', throughProxy);
      assert.ok(!('status' in out), 'no generated response: CloudFront asks the origin, which fails, and fails over');
      assert.equal(out.uri, '/acme/origin-down/latest/w320_q75.webp');
    } finally {
      lift();
    }
    assert.deepEqual(await storedVariants('acme/origin-down/'), [], 'nothing rendered for an origin that could not store it');
  });

  it('ends every S3 call of a hung region at its deadline', async () => {
    await publishEverywhere('hung', await syntheticPhoto(800, 600));
    await regions.fault('us-east-1', 'hang');
    try {
      const out = await request('/img/acme/hung', 'fmt=webp&q=75&w=320', throughRegions);
      assert.ok(!('status' in out), 'passed on to the hung origin, for CloudFront to time out on and fail over');
    } finally {
      await regions.fault('us-east-1', 'off');
    }
  });

  it('answers 503 itself only when no copy of the original answers', async () => {
    await publishEverywhere('all-down', await syntheticPhoto(800, 600));
    const lift = proxy.inject({ match: { path: new RegExp(`^/${BUCKETS.originals.bucket}/`) }, status: 503, when: 'before', times: forever });
    await regions.fault('eu-west-1', '503');
    const both = createOriginRequestHandler(localOriginRequestConfig(CONFIG, { 'us-east-1': proxy.url, 'eu-west-1': regions.endpoints['eu-west-1']! }, 'SILENT'));
    try {
      const out = await served(await request('/img/acme/all-down', 'fmt=webp&q=75&w=320', both));
      assert.equal(out.status, 503);
      assert.equal(out.headers['cache-control'], 'no-store');
      assert.equal(JSON.parse(out.body.toString()).code, 'OriginUnavailable');
    } finally {
      lift();
      await regions.fault('eu-west-1', 'off');
    }
  });
});
