import sharp from 'sharp';

/**
 * Peak signal-to-noise ratio of two images of the same size, in dB, over their
 * RGB pixels: Infinity when identical; above about 45 dB no difference shows.
 */
export async function psnr(a: Buffer, b: Buffer): Promise<number> {
  const [x, y] = await Promise.all([a, b].map((image) => sharp(image).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true })));
  if (x!.info.width !== y!.info.width || x!.info.height !== y!.info.height) {
    throw new Error(`Expected images of one size for PSNR but received ${x!.info.width}x${x!.info.height} and ${y!.info.width}x${y!.info.height}.`);
  }
  let sum = 0;
  for (let i = 0; i < x!.data.length; i++) {
    const d = x!.data[i]! - y!.data[i]!;
    sum += d * d;
  }
  const mse = sum / x!.data.length;
  return mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse);
}
