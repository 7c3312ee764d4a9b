import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getSrcSet, transformBaseImageProps, transformBaseSourceProps, type CoreImageAttributes, type UnpicBaseImageProps } from '@unpic/core/base';
import { normalizeQuery, queryPairs } from '../core/normalize.ts';
import { isPictorUrlError, unpicTransformer, type PictorOperations, type PictorUnpicOptions, type PublicPolicy } from './index.ts';

const policy: PublicPolicy = {
  tenant: 'shop',
  baseUrl: 'https://images.example.com',
  breakpoints: [160, 320, 640, 768, 1024, 1280, 1600],
  qualities: [60, 75, 90],
  defaultQuality: 75,
  formats: ['avif', 'webp', 'jpeg'],
  signed: false,
  maxSignedTtl: 3600,
};
const src = 'https://images.example.com/img/shop/sku-42';
const transformer = unpicTransformer(policy);

/** A srcset as [url, descriptor] pairs, each URL checked to be canonical by core's normalizer (the one the edge runs). */
function candidates(srcset: string): [URL, string][] {
  return srcset.split(/,\s+/).map((entry) => {
    const [url, descriptor] = entry.trim().split(/\s+/) as [string, string];
    const parsed = new URL(url);
    const normalized = normalizeQuery(queryPairs(parsed.search.slice(1)), policy, undefined);
    assert.ok(normalized.ok && normalized.normalized.signedQuery === parsed.search.slice(1), url);
    return [parsed, descriptor];
  });
}

describe('the unpic transformer', () => {
  it("fits @unpic/core's transformer type, and its props give the tenant's srcset", () => {
    // Type-checked against @unpic/core's own declarations (npm run typecheck).
    const props: UnpicBaseImageProps<PictorOperations, PictorUnpicOptions, CoreImageAttributes> = {
      src,
      transformer,
      layout: 'constrained',
      width: 800,
      height: 600,
      breakpoints: [...policy.breakpoints],
      alt: '',
    };
    const img = transformBaseImageProps<PictorOperations, PictorUnpicOptions, CoreImageAttributes>(props);
    const entries = candidates(String(img.srcset));
    assert.deepEqual(entries.map(([, d]) => d), policy.breakpoints.map((b) => `${b}w`));
    for (const [url, descriptor] of entries) {
      assert.equal(url.searchParams.get('w') + 'w', descriptor, 'each URL serves the width its descriptor says');
      assert.equal(url.searchParams.get('fit'), 'cover');
      assert.ok(policy.breakpoints.includes(Number(url.searchParams.get('h'))));
    }
    assert.equal(img.sizes, '(min-width: 800px) 800px, 100vw');
    assert.equal(img.src, `${src}?fit=cover&fmt=auto&h=768&q=75&w=1024`, 'the fallback src snaps up, in the URL');
  });

  it("without the tenant's breakpoints, unpic's widths snap up in the URLs, and its descriptors understate them", () => {
    const srcset = getSrcSet<PictorOperations, PictorUnpicOptions>({ src, width: 300, layout: 'fixed', transformer });
    assert.deepEqual(
      candidates(srcset).map(([url, d]) => [url.searchParams.get('w'), d]),
      [['320', '300w'], ['640', '600w']],
    );
  });

  it('takes a format from <source type>, a fit and a quality from operations, and a version from options', () => {
    const source = transformBaseSourceProps<{ srcset?: string | null; type?: string | null; sizes?: string | null }, PictorOperations, PictorUnpicOptions>({
      src,
      transformer,
      type: 'image/webp',
      layout: 'fixed',
      width: 160,
      height: 160,
      breakpoints: [160, 320],
      operations: { fit: 'contain', quality: 80 },
      options: { version: 3 },
    });
    assert.equal(source.type, 'image/webp');
    assert.equal(
      source.srcset,
      `${src}/v3?fit=contain&fmt=webp&h=160&q=90&w=160 160w,\n${src}/v3?fit=contain&fmt=webp&h=320&q=90&w=320 320w`,
    );
    assert.equal(transformer(src, { format: 'jpg', width: '640' }), `${src}?fmt=jpeg&q=75&w=640`);
  });

  it("drops fit without a height, as the edge does: layout fullWidth renders with fit: 'contain'", () => {
    const props = transformBaseImageProps<PictorOperations, PictorUnpicOptions, CoreImageAttributes>({
      src,
      transformer,
      layout: 'fullWidth',
      breakpoints: [...policy.breakpoints],
      operations: { fit: 'contain' },
    });
    const urls = candidates(String(props.srcset)).map(([url]) => url);
    assert.ok(urls.length > 0);
    for (const url of urls) assert.equal(url.searchParams.has('fit'), false, url.href);
    assert.equal(transformer(src, { width: 640, fit: 'contain' }), `${src}?fmt=auto&q=75&w=640`);
  });

  it('asks for auto for a <source type> the tenant does not serve, instead of throwing during render', () => {
    const source = transformBaseSourceProps<{ srcset?: string | null; type?: string | null; sizes?: string | null }, PictorOperations, PictorUnpicOptions>({
      src,
      transformer,
      type: 'image/gif',
      layout: 'fixed',
      width: 160,
      height: 160,
      breakpoints: [160, 320],
    });
    assert.equal(source.srcset, `${src}?fit=cover&fmt=auto&h=160&q=75&w=160 160w,\n${src}?fit=cover&fmt=auto&h=320&q=75&w=320 320w`);
    assert.equal(transformer(src, { format: 'png', width: 640 }), `${src}?fmt=auto&q=75&w=640`, 'png is not among the tenant formats');
    assert.equal(transformer(src, { format: 'avif', width: 640 }), `${src}?fmt=avif&q=75&w=640`);
  });

  it('refuses what is not the tenant image or no number, and a signed tenant', () => {
    assert.throws(() => transformer(src, { width: 'wide' }), /Expected a positive number for width but received 'wide'/);
    assert.throws(() => transformer('https://images.example.com/img/other/x', {}), /tenant other, but this policy is tenant shop's/);
    assert.throws(() => unpicTransformer({ ...policy, signed: true }), (e: unknown) => isPictorUrlError(e) && e.code === 'SignatureRequired' && /Sign the URLs on the server/.test(e.message));
  });
});
