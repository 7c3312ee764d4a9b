import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { renderVariantSet } from '../imaging/render-set.ts';
import sharp from 'sharp';
import { renderVariant } from '../imaging/render.ts';
import { photoLike, photoMissing, PHOTO_FIXTURE } from './support/photo.ts';
import { psnr } from './support/psnr.ts';
import { RENDER_CASES, SET_LIMITS, STANDARD_SET, type CaseMeasurement, type RenderCase } from './support/render-case.ts';
import { goal, type BenchResult } from './support/report.ts';
import { alternate, spread, summarize } from './support/stats.ts';

export interface VariantSetOptions {
  /** Rounds of the three cases per image, alternated. */
  readonly rounds: number;
  /** The generated photo's size. @default 4000x3000 (12 MP) */
  readonly photo?: { readonly width: number; readonly height: number };
  /** Also render the named fixture photo. @default true when it is present */
  readonly fixture?: boolean;
}

export const VARIANT_SET_FULL: VariantSetOptions = { rounds: 3 };

const CASE = fileURLToPath(new URL('./support/render-case.ts', import.meta.url));

/**
 * The standard variant set rendered three ways, each run in a fresh process so
 * peak RSS is its own: Pictor's renderer (one decode, a cascade of resizes),
 * independent pipelines one after another (the per-request approach), and
 * independent pipelines all at once. Quality: PSNR of ours against direct resizes.
 */
export async function runVariantSet(options: VariantSetOptions): Promise<BenchResult> {
  const size = options.photo ?? { width: 4000, height: 3000 };
  const generated = await photoLike(size.width, size.height);
  const dir = join(tmpdir(), 'pictor-bench');
  await mkdir(dir, { recursive: true });
  const generatedPath = join(dir, `variant-set-${size.width}x${size.height}.jpg`);
  await writeFile(generatedPath, generated.jpeg);
  const images = [{ name: `${size.width}x${size.height} photo-like JPEG (${mb(generated.jpeg.length)})`, path: generatedPath }];
  if ((options.fixture ?? true) && !photoMissing) images.unshift({ name: `2569067123_aca715a2ee_o.jpg (2725x2225, ${mb((await readFile(PHOTO_FIXTURE)).length)})`, path: PHOTO_FIXTURE });

  const rows: (string | number)[][] = [];
  const figures: Record<string, unknown>[] = [];
  const speedups: number[] = [];
  const cpuSavings: number[] = [];
  const psnrs: number[] = [];
  for (const image of images) {
    const runs: Record<RenderCase, CaseMeasurement[]> = { pictor: [], sequential: [], parallel: [] };
    await alternate(options.rounds, RENDER_CASES, async (name) => {
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', CASE, name, image.path]);
      runs[name].push(JSON.parse(stdout) as CaseMeasurement);
    });
    const wall = (name: RenderCase) => summarize(runs[name].map((r) => r.wallMs));
    const cpu = (name: RenderCase) => summarize(runs[name].map((r) => r.cpuMs));
    const rss = (name: RenderCase) => summarize(runs[name].map((r) => r.peakRssMiB));
    const base = (name: RenderCase) => summarize(runs[name].map((r) => r.baseRssMiB));
    const original = await readFile(image.path);
    const quality = await qualityOf(original);
    psnrs.push(quality.lossless);
    const speedup = wall('sequential').median / wall('pictor').median;
    const cpuSaving = Math.min(cpu('sequential').median, cpu('parallel').median) / cpu('pictor').median;
    speedups.push(speedup);
    cpuSavings.push(cpuSaving);
    for (const name of RENDER_CASES) {
      rows.push([
        image.name,
        name === 'pictor' ? "Pictor's renderer" : name === 'sequential' ? 'pipelines in sequence' : 'pipelines in parallel',
        spread(wall(name), 0),
        spread(cpu(name), 0),
        `${rss(name).median.toFixed(0)} (from ${base(name).median.toFixed(0)})`,
        name === 'pictor' ? '1.00x' : `${(wall(name).median / wall('pictor').median).toFixed(2)}x`,
        name === 'pictor' ? '1.00x' : `${(cpu(name).median / cpu('pictor').median).toFixed(2)}x`,
      ]);
    }
    figures.push({ image: image.name, runs, psnr: quality });
  }
  const worst = (values: number[]) => Math.min(...values);
  return {
    name: 'variant-set',
    parameters: { rounds: options.rounds, specs: STANDARD_SET, images: images.map((i) => i.name) },
    tables: [
      {
        title: `The standard variant set (${STANDARD_SET.length} outputs), median (min–max) of ${options.rounds} alternated runs, each in a fresh process`,
        columns: ['image', 'renderer', 'wall ms', 'CPU ms', 'peak RSS MiB', 'wall ÷ ours', 'CPU ÷ ours'],
        rows,
      },
      {
        title: 'PSNR, dB: ours against direct resizes (the goal), and both against a resize of the full decode',
        columns: ['image', 'width', 'ours vs direct (lossless)', 'ours vs full-decode resize', 'direct vs full-decode resize', 'ours vs direct as served (worst format)'],
        rows: figures.flatMap((f) => {
          const q = f.psnr as Quality;
          return Object.entries(q.byWidth).map(([w, db]) => [f.image as string, w, db.direct.toFixed(1), db.oursToFull.toFixed(1), db.directToFull.toFixed(1), q.encoded.toFixed(1)]);
        }),
      },
    ],
    goals: [
      goal('wall ≥ 1.8x faster than pipelines in sequence', speedups.map((s, i) => `${s.toFixed(2)}x ${images[i]!.name.split(' ')[0]}`).join(', '), worst(speedups) >= 1.8),
      goal('CPU ≥ 1.2x less than independent pipelines', cpuSavings.map((s, i) => `${s.toFixed(2)}x ${images[i]!.name.split(' ')[0]}`).join(', '), worst(cpuSavings) >= 1.2),
      goal('PSNR ≥ 45 dB against direct resizing', psnrs.map((p, i) => `${p.toFixed(1)} dB ${images[i]!.name.split(' ')[0]}`).join(', '), worst(psnrs) >= 45),
    ],
    figures: { images: figures, generatedFrom: generated.source },
  };
}

