import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import sharp, { type Metadata } from 'sharp';
import type { VariantSpec } from '../core/variant.ts';
import { dHash, fixture, fixturesMissing, hammingDistance } from '../test/support/images.ts';
import { animationFrames, DEFAULT_RENDER_LIMITS, inspectOriginal, renderVariant } from './render.ts';

const LIMITS = { ...DEFAULT_RENDER_LIMITS, maxDimension: 2048 };
/** pitm.avif's primary item; its other four items are 1024x800. */
const PRIMARY = { width: 4096, height: 800 };

describe('animationFrames', () => {
  it('counts the pages of an image sequence only', () => {
    const delay = Array(10).fill(100);
    assert.equal(animationFrames({ format: 'gif', pages: 10, loop: 0, delay } as Metadata), 10);
    assert.equal(animationFrames({ format: 'webp', pages: 10, loop: 3, delay } as Metadata), 10);
    assert.equal(animationFrames({ format: 'heif', pages: 5, pagePrimary: 4 } as Metadata), 1);
    assert.equal(animationFrames({ format: 'tiff', pages: 3 } as Metadata), 1);
    assert.equal(animationFrames({ format: 'gif', pages: 1, loop: 1, delay: [0] } as Metadata), 1);
    assert.equal(animationFrames({ format: 'jpeg' } as Metadata), 1);
  });
});

describe('a multi-item HEIF/AVIF (pitm.avif)', { skip: fixturesMissing }, () => {
  it('is a still of its primary item: one frame, the primary item\'s size', async () => {
    const original = await readFile(fixture('pitm.avif'));
    for (const animated of [false, true]) {
      const { metadata, frames } = await inspectOriginal(original, LIMITS, animated);
      assert.equal(frames, 1);
      assert.equal(metadata.format, 'heif');
      assert.deepEqual([metadata.width, metadata.height], [PRIMARY.width, PRIMARY.height]);
    }
  });

  it('counts the primary item\'s pixels against the limit, not every item\'s', async () => {
    const original = await readFile(fixture('pitm.avif'));
    const exact = { ...LIMITS, maxInputPixels: PRIMARY.width * PRIMARY.height };
    await inspectOriginal(original, exact, true);
    const rendered = await renderVariant(original, { fmt: 'webp', q: 75, w: 640 }, exact);
    assert.deepEqual([rendered.width, rendered.height], [640, 125]);
    await assert.rejects(inspectOriginal(original, { ...exact, maxInputPixels: exact.maxInputPixels - 1 }, true), { name: 'ImageTooLarge' });
  });

  it('renders its primary item in every format, at the primary item\'s aspect', async () => {
    const original = await readFile(fixture('pitm.avif'));
    const reference = await dHash(await sharp(original).png().toBuffer());
    for (const [fmt, format] of [['webp', 'webp'], ['legacy', 'jpeg'], ['avif', 'avif']] as const) {
      const variant = await renderVariant(original, { fmt, q: 75, w: 640 } as VariantSpec, LIMITS);
      assert.deepEqual([variant.format, variant.width, variant.height], [format, 640, 125], fmt);
      const meta = await sharp(variant.body, { animated: true }).metadata();
      assert.deepEqual([meta.format === 'heif' ? 'avif' : meta.format, meta.width, meta.height, meta.pages ?? 1], [format, 640, 125, 1], fmt);
      assert.ok(hammingDistance(await dHash(variant.body), reference) <= 6, `${fmt}: not the primary item`);
    }
  });
});

describe('an animation', { skip: fixturesMissing }, () => {
  for (const name of ['animated-loop-3.gif', 'animated-loop-3.webp']) {
    it(`${name} stays animated in WebP, every frame resized`, async () => {
      const original = await readFile(fixture(name));
      const { frames } = await inspectOriginal(original, LIMITS, true);
      assert.equal(frames, 10);
      const variant = await renderVariant(original, { fmt: 'webp', q: 75, w: 320 }, LIMITS);
      assert.deepEqual([variant.format, variant.width, variant.height], ['webp', 320, 246]);
      const meta = await sharp(variant.body, { animated: true }).metadata();
      assert.deepEqual([meta.format, meta.width, meta.pageHeight, meta.pages, meta.loop, meta.delay?.length], ['webp', 320, 246, 10, 3, 10]);
    });

    it(`${name} renders its first frame in a format that cannot animate`, async () => {
      const variant = await renderVariant(await readFile(fixture(name)), { fmt: 'legacy', q: 75, w: 320 }, LIMITS);
      assert.deepEqual([variant.format, variant.width, variant.height], ['png', 320, 246]);
      assert.equal((await sharp(variant.body).metadata()).pages, undefined);
    });
  }

  it('counts every frame against the limits when every frame is decoded', async () => {
    const original = await readFile(fixture('animated-loop-3.gif'));
    const oneFrame = 370 * 285;
    await assert.rejects(inspectOriginal(original, { ...LIMITS, maxInputPixels: oneFrame * 10 - 1 }, true), { name: 'ImageTooLarge' });
    await assert.rejects(inspectOriginal(original, { ...LIMITS, maxFrames: 9 }, true), { name: 'ImageTooLarge' });
    assert.equal((await inspectOriginal(original, { ...LIMITS, maxInputPixels: oneFrame, maxFrames: 1 }, false)).frames, 10);
  });
});
