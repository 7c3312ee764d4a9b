import { cacheControlFor } from '../../core/cache-control.ts';
import { isPictorError, PictorError } from '../../core/errors.ts';
import type { ImagePath } from '../../core/image-path.ts';
import { snapshotKey, variantKey } from '../../core/object-keys.ts';
import { largestBreakpoint, type TenantPolicy } from '../../core/tenant-policy.ts';
import type { VariantSpec } from '../../core/variant.ts';
import { renderVariant, type RenderLimits, type RenderedVariant } from '../../imaging/render.ts';

/**
 * A copy of the originals: the primary bucket or a replica. Each method throws
 * PictorError OriginUnavailable when the copy does not answer in time.
 */
export interface OriginalSource {
  /** Names the copy in logs. */
  readonly name: string;
  /** The object's bytes, or null when there is no such object. */
  get(key: string): Promise<Buffer | null>;
  exists(key: string): Promise<boolean>;
  /** The image's latest published version, from its pointer; null when none is published. */
  publishedVersion(image: Pick<ImagePath, 'tenant' | 'imageId'>): Promise<number | null>;
}

/** The variants bucket of the origin CloudFront chose, which CloudFront then reads the variant from. */
export interface VariantStore {
  exists(key: string): Promise<boolean>;
  put(key: string, variant: RenderedVariant, cacheControl: string): Promise<void>;
  delete(key: string): Promise<void>;
}

export interface Logger {
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
}

export interface VariantRequest {
  readonly path: ImagePath;
  readonly spec: VariantSpec;
  readonly policy: TenantPolicy;
}

/**
 * What CloudFront fetches next: always the variant's key in the origin's own
 * bucket. `how` says why it will be there, or why the origin gets to answer.
 */
export interface VariantOutcome {
  readonly key: string;
  readonly how:
    /** It was stored already. */
    | 'stored'
    /** Rendered and stored just now. */
    | 'rendered'
    /** The origin's bucket did not answer: CloudFront asks it anyway, sees the outage itself and fails over. */
    | 'origin-unavailable';
}

export interface OriginDeps {
  /** Every copy of the originals, nearest first. */
  readonly originals: readonly OriginalSource[];
  readonly variants: VariantStore;
  /** The render limits; the size bound is each tenant's largest breakpoint. */
  readonly limits: Omit<RenderLimits, 'maxDimension'>;
  readonly log: Logger;
}

const notFound = () => new PictorError('NotFound', 'No such image.');

/** Renders that find their source changed under them start again at most this many times. */
const MAX_RENDER_ROUNDS = 3;

/**
 * The miss path. CloudFront fetches every response from its origin's variants
 * bucket itself; this makes sure the variant is there first: stored already, or
 * rendered now from a published original and stored. Only published bytes are
 * read: a versioned URL renders from its version's snapshot, an unversioned one
 * from the snapshot the published pointer names. Keys come from the validated
 * path and spec only.
 *
 * When the origin's own bucket does not answer, nothing is rendered: CloudFront
 * is let through to that origin, whose failure it sees and fails over on, as
 * it does only on an origin's own answers.
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/high_availability_origin_failover.html
 * @throws {PictorError} NotFound, ImageTooLarge, UnprocessableImage, or
 *   OriginUnavailable when no copy of the original answers.
 */
