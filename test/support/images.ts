import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

/** The shared real-world images: present in CI, absent from a user's fresh clone. */
export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'fixtures', 'images');
export const fixturesMissing: string | false = existsSync(FIXTURES) ? false : `needs the shared test images in ${FIXTURES}`;

export function fixture(name: string): string {
  return join(FIXTURES, name);
}

/**
 * A 64-bit difference hash: greyscale 9x8, one bit per horizontal gradient.
 * Robust to re-encoding and small resizes, so images compare perceptually.
 */
export async function dHash(image: Buffer | string): Promise<bigint> {
  const pixels = await sharp(image).greyscale().resize(9, 8, { fit: 'fill' }).raw().toBuffer();
  let hash = 0n;
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 8; x++) hash = (hash << 1n) | (pixels[y * 9 + x]! > pixels[y * 9 + x + 1]! ? 1n : 0n);
  }
  return hash;
}

/** Bits that differ between two hashes: 0 is identical, above about 10 is a different picture. */
export function hammingDistance(a: bigint, b: bigint): number {
  let x = a ^ b;
  let bits = 0;
  while (x) {
    bits += Number(x & 1n);
    x >>= 1n;
  }
  return bits;
}

export { sampleImage as syntheticPhoto } from '../../local/sample-image.ts';

/** Random noise: incompressible, for outputs larger than a generated response may be. */
export async function noise(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 60 } } }).png().toBuffer();
}
