import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isPictorUrlError, nextImagesConfig, nextLoader, type NextImagesConfig, type NextLoader, type PublicPolicy } from './index.ts';

const policy: PublicPolicy = {
  tenant: 'shop',
  baseUrl: 'https://images.example.com',
  breakpoints: [160, 320, 480, 640, 768, 1024, 1280, 1600, 1920, 2560],
  qualities: [40, 60, 75, 90],
  defaultQuality: 75,
  formats: ['avif', 'webp', 'jpeg', 'png'],
  signed: false,
  maxSignedTtl: 86400,
};
const loader = nextLoader(policy);

/**
 * The widths next/image asks a loader for, as its getWidths does
 * (next/src/shared/lib/get-img-props.ts): with `sizes`, every size at or above the
 * smallest device size times the smallest vw; without a width, the device sizes; for a
 * fixed width, 1x and 2x of it, each moved up to the first size at or above it.
 */
function nextWidths(config: NextImagesConfig, width: number | undefined, sizes: string | undefined): number[] {
  const deviceSizes = [...config.deviceSizes].sort((a, b) => a - b);
  const allSizes = [...config.deviceSizes, ...config.imageSizes].sort((a, b) => a - b);
  if (sizes) {
    const vw = [...sizes.matchAll(/(^|\s)(1?\d?\d)vw/g)].map((m) => parseInt(m[2]!, 10));
    return vw.length ? allSizes.filter((s) => s >= deviceSizes[0]! * Math.min(...vw) * 0.01) : allSizes;
  }
  if (width === undefined) return deviceSizes;
  return [...new Set([width, width * 2].map((w) => allSizes.find((p) => p >= w) ?? allSizes[allSizes.length - 1]!))];
}

describe('the Next.js loader', () => {
  it('fits the loader contract: ({ src, width, quality }) => string', () => {
    const typed: NextLoader = loader;
    assert.equal(typed({ src: 'sku-42', width: 640 }), 'https://images.example.com/img/shop/sku-42?fmt=auto&q=75&w=640');
    assert.equal(typed({ src: '/img/shop/sku-42/v2', width: 320, quality: 90 }), 'https://images.example.com/img/shop/sku-42/v2?fmt=auto&q=90&w=320');
    assert.equal(nextLoader(policy, { format: 'webp' })({ src: 'http://127.0.0.1:8080/img/shop/sku-42', width: 160 }), 'http://127.0.0.1:8080/img/shop/sku-42?fmt=webp&q=75&w=160');
  });

  it("with nextImagesConfig, every width Next asks for is served as asked: no URL snaps", () => {
    const config = nextImagesConfig(policy);
    assert.deepEqual(config, { deviceSizes: policy.breakpoints, imageSizes: [], qualities: policy.qualities });
    fc.assert(
      fc.property(
        fc.option(fc.integer({ min: 1, max: 4000 }), { nil: undefined }),
        fc.option(fc.constantFrom('100vw', '(min-width: 768px) 50vw, 100vw', '33vw', '(min-width: 1024px) 400px, 90vw'), { nil: undefined }),
        fc.option(fc.constantFrom(...policy.qualities), { nil: undefined }),
        (width, sizes, quality) => {
          for (const w of nextWidths(config, width, sizes)) {
            const url = new URL(loader({ src: 'sku-42', width: w, quality }));
            assert.equal(url.searchParams.get('w'), String(w));
            assert.equal(url.searchParams.get('q'), String(quality ?? policy.defaultQuality));
          }
        },
      ),
    );
  });

  it("with Next's default sizes, widths snap up by the edge's rule, in the URL", () => {
    const defaults = { deviceSizes: [640, 750, 828, 1080, 1200, 1920, 2048, 3840], imageSizes: [16, 32, 48, 64, 96, 128, 256, 384], qualities: [75] };
    const served = nextWidths(defaults, undefined, undefined).map((w) => [w, Number(new URL(loader({ src: 'sku-42', width: w })).searchParams.get('w'))]);
    assert.deepEqual(served, [[640, 640], [750, 768], [828, 1024], [1080, 1280], [1200, 1280], [1920, 1920], [2048, 2560], [3840, 2560]]);
  });

  it("passes next/image's development check that a loader uses the width (it calls it with 400 and 75)", () => {
    const url = loader({ src: '/img/shop/sku-42', width: 400, quality: 75 });
    assert.notEqual(url, '/img/shop/sku-42');
    assert.ok(new URL(url).search.length > 0);
    assert.equal(new URL(loader({ src: 'sku-42', width: 400, quality: 80 })).searchParams.get('q'), '90', 'a quality snaps up too');
  });

  it('keeps within next.config limits: at most 25 device sizes, the rest image sizes', () => {
    const many = Array.from({ length: 32 }, (_, i) => (i + 1) * 100);
    const config = nextImagesConfig({ breakpoints: many, qualities: [75] });
    assert.equal(config.deviceSizes.length, 25);
    assert.deepEqual([...config.imageSizes, ...config.deviceSizes], many);
  });

  it('refuses a signed tenant, saying why', () => {
    assert.throws(() => nextLoader({ ...policy, signed: true }), (e: unknown) => isPictorUrlError(e) && e.code === 'SignatureRequired' && /Sign the URLs on the server/.test(e.message));
  });

  it('gives back unchanged every src that is not a Pictor image (loaderFile applies to every <Image> of the app)', () => {
    for (const src of [
      '/logo.png',
      '/_next/static/media/hero.1234.jpg',
      '/images/img/a.jpg',
      'https://cdn.other.com/a.jpg',
      'https://cdn.other.com/img/a.jpg',
      '//cdn.other.com/img/x/y/z/w',
      'data:image/png;base64,iVBORw0KGgo=',
    ]) {
      assert.equal(loader({ src, width: 640, quality: 75 }), src);
    }
  });

  it("refuses another tenant's image and a malformed /img/ path, naming the problem", () => {
    const invalidPath = (pattern: RegExp) => (e: unknown) => isPictorUrlError(e) && e.code === 'InvalidPath' && pattern.test(e.message);
    assert.throws(() => loader({ src: '/img/blog/hero', width: 640 }), invalidPath(/image of tenant blog, but this policy is tenant shop's/));
    assert.throws(() => loader({ src: 'http://127.0.0.1:8080/img/blog/hero', width: 640 }), invalidPath(/tenant blog/));
    assert.throws(() => loader({ src: '/img/shop/logo.png', width: 640 }), invalidPath(/names no Pictor image: Invalid image id/));
    assert.throws(() => loader({ src: 'https://images.example.com/img/shop', width: 640 }), invalidPath(/names no Pictor image/));
  });
});
