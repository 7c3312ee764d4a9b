import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { buildViewerFunction } from '../edge-fallback/viewer-request/build.ts';
import { isFunctionResponse, ViewerFunctionRuntime } from '../local/edge/function-runtime.ts';
import { viewerRequestEvent } from '../local/edge/viewer-event.ts';
import { EXPLICIT_FORMATS, type ExplicitFormat } from '../core/formats.ts';
import { edgeStoreEntries, parseConfig } from '../core/tenant-config.ts';
import { publicPolicyFromConfig, signImageUrl, signSrcset } from '../signer/index.ts';
import { CHROME_ACCEPT, SAFARI_OLD_ACCEPT } from '../test/support/tenants.ts';
import { buildUrl, nextImagesConfig, nextLoader, srcsetCandidates, srcset, unpicTransformer, type Format, type ImageOptions, type PublicPolicy } from './index.ts';

/**
 * The SDK's URLs, run through the real viewer function (the bundle CloudFront
 * runs, in the twin's vm): whatever the tenant's policy and the options, the
 * function forwards the URL's query as it is, so the URL says what is served.
 * Only `fmt=auto` changes, into the format the Accept header negotiates.
 */
const TENANT = 'shop';
const SECRET = 'shop-secret-0123456789abcdefghijklmnopqrstuvwxyz';
const store = new Map<string, string>();
let runtime: ViewerFunctionRuntime;

before(() => {
  runtime = new ViewerFunctionRuntime(buildViewerFunction().code, store);
});

interface TenantShape {
  readonly breakpoints: number[];
  readonly qualities: number[];
  readonly defaultQuality: number;
  readonly formats: ExplicitFormat[];
  readonly signed: boolean;
}

const ascending = (min: number, max: number, maxLength: number) =>
  fc.uniqueArray(fc.integer({ min, max }), { minLength: 1, maxLength }).map((list) => list.sort((a, b) => a - b));

const tenantShape: fc.Arbitrary<TenantShape> = fc
  .record({
    breakpoints: ascending(1, 8192, 12),
    qualities: ascending(1, 100, 6),
    formats: fc.subarray([...EXPLICIT_FORMATS], { minLength: 1 }),
    signed: fc.boolean(),
    pick: fc.nat(),
  })
  .map(({ pick, ...t }) => ({ ...t, defaultQuality: t.qualities[pick % t.qualities.length]! }));

/** Deploys the tenant to the function's KeyValueStore, as the registry would, and returns its public policy. */
function deploy(shape: TenantShape, baseUrl?: string): PublicPolicy {
  const tenant = {
    breakpoints: shape.breakpoints,
    qualities: shape.qualities,
    defaultQuality: shape.defaultQuality,
    formats: shape.formats,
    signing: shape.signed ? { required: true, keys: { k1: SECRET } } : { required: false },
  };
  store.clear();
  for (const [key, value] of edgeStoreEntries(parseConfig({ tenants: { [TENANT]: tenant } }))) store.set(key, value);
  return publicPolicyFromConfig(TENANT, tenant, baseUrl);
}

/** Options the policy holds, so that the builder takes them as they are. */
function optionsWithin(policy: Pick<PublicPolicy, 'breakpoints' | 'qualities' | 'formats'>): fc.Arbitrary<ImageOptions> {
  const formats: Format[] = ['auto', 'legacy', ...policy.formats];
  return fc
    .record({
      width: fc.option(fc.constantFrom(...policy.breakpoints), { nil: undefined }),
      height: fc.option(fc.constantFrom(...policy.breakpoints), { nil: undefined }),
      fit: fc.option(fc.constantFrom('cover', 'contain', 'inside') as fc.Arbitrary<'cover' | 'contain' | 'inside'>, { nil: undefined }),
      format: fc.option(fc.constantFrom(...formats), { nil: undefined }),
      quality: fc.option(fc.constantFrom(...policy.qualities), { nil: undefined }),
      version: fc.option(fc.integer({ min: 1, max: 999 }), { nil: undefined }),
    })
    .map((o) => ({
      ...o,
      fit: o.width !== undefined && o.height !== undefined ? o.fit : undefined,
      quality: o.format === 'png' ? undefined : o.quality,
    }));
}

const accepts = fc.constantFrom(undefined, CHROME_ACCEPT, SAFARI_OLD_ACCEPT, 'image/png,image/*;q=0.8');

/** What `fmt=auto` becomes, worked out apart from core: the first of AVIF and WebP the browser and the tenant both take. */
function negotiated(accept: string | undefined, formats: readonly ExplicitFormat[]): string {
  const offers = (type: string) => accept !== undefined && accept.includes(type);
  if (offers('image/avif') && formats.includes('avif')) return 'avif';
  if (offers('image/webp') && formats.includes('webp')) return 'webp';
  return 'legacy';
}

