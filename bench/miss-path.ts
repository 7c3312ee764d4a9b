import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { Jimp } from 'jimp';
import sharp from 'sharp';
import { variantKey } from '../core/object-keys.ts';
import { parseConfig } from '../core/tenant-config.ts';
import { variantQuery, type VariantSpec } from '../core/variant.ts';
import { createOriginRequestHandler } from '../edge-fallback/origin-request/handler.ts';
import { DEFAULT_RENDER_LIMITS, renderVariant } from '../imaging/render.ts';
import { originRequestContext, originRequestEvent } from '../local/edge/origin-event.ts';
import { BUCKETS, localOriginRequestConfig } from '../local/topology.ts';
import { publishDirectly } from '../local/seed.ts';
import { startTwin } from '../local/twin.ts';
import { photoLike } from './support/photo.ts';
import { goal, type BenchResult } from './support/report.ts';
import { alternate, msSince, spread, summarize } from './support/stats.ts';
import { findTjbench, tjbenchDecodeMs } from './support/tjbench.ts';

export interface MissPathOptions {
  readonly rounds: number;
  /** @default 4000x3000 (12 MP) */
  readonly photo?: { readonly width: number; readonly height: number };
  /** Seconds tjbench times its decode loop each round. @default 1 */
  readonly tjbenchSeconds?: number;
  /** Install tjbench with apt-get when it is absent. @default true */
  readonly installTools?: boolean;
}

export const MISS_PATH_FULL: MissPathOptions = { rounds: 5 };

const WIDTH = 720;
const CONFIG = parseConfig({ tenants: { shop: { breakpoints: [360, 720, 1440, 2560] } } });
const IMAGE = { tenant: 'shop', imageId: 'camera-photo' };
const SPECS: Record<'webp' | 'jpeg', VariantSpec> = { webp: { fmt: 'webp', q: 75, w: WIDTH }, jpeg: { fmt: 'jpeg', q: 75, w: WIDTH } };

type Case = 'origin-request webp' | 'origin-request jpeg' | 'renderVariant jpeg' | 'sharp, full decode, jpeg' | 'jimp jpeg' | 'tjbench full decode';

/**
 * The miss path: the real origin-request handler on the twin's S3 (read the
 * original, render, store the variant, answer) for a 12 MP JPEG to 720 px WebP and
 * JPEG; against libjpeg-turbo's own full decode (tjbench), jimp, and sharp made to
 * decode in full before resizing (no shrink-on-load).
 */
