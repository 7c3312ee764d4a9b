import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { parseConfig, standardVariants } from '../../core/tenant-config.ts';
import { renderVariantSet } from '../../imaging/render-set.ts';
import { DEFAULT_RENDER_LIMITS, renderVariant, type RenderLimits } from '../../imaging/render.ts';
import { sampleImage } from '../../local/sample-image.ts';
import type { VariantSpec } from '../../core/variant.ts';

export const RENDER_CASES = ['pictor', 'sequential', 'parallel'] as const;
export type RenderCase = (typeof RENDER_CASES)[number];

/** The default tenant's standard set: 320, 640 and 1280 wide, each as AVIF, WebP and legacy (JPEG). */
export const STANDARD_SET: readonly VariantSpec[] = standardVariants(parseConfig({ tenants: { shop: {} } }).tenants.shop!);
export const SET_LIMITS: RenderLimits = { ...DEFAULT_RENDER_LIMITS, maxDimension: 2560 };

export interface CaseMeasurement {
  readonly wallMs: number;
  /** User plus system time of the whole process (libvips' threads included) during the render. */
  readonly cpuMs: number;
  /** Peak resident set of the process, which rendered nothing else but a warm-up. */
  readonly peakRssMiB: number;
  /** Resident set before the render, after the warm-up: the floor under the peak. */
  readonly baseRssMiB: number;
  readonly outputs: number;
  readonly outputBytes: number;
}

/** Renders a variant set one of three ways: Pictor's one-decode cascade, or one pipeline per variant in sequence or all at once. */
export async function renderCase(name: RenderCase, original: Buffer, specs: readonly VariantSpec[] = STANDARD_SET, limits: RenderLimits = SET_LIMITS) {
  if (name === 'pictor') return (await renderVariantSet(original, specs, limits)).map((r) => r.variant);
  if (name === 'parallel') return Promise.all(specs.map((spec) => renderVariant(original, spec, limits)));
  const out = [];
  for (const spec of specs) out.push(await renderVariant(original, spec, limits));
  return out;
}

/** One case in a fresh process, so its peak RSS is its own. */
async function measureCase(name: RenderCase, file: string): Promise<CaseMeasurement> {
  const original = await readFile(file);
  // Load every codec first: the first encode of each format pays its setup.
  await renderCase('parallel', await sampleImage(64, 48));
  const baseRss = process.memoryUsage().rss;
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  const variants = await renderCase(name, original);
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  const used = process.cpuUsage(cpu);
  return {
    wallMs,
    cpuMs: (used.user + used.system) / 1000,
    peakRssMiB: (process.resourceUsage().maxRSS * 1024) / 2 ** 20,
    baseRssMiB: baseRss / 2 ** 20,
    outputs: variants.length,
    outputBytes: variants.reduce((sum, v) => sum + v.body.length, 0),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.stdout.write(JSON.stringify(await measureCase(process.argv[2] as RenderCase, process.argv[3]!)));
}