/** Sends a URL through the function: what it forwards (path and query), or the status it answers. */
async function throughEdge(url: string, accept?: string): Promise<{ uri: string; query: string } | { status: number; body: string }> {
  const path = url.replace(/^https?:\/\/[^/]+/, '');
  const q = path.indexOf('?');
  const out = await runtime.run(viewerRequestEvent({ uri: q < 0 ? path : path.slice(0, q), query: q < 0 ? '' : path.slice(q + 1), accept }));
  if (isFunctionResponse(out)) return { status: out.statusCode, body: out.body?.data ?? '' };
  return { uri: out.uri, query: typeof out.querystring === 'string' ? out.querystring : JSON.stringify(out.querystring) };
}

/** Asserts that the function forwards `built` (signed or not) as it is, but for `fmt=auto`. */
async function assertUnchanged(policy: PublicPolicy, built: string, accept: string | undefined): Promise<void> {
  const sent = policy.signed ? signImageUrl(built, { kid: 'k1', secret: SECRET }, policy) : built;
  const [path, query] = built.replace(/^https?:\/\/[^/]+/, '').split('?') as [string, string];
  const expected = query.replace('fmt=auto', 'fmt=' + negotiated(accept, policy.formats));
  assert.deepEqual(await throughEdge(sent, accept), { uri: path, query: expected }, sent);
}

describe('the SDK through the real viewer function', () => {
  it('buildUrl: the function forwards the query as built, for any policy and options it holds, signed or not', async () => {
    await fc.assert(
      fc.asyncProperty(
        tenantShape.chain((shape) => fc.tuple(fc.constant(shape), optionsWithin(shape), accepts)),
        async ([shape, options, accept]) => {
          const policy = deploy(shape, 'https://images.example.com');
          await assertUnchanged(policy, buildUrl(policy, 'sku-42', options), accept);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('snap: true writes what the edge serves, for any width, height and quality', async () => {
    await fc.assert(
      fc.asyncProperty(
        tenantShape,
        fc.integer({ min: 1, max: 20000 }),
        fc.option(fc.integer({ min: 1, max: 20000 }), { nil: undefined }),
        fc.option(fc.integer({ min: 1, max: 100 }), { nil: undefined }),
        accepts,
        async (shape, width, height, quality, accept) => {
          const policy = deploy(shape);
          await assertUnchanged(policy, buildUrl(policy, '/img/shop/sku-42', { width, height, quality, snap: true }), accept);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('srcset, the Next.js loader and the unpic transformer: every candidate is forwarded as built', async () => {
    await fc.assert(
      fc.asyncProperty(
        tenantShape.map((s) => ({ ...s, signed: false })),
        fc.integer({ min: 1, max: 4000 }),
        fc.option(fc.integer({ min: 1, max: 4000 }), { nil: undefined }),
        fc.constantFrom('fixed', 'responsive') as fc.Arbitrary<'fixed' | 'responsive'>,
        accepts,
        async (shape, width, height, layout, accept) => {
          const policy = deploy(shape);
          const urls = srcsetCandidates(policy, 'sku-42', { width, height, layout }).map((c) => c.url);
          const load = nextLoader(policy);
          for (const w of nextImagesConfig(policy).deviceSizes) urls.push(load({ src: '/img/shop/sku-42', width: w }));
          urls.push(load({ src: 'sku-42', width, quality: 75 }));
          urls.push(unpicTransformer(policy)('https://images.example.com/img/shop/sku-42', { width, height: height === undefined ? undefined : String(height) }));
          for (const url of urls) await assertUnchanged(policy, url, accept);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('a signed srcset: every candidate verifies', async () => {
    const policy = deploy({ breakpoints: [160, 320, 640, 1280], qualities: [50, 75], defaultQuality: 75, formats: ['webp', 'jpeg'], signed: true });
    const signed = signSrcset(srcset(policy, 'sku-42', { width: 300, layout: 'fixed', format: 'webp' }), { kid: 'k1', secret: SECRET }, policy);
    const candidates = signed.split(', ').map((c) => c.split(' ') as [string, string]);
    assert.deepEqual(candidates.map(([, d]) => d), ['1x', '2x']);
    for (const [url] of candidates) assert.deepEqual(await throughEdge(url), { uri: '/img/shop/sku-42', query: url.split('?')[1]!.replace(/&exp=.*/, '') });
  });

  it('an unsigned URL of a signed tenant is refused, as the docs say: sign on the server', async () => {
    const policy = deploy({ breakpoints: [320], qualities: [75], defaultQuality: 75, formats: ['webp'], signed: true });
    assert.equal(((await throughEdge(buildUrl(policy, 'sku-42', { width: 320 }))) as { status: number }).status, 403);
  });
});