export async function runMissPath(options: MissPathOptions): Promise<BenchResult> {
  const size = options.photo ?? { width: 4000, height: 3000 };
  const { jpeg: original, source } = await photoLike(size.width, size.height);
  const dataDir = await mkdtemp(join(tmpdir(), 'pictor-bench-miss-'));
  const file = join(dataDir, 'original.jpg');
  await writeFile(file, original);
  const tjbench = await findTjbench(options.installTools ?? true);
  const twin = await startTwin({ config: CONFIG, dataDir, logLevel: 'SILENT', pipeline: false });
  const samples: Record<Case, number[]> = {
    'origin-request webp': [],
    'origin-request jpeg': [],
    'renderVariant jpeg': [],
    'sharp, full decode, jpeg': [],
    'jimp jpeg': [],
    'tjbench full decode': [],
  };
  try {
    await publishDirectly(twin.s3Client, IMAGE, original);
    const handler = createOriginRequestHandler(localOriginRequestConfig(CONFIG, twin.endpoints, 'SILENT'));
    const [origin] = twin.distribution.originGroup.members;
    const limits = { ...DEFAULT_RENDER_LIMITS, maxDimension: 2560 };
    const miss = async (format: 'webp' | 'jpeg') => {
      const spec = SPECS[format];
      const event = originRequestEvent({ uri: `/img/${IMAGE.tenant}/${IMAGE.imageId}`, querystring: variantQuery(spec), originDomain: origin.domain, originHeaders: origin.customHeaders });
      const start = process.hrtime.bigint();
      const out = await handler(event, originRequestContext(twin.distribution.originRequestFunctionArn));
      if ('status' in out) throw new Error(`Expected the origin-request handler to pass the request on but it answered ${out.status}: ${out.body}`);
      // Then CloudFront fetches the stored variant from the origin itself.
      const fetched = await fetch(`${twin.endpoints[origin.region]}/${origin.bucket}${out.uri}`);
      if (fetched.status !== 200) throw new Error(`Expected the stored variant from S3 but received ${fetched.status}`);
      await fetched.arrayBuffer();
      const ms = msSince(start);
      // Each miss must render: drop what it stored, outside the clock.
      await twin.s3Client.send(new DeleteObjectCommand({ Bucket: BUCKETS.variants.bucket, Key: variantKey(IMAGE, spec) }));
      return ms;
    };
    const timed = async (work: () => Promise<unknown>) => {
      const start = process.hrtime.bigint();
      await work();
      return msSince(start);
    };
    const cases: Record<Case, () => Promise<number>> = {
      'origin-request webp': () => miss('webp'),
      'origin-request jpeg': () => miss('jpeg'),
      'renderVariant jpeg': () => timed(() => renderVariant(original, SPECS.jpeg, limits)),
      'sharp, full decode, jpeg': () =>
        timed(async () => {
          const { data, info } = await sharp(original).raw().toBuffer({ resolveWithObject: true });
          await sharp(data, { raw: info }).resize({ width: WIDTH }).jpeg({ quality: 75 }).toBuffer();
        }),
      'jimp jpeg': () =>
        timed(async () => {
          const image = await Jimp.read(original);
          image.resize({ w: WIDTH });
          await image.getBuffer('image/jpeg', { quality: 75 });
        }),
      'tjbench full decode': () => tjbenchDecodeMs(tjbench.path!, file, options.tjbenchSeconds ?? 1),
    };
    const names = (Object.keys(cases) as Case[]).filter((name) => name !== 'tjbench full decode' || tjbench.path);
    // Warm each path once: codec setup and the first S3 connection are not the miss path.
    for (const name of names) if (name !== 'tjbench full decode') await cases[name]();
    await alternate(options.rounds, names, async (name) => void samples[name].push(await cases[name]()));
  } finally {
    await twin.close();
    await rm(dataDir, { recursive: true, force: true });
  }

  const stats = Object.fromEntries(Object.entries(samples).map(([name, values]) => [name, summarize(values)])) as Record<Case, ReturnType<typeof summarize>>;
  const decode = stats['tjbench full decode'];
  const jpegRatio = stats['origin-request jpeg'].median / decode.median;
  const rows = (Object.keys(samples) as Case[]).map((name) => [
    name,
    samples[name].length === 0 ? 'skipped' : spread(stats[name], 0),
    samples[name].length === 0 || !tjbench.path ? '–' : `${(stats[name].median / decode.median).toFixed(2)}x`,
  ]);
  return {
    name: 'miss-path',
    parameters: { rounds: options.rounds, photo: `${size.width}x${size.height}`, bytes: original.length, generatedFrom: source, width: WIDTH, quality: 75, tjbench: tjbench.path ?? ('reason' in tjbench ? tjbench.reason : '') },
    tables: [
      {
        title: `${size.width}x${size.height} JPEG (${(original.length / 1e6).toFixed(1)} MB) to ${WIDTH} px, ms: median (min–max) of ${options.rounds} alternated rounds`,
        columns: ['path', 'ms', '÷ tjbench decode'],
        rows,
      },
    ],
    goals: [
      tjbench.path
        ? goal('JPEG miss path ≤ 1.5x the tjbench full decode', `${jpegRatio.toFixed(2)}x (${stats['origin-request jpeg'].median.toFixed(0)} ms against ${decode.median.toFixed(1)} ms)`, jpegRatio <= 1.5)
        : goal('JPEG miss path ≤ 1.5x the tjbench full decode', '–', null, 'reason' in tjbench ? tjbench.reason : undefined),
    ],
    figures: { samples, stats },
  };
}