interface Quality {
  /** The cascade against direct resizes, both lossless: the resampling difference alone (the goal's figure). */
  readonly lossless: number;
  /** The served set against one direct render per spec, decoded: resampling plus encoder noise on different inputs. */
  readonly encoded: number;
  /** By width, lossless: ours against direct, and each against a resize of the full decode (no shrink-on-load). */
  readonly byWidth: Record<number, { readonly direct: number; readonly oursToFull: number; readonly directToFull: number }>;
}

async function qualityOf(original: Buffer): Promise<Quality> {
  const widths = [...new Set(STANDARD_SET.map((s) => s.w!))];
  const cascaded = await renderVariantSet(original, widths.map((w) => ({ w, fmt: 'png' as const })), SET_LIMITS);
  // The yardstick: the whole image decoded, then one lanczos3 resize per width.
  const full = await sharp(original).autoOrient().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  const byWidth: Quality['byWidth'] = {};
  for (const { spec, variant } of cascaded) {
    const direct = (await renderVariant(original, spec, SET_LIMITS)).body;
    const reference = await sharp(full.data, { raw: full.info }).resize({ width: variant.width, height: variant.height, fit: 'fill' }).png().toBuffer();
    byWidth[spec.w!] = { direct: await psnr(variant.body, direct), oursToFull: await psnr(variant.body, reference), directToFull: await psnr(direct, reference) };
  }
  let worstEncoded = Infinity;
  for (const { spec, variant } of await renderVariantSet(original, STANDARD_SET, SET_LIMITS)) {
    worstEncoded = Math.min(worstEncoded, await psnr(variant.body, (await renderVariant(original, spec, SET_LIMITS)).body));
  }
  return { lossless: Math.min(...Object.values(byWidth).map((w) => w.direct)), encoded: worstEncoded, byWidth };
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
