import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { PictorError } from '../../core/errors.ts';
import { PUBLISHED_VERSION_METADATA, publishedKey } from '../../core/object-keys.ts';
import type { OriginalSource, VariantStore } from './origin-request.ts';
import type { RenderedVariant } from '../../imaging/render.ts';

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
 * S3 answers a missing key with these names (HEAD has no body, so no NoSuchKey).
 * Without s3:ListBucket, which a per-tenant role does not get, a missing key is a 403.
 */
const MISSING = new Set(['NoSuchKey', 'NotFound', 'AccessDenied', 'Forbidden']);

/** Any other S3 failure is the origin's, not the viewer's: 503 lets the edge fail over. */
function unavailable(error: unknown): PictorError {
  return new PictorError('OriginUnavailable', 'The image store did not answer.', { cause: error });
}

/** A HEAD's answer, or null when there is no such object. */
async function head(s3: S3Client, bucket: string, key: string) {
  try {
    return await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  } catch (error) {
    if (MISSING.has((error as Error).name)) return null;
    throw unavailable(error);
  }
}

export function s3OriginalSource(s3: S3Client, bucket: string, maxBytes: number): OriginalSource {
  return {
    async exists(key) {
      return (await head(s3, bucket, key)) !== null;
    },
    async publishedVersion(image) {
      const pointer = await head(s3, bucket, publishedKey(image));
      const version = Number(pointer?.Metadata?.[PUBLISHED_VERSION_METADATA]);
      return Number.isSafeInteger(version) && version > 0 ? version : null;
    },
    async get(key) {
      let response;
      try {
        response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      } catch (error) {
        if (MISSING.has((error as Error).name)) return null;
        throw unavailable(error);
      }
      if ((response.ContentLength ?? 0) > maxBytes) {
        response.Body?.transformToWebStream().cancel();
        throw new PictorError('ImageTooLarge', `The original is ${response.ContentLength} bytes; the limit is ${maxBytes}.`);
      }
      try {
        return Buffer.from(await response.Body!.transformToByteArray());
      } catch (error) {
        throw unavailable(error);
      }
    },
  };
}

export function s3VariantStore(s3: S3Client, bucket: string): VariantStore {
  return {
    async exists(key) {
      return (await head(s3, bucket, key)) !== null;
    },
    async delete(key) {
      try {
        await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      } catch (error) {
        throw unavailable(error);
      }
    },
    async put(key: string, variant: RenderedVariant, cacheControl: string) {
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: variant.body,
          ContentType: variant.contentType,
          CacheControl: cacheControl,
        }),
      );
    },
  };
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
        // A hung region must become a prompt 5xx, well inside the 30 s origin-request limit, so the edge can fail over.
        requestHandler: { connectionTimeout: 1000, requestTimeout: 5000 },
        maxAttempts: 2,
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      });
      clients.set(region, client);
    }
    return client;
  };
}
