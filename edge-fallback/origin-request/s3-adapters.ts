import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { PictorError } from '../../core/errors.ts';
import { expectBucketOwner } from '../../storage/bucket-owner.ts';
import { PUBLISHED_VERSION_METADATA, publishedKey } from '../../core/object-keys.ts';
import type { RenderedVariant } from '../../imaging/render.ts';
import type { OriginalSource, VariantStore } from './origin-request.ts';

/** The REST endpoint host of a bucket, as a CloudFront S3 origin names it. */
export function s3OriginDomain(bucket: string, region: string): string {
  return `${bucket}.s3.${region}.amazonaws.com`;
}

const S3_DOMAIN = /^(.+)\.s3(?:[.-]([a-z0-9-]+))?\.amazonaws\.com$/;

/** The bucket and region behind an S3 origin domain; null when it is not one. */
export function parseS3OriginDomain(domain: string): { bucket: string; region: string } | null {
  const match = S3_DOMAIN.exec(domain);
  return match ? { bucket: match[1]!, region: match[2] ?? 'us-east-1' } : null;
}

/**
 * How long each S3 call may take in all, retries included, before it fails as
 * OriginUnavailable. The SDK's own request timeout only logs a warning unless
 * told to throw, so a hung region would hold the function to its 30 s limit.
 * Lambda@Edge runs near the viewer, so a call may cross an ocean: a HEAD is
 * about one round trip, a 64 MiB original a few seconds.
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/edge-functions-restrictions.html
 */
export const S3_DEADLINES_MS = { connect: 1000, head: 2000, put: 5000, delete: 2000, get: 10_000 } as const;

/** The time a request has left: every S3 call ends before it does. */
export interface Budget {
  /** Milliseconds left. */
  remaining(): number;
}

export function budgetUntil(deadline: number, clock: () => number = Date.now): Budget {
  return { remaining: () => deadline - clock() };
}

/**
 * S3 answers a missing key with these names (HEAD has no body, so no NoSuchKey).
 * Without s3:ListBucket, which the function's role does not get, a missing key is a 403.
 */
const MISSING = new Set(['NoSuchKey', 'NotFound', 'AccessDenied', 'Forbidden']);

/** Any other S3 failure, a deadline passed included, is the store's, not the viewer's. */
function unavailable(error: unknown): PictorError {
  return new PictorError('OriginUnavailable', 'The image store did not answer.', { cause: error });
}

/**
 * Runs one call with a signal that ends it at its deadline or the request's,
 * whichever comes first. The timer goes with the call: timers left running
 * (as AbortSignal.timeout leaves them) slowed every render measurably.
 */
async function withDeadline<T>(kind: keyof typeof S3_DEADLINES_MS, budget: Budget, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const left = Math.min(S3_DEADLINES_MS[kind], budget.remaining());
  if (left <= 0) throw new PictorError('OriginUnavailable', 'The request has no time left for another S3 call.');
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new PictorError('OriginUnavailable', `The S3 ${kind} passed its ${left} ms deadline.`)), left);
  try {
    return await call(controller.signal);
  } finally {
    clearTimeout(timer);
  }
}

/** A HEAD's answer, or null when there is no such object. */
async function head(s3: S3Client, bucket: string, key: string, budget: Budget) {
  try {
    return await withDeadline('head', budget, (abortSignal) => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), { abortSignal }));
  } catch (error) {
    if (MISSING.has((error as Error).name)) return null;
    throw unavailable(error);
  }
}

export function s3OriginalSource(s3: S3Client, bucket: string, maxBytes: number, budget: Budget): OriginalSource {
  return {
    name: bucket,
    async exists(key) {
      return (await head(s3, bucket, key, budget)) !== null;
    },
    async publishedVersion(image) {
      const pointer = await head(s3, bucket, publishedKey(image), budget);
      const version = Number(pointer?.Metadata?.[PUBLISHED_VERSION_METADATA]);
      return Number.isSafeInteger(version) && version > 0 ? version : null;
    },
    async get(key) {
      try {
        return await withDeadline('get', budget, async (abortSignal) => {
          let response;
          try {
            response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal });
          } catch (error) {
            if (MISSING.has((error as Error).name)) return null;
            throw error;
          }
          const body = response.Body!;
          // The SDK's body is a node stream here: ending it drops the connection.
          const discard = () => (body as unknown as { destroy?: () => void }).destroy?.();
          if ((response.ContentLength ?? 0) > maxBytes) {
            discard();
            throw new PictorError('ImageTooLarge', `The original is ${response.ContentLength} bytes; the limit is ${maxBytes}.`);
          }
          return Buffer.from(await untilAborted(body.transformToByteArray(), abortSignal, discard));
        });
      } catch (error) {
        throw error instanceof PictorError ? error : unavailable(error);
      }
    },
  };
}

export function s3VariantStore(s3: S3Client, bucket: string, budget: Budget): VariantStore {
  return {
    async exists(key) {
      return (await head(s3, bucket, key, budget)) !== null;
    },
    async delete(key) {
      try {
        await withDeadline('delete', budget, (abortSignal) => s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }), { abortSignal }));
      } catch (error) {
        throw unavailable(error);
      }
    },
    async put(key: string, variant: RenderedVariant, cacheControl: string) {
      try {
        await withDeadline('put', budget, (abortSignal) =>
          s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: variant.body, ContentType: variant.contentType, CacheControl: cacheControl }), { abortSignal }),
        );
      } catch (error) {
        throw unavailable(error);
      }
    },
  };
}

/** A body read to its end, or abandoned (and `abandon` called) once the call's deadline passes. */
function untilAborted<T>(reading: Promise<T>, signal: AbortSignal, abandon: () => void): Promise<T> {
  if (signal.aborted) {
    abandon();
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const abort = () => {
      abandon();
      reject(signal.reason);
    };
    signal.addEventListener('abort', abort, { once: true });
    reading.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
  });
}

/**
 * One client per region, each request naming `account` as its bucket's owner
 * (storage/bucket-owner.ts). `endpoint` points at an S3-compatible server instead of
 * AWS. Checksums only when required: the SDK's newer default frames streamed
 * bodies, which S3-compatible servers may store verbatim (shared/LOCAL_STACK.md).
 */
export function s3ClientFactory(endpoints: Readonly<Record<string, string>> = {}): (region: string, account: string) => S3Client {
  const clients = new Map<string, S3Client>();
  return (region, account) => {
    let client = clients.get(`${account}/${region}`);
    if (!client) {
      const endpoint = endpoints[region];
      client = expectBucketOwner(new S3Client({
        region,
        endpoint,
        forcePathStyle: endpoint !== undefined,
        // A silent socket fails the attempt rather than only logging a warning; each call's deadline bounds the rest.
        requestHandler: { connectionTimeout: S3_DEADLINES_MS.connect, requestTimeout: S3_DEADLINES_MS.head, throwOnRequestTimeout: true },
        maxAttempts: 2,
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      }), account);
      clients.set(`${account}/${region}`, client);
    }
    return client;
  };
}