export async function serveVariant(request: VariantRequest, deps: OriginDeps): Promise<VariantOutcome> {
  const key = variantKey(request.path, request.spec);
  const originals = nearestAnswering(deps.originals, deps.log);
  // A miss is usually "not stored", so the pointer is read alongside rather than after.
  const pointer = request.path.version === undefined ? settle(originals.publishedVersion(request.path)) : undefined;
  let stored: boolean;
  try {
    stored = await deps.variants.exists(key);
  } catch (error) {
    deps.log.warn("the origin's variants bucket did not answer; CloudFront will fail over", { key, error });
    return { key, how: 'origin-unavailable' };
  }
  if (stored) return { key, how: 'stored' };

  let version = request.path.version ?? (await unsettle(pointer!));
  for (let round = 1; ; round++) {
    // The same answer whether the image is absent, unpublished or another tenant's:
    // keys are per tenant, so another tenant's image is simply absent here.
    if (version === null) throw notFound();
    const original = await originals.get(snapshotKey(request.path, version));
    if (!original) throw notFound();

    const limits = { ...deps.limits, maxDimension: largestBreakpoint(request.policy) };
    const variant = await renderVariant(original, request.spec, limits);
    try {
      await deps.variants.put(key, variant, cacheControlFor(request.path, request.policy));
    } catch (error) {
      deps.log.warn("the origin's variants bucket did not take the render; CloudFront will fail over", { key, error });
      return { key, how: 'origin-unavailable' };
    }
    if (await stillServes(request.path, version, originals)) {
      deps.log.info('variant rendered', { key, bytes: variant.body.length, width: variant.width, height: variant.height, source: originals.answering() });
      return { key, how: 'rendered' };
    }
    // A takedown or a newer publish ran while this rendered: what was stored must not outlive it.
    await deps.variants.delete(key);
    deps.log.info('variant withdrawn: its original changed while it rendered', { key, version });
    if (request.path.version !== undefined) throw notFound();
    version = await originals.publishedVersion(request.path);
    if (round === MAX_RENDER_ROUNDS) throw new PictorError('OriginUnavailable', `The published version of ${request.path.tenant}/${request.path.imageId} kept changing while it rendered.`);
  }
}

/**
 * Whether the version a variant was rendered from is still what its URL serves,
 * checked after the variant is stored, in the copy of the originals the render
 * read. A takedown erases the snapshot and pointer before it lists the variants,
 * and publishing moves the pointer before it empties the `latest` generation, so
 * a store that lands after either is caught here or by them: S3 reads are
 * strongly consistent after writes. A replica gets the pointer only when
 * replication delivers it, so publishing empties `latest` again in every origin's
 * bucket once every replica has it: a render from a replica's older pointer is
 * stored before that, and goes, or checks after it, and withdraws.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/Welcome.html#ConsistencyModel
 */
async function stillServes(path: ImagePath, version: number, originals: OriginalSource): Promise<boolean> {
  if (path.version !== undefined) return originals.exists(snapshotKey(path, version));
  return (await originals.publishedVersion(path)) === version;
}

/** One source over every copy: each read goes to the nearest copy that has not failed this request. */
function nearestAnswering(copies: readonly OriginalSource[], log: Logger): OriginalSource & { answering(): string } {
  let first = 0;
  const read = async <T>(operation: (copy: OriginalSource) => Promise<T>): Promise<T> => {
    for (;;) {
      const copy = copies[first];
      if (!copy) throw new PictorError('OriginUnavailable', 'No copy of the original answered.');
      try {
        return await operation(copy);
      } catch (error) {
        if (!isPictorError(error) || error.code !== 'OriginUnavailable') throw error;
        log.warn('a copy of the originals did not answer; trying the next', { copy: copy.name, error });
        first++;
      }
    }
  };
  return {
    name: 'nearest',
    answering: () => copies[first]?.name ?? 'none',
    get: (key) => read((copy) => copy.get(key)),
    exists: (key) => read((copy) => copy.exists(key)),
    publishedVersion: (image) => read((copy) => copy.publishedVersion(image)),
  };
}

type Settled<T> = Promise<{ ok: true; value: T } | { ok: false; error: unknown }>;

/** A read started early, whose failure is observed only if its answer is used. */
function settle<T>(promise: Promise<T>): Settled<T> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

async function unsettle<T>(settled: Settled<T>): Promise<T> {
  const result = await settled;
  if (!result.ok) throw result.error;
  return result.value;
}
