import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

/** One viewer request as the replay sees it: what reaches CloudFront, and the bytes it returns. */
export interface ReplayRequest {
  readonly method: string;
  readonly uri: string;
  /** The raw query string, without `?`. */
  readonly query: string;
  readonly accept?: string;
  readonly bytes: number;
}

export interface WorkloadOptions {
  readonly requests: number;
  readonly images: number;
  /** Zipf exponent of image popularity. @default 1 (classic Zipf) */
  readonly zipf?: number;
  /** @default 1 */
  readonly seed?: number;
  /** @default 'shop' */
  readonly tenant?: string;
  /** The size every object is counted at: the design notes' average object. @default 40 KB (40,000 bytes, as the cost model counts it) */
  readonly objectBytes?: number;
}

type Weighted<T> = ReadonlyArray<readonly [T, number]>;

/**
 * CSS viewport widths and device pixel ratios by device class, rounded from
 * public browser statistics: phones at 2–3x, desktops mostly at 1x.
 */
const DEVICES: Weighted<{ viewports: Weighted<number>; dprs: Weighted<number> }> = [
  [{ viewports: [[360, 10], [375, 6], [390, 7], [393, 5], [412, 8], [414, 5], [430, 3]], dprs: [[2, 35], [2.625, 10], [3, 55]] }, 55],
  [{ viewports: [[768, 4], [810, 2], [820, 2], [1024, 2]], dprs: [[1, 10], [2, 90]] }, 8],
  [{ viewports: [[1280, 5], [1366, 7], [1440, 5], [1536, 6], [1920, 12], [2560, 3]], dprs: [[1, 60], [1.25, 15], [1.5, 10], [2, 15]] }, 37],
];
/** How much of the viewport the image slot takes: hero, half, third, quarter. */
const SLOTS: Weighted<number> = [[1, 40], [0.5, 30], [1 / 3, 20], [0.25, 10]];
/** A page's srcset, for the pages that pick from one instead of asking for exact pixels. */
const SRCSET = [320, 480, 640, 800, 1080, 1200, 1600, 2000, 2400];
/** Accept headers of image requests, by browser share. */
const ACCEPTS: Weighted<string | undefined> = [
  ['image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8', 65], // Chromium
  ['image/webp,image/avif,image/jxl,image/heic,image/heic-sequence,video/*;q=0.8,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5', 18], // Safari 17
  ['image/avif,image/webp,*/*', 8], // Firefox
  ['image/webp,*/*', 3], // Safari 14–15
  ['*/*', 4], // apps, crawlers
  [undefined, 2], // no Accept at all
];
const TRACKING = ['utm_source', 'utm_medium', 'utm_campaign', 'gclid', 'fbclid', 'sessionid', '_ga', 'ref'];
const CAMPAIGNS = ['newsletter', 'spring-sale', 'social', 'partner'];

/**
 * A seeded synthetic viewer workload: Zipf image popularity; widths from viewport
 * × DPR × slot (half as exact pixels, half picked from a srcset); an Accept mix;
 * about 30% carrying tracking or session parameters, some reordered, some with
 * upper-case names, and 1% random cache-busters. The same seed gives the same requests.
 */
export function* syntheticWorkload(options: WorkloadOptions): Generator<ReplayRequest> {
  const rng = xoroshiro128plus(options.seed ?? 1);
  const random = () => uniformFloat64(rng);
  const pickImage = zipfSampler(options.images, options.zipf ?? 1, random);
  const tenant = options.tenant ?? 'shop';
  const bytes = options.objectBytes ?? 40_000;
  const token = () => Math.floor(random() * 2 ** 48).toString(36);
  for (let i = 0; i < options.requests; i++) {
    const image = pickImage();
    const params: [string, string][] = [];
    if (random() >= 0.05) params.push(['w', String(requestedWidth(random))]);
    const fmt = random();
    if (fmt < 0.03) params.push(['fmt', 'jpg']);
    else if (fmt < 0.05) params.push(['fmt', 'webp']);
    if (random() < 0.1) params.push(['q', pick([[70, 1], [80, 1], [90, 1]], random).toString()]);
    if (random() < 0.3) {
      const count = 1 + Math.floor(random() * 3);
      for (let t = 0; t < count; t++) {
        const name = TRACKING[Math.floor(random() * TRACKING.length)]!;
        params.push([name, name.startsWith('utm') ? CAMPAIGNS[Math.floor(random() * CAMPAIGNS.length)]! : token()]);
      }
    }
    if (random() < 0.01) params.push([random() < 0.5 ? '_' : 'cb', token()]);
    if (params.length > 1 && random() < 0.2) shuffle(params, random);
    if (params.length > 0 && random() < 0.05) {
      const at = Math.floor(random() * params.length);
      params[at] = [params[at]![0].toUpperCase(), params[at]![1]];
    }
    yield { method: 'GET', uri: `/img/${tenant}/p${image.toString(36)}`, query: params.map(([n, v]) => `${n}=${v}`).join('&'), accept: pick(ACCEPTS, random), bytes };
  }
}

function requestedWidth(random: () => number): number {
  const device = pick(DEVICES, random);
  const needed = Math.round(pick(device.viewports, random) * pick(device.dprs, random) * pick(SLOTS, random));
  if (random() < 0.5) return needed;
  return SRCSET.find((w) => w >= needed) ?? SRCSET[SRCSET.length - 1]!;
}

/** Image ranks 0..n-1 with P(k) ∝ 1/(k+1)^s, by inverse CDF. */
export function zipfSampler(n: number, s: number, random: () => number): () => number {
  const cdf = new Float64Array(n);
  let total = 0;
  for (let k = 0; k < n; k++) cdf[k] = total += 1 / Math.pow(k + 1, s);
  return () => {
    const u = random() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

function pick<T>(choices: Weighted<T>, random: () => number): T {
  let total = 0;
  for (const [, weight] of choices) total += weight;
  let u = random() * total;
  for (const [value, weight] of choices) if ((u -= weight) < 0) return value;
  return choices[choices.length - 1]![0];
}

function shuffle<T>(items: T[], random: () => number): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
}
