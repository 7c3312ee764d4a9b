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

/** A photo-like test image (gradients and shapes), generated so tests need no network. */
export async function syntheticPhoto(width: number, height: number, format: 'jpeg' | 'png' = 'jpeg'): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#1e3c72"/><stop offset="1" stop-color="#f0a35e"/></linearGradient></defs>
    <rect width="100%" height="100%" fill="url(#g)"/>
    <circle cx="${width * 0.3}" cy="${height * 0.4}" r="${Math.min(width, height) * 0.2}" fill="#f9d423"/>
    <rect x="${width * 0.55}" y="${height * 0.5}" width="${width * 0.3}" height="${height * 0.35}" fill="#2a9d8f"/>
  </svg>`;
  return sharp(Buffer.from(svg))[format]().toBuffer();
}

/** Random noise: incompressible, for outputs larger than a generated response may be. */
export async function noise(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 60 } } }).png().toBuffer();
}
