import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import type { VariantSpec } from '../core/variant.ts';
import { dHash, fixture, fixturesMissing, hammingDistance, syntheticPhoto } from '../test/support/images.ts';
import { DEFAULT_RENDER_LIMITS, renderVariant } from './render.ts';
import { renderVariantSet } from './render-set.ts';

const LIMITS = { ...DEFAULT_RENDER_LIMITS, maxDimension: 2048 };
const SET: VariantSpec[] = [320, 640, 1280].flatMap((w) => [
  { fmt: 'webp', q: 75, w },
  { fmt: 'legacy', q: 75, w },
] as VariantSpec[]);

/** PSNR in dB between two same-sized images, over RGB. */
async function psnr(a: Buffer, b: Buffer): Promise<number> {
  const [x, y] = await Promise.all([a, b].map((img) => sharp(img).removeAlpha().raw().toBuffer()));
  let sum = 0;
  for (let i = 0; i < x!.length; i++) sum += (x![i]! - y![i]!) ** 2;
  return 10 * Math.log10(255 ** 2 / (sum / x!.length));
}

describe('renderVariantSet', () => {
  it('renders every width and format class from one decode, matching direct renders', async () => {
    const original = await syntheticPhoto(1600, 1067);
    const rendered = await renderVariantSet(original, SET, LIMITS);
    assert.deepEqual(rendered.map((r) => `${r.spec.fmt}@${r.spec.w}:${r.variant.format}:${r.variant.width}`).sort(), [
      'legacy@1280:jpeg:1280', 'legacy@320:jpeg:320', 'legacy@640:jpeg:640', 'webp@1280:webp:1280', 'webp@320:webp:320', 'webp@640:webp:640',
    ]);
    for (const { spec, variant } of rendered) {
      const direct = await renderVariant(original, spec, LIMITS);
      assert.deepEqual([variant.width, variant.height], [direct.width, direct.height], `${spec.fmt}@${spec.w}`);
      const db = await psnr(variant.body, direct.body);
      assert.ok(db >= 35, `${spec.fmt}@${spec.w}: ${db.toFixed(1)} dB against a direct render`);
    }
  });

  it('keeps transparency in the legacy class and never enlarges', async () => {
    const png = await sharp({ create: { width: 500, height: 400, channels: 4, background: { r: 0, g: 128, b: 255, alpha: 0.5 } } }).png().toBuffer();
    const rendered = await renderVariantSet(png, SET, LIMITS);
    for (const { spec, variant } of rendered) {
      assert.equal(variant.width, Math.min(spec.w!, 500));
      if (spec.fmt === 'legacy') assert.equal(variant.format, 'png');
    }
  });

  it('rejects a truncated original as unprocessable', { skip: fixturesMissing }, async () => {
    await assert.rejects(renderVariantSet(await readFile(fixture('truncated.jpg')), SET, LIMITS), { name: 'UnprocessableImage' });
  });

  it('renders a multi-item AVIF\'s primary item from one decode, like direct renders', { skip: fixturesMissing }, async () => {
    // pitm.avif: a 4096x800 primary item and four 1024x800 items.
    const original = await readFile(fixture('pitm.avif'));
    const rendered = await renderVariantSet(original, SET, LIMITS);
    assert.deepEqual(rendered.map((r) => `${r.spec.fmt}@${r.spec.w}:${r.variant.format}:${r.variant.width}x${r.variant.height}`).sort(), [
      'legacy@1280:jpeg:1280x250', 'legacy@320:jpeg:320x63', 'legacy@640:jpeg:640x125', 'webp@1280:webp:1280x250', 'webp@320:webp:320x63', 'webp@640:webp:640x125',
    ]);
    for (const { spec, variant } of rendered) {
      const meta = await sharp(variant.body, { animated: true }).metadata();
      assert.deepEqual([meta.width, meta.height, meta.pages ?? 1], [variant.width, variant.height, 1], `${spec.fmt}@${spec.w}`);
      const direct = await renderVariant(original, spec, LIMITS);
      assert.deepEqual([variant.width, variant.height], [direct.width, direct.height], `${spec.fmt}@${spec.w}`);
      const db = await psnr(variant.body, direct.body);
      assert.ok(db >= 35, `${spec.fmt}@${spec.w}: ${db.toFixed(1)} dB against a direct render`);
    }
  });

  it('keeps an animation\'s frames in WebP and renders its first frame otherwise', { skip: fixturesMissing }, async () => {
    for (const name of ['animated-loop-3.gif', 'animated-loop-3.webp']) {
      const rendered = await renderVariantSet(await readFile(fixture(name)), [{ fmt: 'webp', q: 75, w: 320 }, { fmt: 'legacy', q: 75, w: 320 }], LIMITS);
      const [webp, legacy] = await Promise.all(rendered.map((r) => sharp(r.variant.body, { animated: true }).metadata()));
      assert.deepEqual([webp!.format, webp!.width, webp!.pageHeight, webp!.pages, webp!.loop], ['webp', 320, 246, 10, 3], name);
      assert.deepEqual([legacy!.format, legacy!.width, legacy!.height, legacy!.pages ?? 1], ['png', 320, 246, 1], name);
    }
  });

  it('orients a real photo upright', { skip: fixturesMissing }, async () => {
    const [item] = await renderVariantSet(await readFile(fixture('Landscape_6.jpg')), [{ fmt: 'jpeg', q: 90, w: 320 }], LIMITS);
    assert.deepEqual([item!.variant.width, item!.variant.height], [320, 240]);
    assert.ok(hammingDistance(await dHash(item!.variant.body), await dHash(await readFile(fixture('Landscape_1.jpg')))) <= 6);
  });
});
