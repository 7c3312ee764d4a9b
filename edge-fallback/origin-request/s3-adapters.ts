import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { PictorError } from '../../core/errors.ts';
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

/** The signal that ends a call at its deadline or the request's, whichever comes first. */
function deadline(kind: keyof typeof S3_DEADLINES_MS, budget: Budget): AbortSignal {
  const left = Math.min(S3_DEADLINES_MS[kind], budget.remaining());
  if (left <= 0) throw unavailable(new Error('The request has no time left for another S3 call.'));
  return AbortSignal.timeout(left);
}

/** A HEAD's answer, or null when there is no such object. */
async function head(s3: S3Client, bucket: string, key: string, budget: Budget) {
  try {
    return await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: deadline('head', budget) });
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
      const signal = deadline('get', budget);
      let response;
      try {
        response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
      } catch (error) {
        if (MISSING.has((error as Error).name)) return null;
        throw unavailable(error);
      }
      const stream = response.Body!.transformToWebStream();
      if ((response.ContentLength ?? 0) > maxBytes) {
        void stream.cancel();
        throw new PictorError('ImageTooLarge', `The original is ${response.ContentLength} bytes; the limit is ${maxBytes}.`);
      }
      try {
        return await readAll(stream, signal);
      } catch (error) {
        throw unavailable(error);
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
        await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: deadline('delete', budget) });
      } catch (error) {
        throw unavailable(error);
      }
    },
    async put(key: string, variant: RenderedVariant, cacheControl: string) {
      try {
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: variant.body, ContentType: variant.contentType, CacheControl: cacheControl }), {
          abortSignal: deadline('put', budget),
        });
      } catch (error) {
        throw unavailable(error);
      }
    },
  };
}

/** A body read to its end, or abandoned when the call's deadline passes. */
async function readAll(stream: ReadableStream<Uint8Array>, signal: AbortSignal): Promise<Buffer> {
  const reader = stream.getReader();
  const abort = () => void reader.cancel(signal.reason).catch(() => undefined);
  signal.addEventListener('abort', abort, { once: true });
  try {
    const chunks: Uint8Array[] = [];
    for (;;) {
      if (signal.aborted) throw signal.reason;
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
    }
    if (signal.aborted) throw signal.reason;
    return Buffer.concat(chunks);
  } finally {
    signal.removeEventListener('abort', abort);
  }
}

/**
 * One client per region. `endpoint` points at an S3-compatible server instead of
 * AWS. Checksums only when required: the SDK's newer default frames streamed
 * bodies, which S3-compatible servers may store verbatim (shared/LOCAL_STACK.md).
 */
export function s3ClientFactory(endpoints: Readonly<Record<string, string>> = {}): (region: string) => S3Client {
  const clients = new Map<string, S3Client>();
  return (region) => {
    let client = clients.get(region);
    if (!client) {
      const endpoint = endpoints[region];
      client = new S3Client({
        region,
        endpoint,
        forcePathStyle: endpoint !== undefined,
        // A silent socket fails the attempt rather than only logging a warning; each call's deadline bounds the rest.
        requestHandler: { connectionTimeout: S3_DEADLINES_MS.connect, requestTimeout: S3_DEADLINES_MS.head, throwOnRequestTimeout: true },
        maxAttempts: 2,
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      });
      clients.set(region, client);
    }
    return client;
  };
}
