import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import sharp from 'sharp';
import { sampleImage } from '../../local/sample-image.ts';
import { fixture } from '../../test/support/images.ts';

/** The named photo, from the shared images beside the repository: 2725x2225 (6 MP), 829 KB. */
export const PHOTO_FIXTURE = fixture('2569067123_aca715a2ee_o.jpg');
export const photoMissing: string | false = existsSync(PHOTO_FIXTURE) ? false : `needs ${PHOTO_FIXTURE}`;

/**
 * A photo-like JPEG of the given size: the real photo fixture (or, without it, the
 * generated sample scene) resized to cover the frame, plus seeded film grain so it
 * carries the entropy of a camera file; flat colour would decode unrealistically fast.
 * Cached in the temp directory, so a run makes it once.
 */
export async function photoLike(width: number, height: number, quality = 90): Promise<{ jpeg: Buffer; source: string }> {
  const source = photoMissing ? 'local/sample-image.ts' : PHOTO_FIXTURE;
  const path = join(tmpdir(), 'pictor-bench', `photo-${width}x${height}-q${quality}-g20-${photoMissing ? 'sample' : 'fixture'}.jpg`);
  if (existsSync(path)) return { jpeg: await readFile(path), source };
  const base = photoMissing ? await sampleImage(1600, 1067) : await readFile(PHOTO_FIXTURE);
  const { data, info } = await sharp(base).resize(width, height, { fit: 'cover' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const rng = xoroshiro128plus(12);
  // Grain of ±20 levels, per channel, as a high-ISO sensor leaves it.
  for (let i = 0; i < data.length; i++) data[i] = Math.max(0, Math.min(255, data[i]! + uniformInt(rng, -20, 20)));
  const jpeg = await sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } }).jpeg({ quality }).toBuffer();
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, jpeg);
  return { jpeg, source };
}
