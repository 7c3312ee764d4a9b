import { createHash } from 'node:crypto';
import {
  CopyObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { PictorError } from '../../core/errors.ts';
import type { ObjectHead, ObjectHeaders, ObjectStore, StoredObject, StoredVersion } from '../ports/object-store.ts';

/** S3 errors that mean "not this object (any more)": absent, or replaced since the event. */
const GONE = new Set(['NoSuchKey', 'NotFound', 'PreconditionFailed']);

/** The ObjectStore port on one S3 bucket. Failures other than "gone" are retryable OriginUnavailable. */
export class S3ObjectStore implements ObjectStore {
  constructor(private readonly s3: S3Client, readonly bucket: string) {}

  /** The object's bytes, or null when absent or (with `ifMatch`) replaced. */
  async get(key: string, ifMatch?: string, maxBytes = Infinity): Promise<StoredObject | null> {
    return this.guard(async () => {
      const object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, IfMatch: ifMatch }));
      if (ifMatch && object.ETag && unquote(object.ETag) !== unquote(ifMatch)) return null;
      if ((object.ContentLength ?? 0) > maxBytes) {
        throw new PictorError('ImageTooLarge', `The original is ${object.ContentLength} bytes; the limit is ${maxBytes}.`);
      }
      return { body: Buffer.from(await object.Body!.transformToByteArray()), etag: object.ETag ?? '' };
    });
  }

  /** The object's ETag, size, replication status and user metadata (names lowercased), or null when absent. */
  async head(key: string): Promise<ObjectHead | null> {
    return this.guard(async () => {
      const head = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { etag: head.ETag ?? '', size: head.ContentLength ?? 0, replicationStatus: head.ReplicationStatus, metadata: head.Metadata ?? {} };
    });
  }

  /** Writes an object with its headers and user metadata. */
  async put(key: string, body: Buffer | string, headers: ObjectHeaders): Promise<void> {
    await this.guard(() =>
      // An explicit length: the SDK cannot tell an empty body's and warns.
      this.s3.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentLength: Buffer.byteLength(body), ContentType: headers.contentType, CacheControl: headers.cacheControl, Metadata: headers.metadata }),
      ),
    );
  }

  /**
   * Writes an object only where none exists; false when one does. Append-only
   * stores (the audit bucket) rely on it. The HEAD comes first for S3-compatible
   * servers that ignore conditional writes; If-None-Match closes the race on S3.
   * https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html
   */
  async putIfAbsent(key: string, body: string, contentType: string): Promise<boolean> {
    if (await this.head(key)) return false;
    // Object Lock buckets refuse a write without an integrity header.
    // https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-managing.html
    const ContentMD5 = createHash('md5').update(body).digest('base64');
    const written = await this.guard(() => this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType, ContentMD5, IfNoneMatch: '*' })));
    return written !== null;
  }

  /** Copies from another bucket (or this one), a given version of it or the current; false when the source is gone or replaced. */
  async copyFrom(sourceBucket: string, sourceKey: string, key: string, options: { ifMatch?: string; sourceVersionId?: string } = {}): Promise<boolean> {
    const version = options.sourceVersionId ? `?versionId=${encodeURIComponent(options.sourceVersionId)}` : '';
    const copied = await this.guard(() =>
      this.s3.send(
        new CopyObjectCommand({
          Bucket: this.bucket,
          Key: key,
          CopySource: `${sourceBucket}/${sourceKey.split('/').map(encodeURIComponent).join('/')}${version}`,
          CopySourceIfMatch: options.ifMatch,
        }),
      ),
    );
    return copied !== null;
  }

  /** One page of the keys directly under a prefix (no deeper `/`), and where the next page starts. */
  async listPage(prefix: string, maxKeys: number, token?: string): Promise<{ keys: string[]; next?: string }> {
    const page = await this.guard(() =>
      this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, Delimiter: '/', MaxKeys: maxKeys, ContinuationToken: token })),
    );
    return { keys: (page?.Contents ?? []).flatMap((o) => (o.Key ? [o.Key] : [])), next: page?.IsTruncated ? page.NextContinuationToken : undefined };
  }

  /** Every key under a prefix, a page of ListObjectsV2 after another. */
  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.guard(() => this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token })));
      for (const object of page?.Contents ?? []) if (object.Key) keys.push(object.Key);
      token = page?.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  /**
   * Every version of every object under a prefix (a prefix without a trailing
   * `/` is an exact key: neighbours sharing its start are left out). Unversioned
   * buckets list each object once, with the version id "null".
   */
  async listVersions(prefix: string): Promise<StoredVersion[]> {
    const found: StoredVersion[] = [];
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    do {
      const page = await this.guard(() =>
        this.s3.send(new ListObjectVersionsCommand({ Bucket: this.bucket, Prefix: prefix, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker })),
      );
      // Delete markers are versions too: erasing leaves none behind.
      for (const v of page?.Versions ?? []) {
        if (v.Key && (prefix.endsWith('/') || v.Key === prefix)) found.push({ key: v.Key, versionId: v.VersionId ?? 'null' });
      }
      for (const v of page?.DeleteMarkers ?? []) {
        if (v.Key && (prefix.endsWith('/') || v.Key === prefix)) found.push({ key: v.Key, versionId: v.VersionId ?? 'null', deleteMarker: true });
      }
      keyMarker = page?.IsTruncated ? page.NextKeyMarker : undefined;
      versionIdMarker = page?.IsTruncated ? page.NextVersionIdMarker : undefined;
    } while (keyMarker);
    return found;
  }

  /** Permanently deletes object versions (not a delete marker on top), 1,000 per request. */
  async deleteVersions(versions: readonly StoredVersion[]): Promise<void> {
    for (let i = 0; i < versions.length; i += 1000) {
      const batch = versions.slice(i, i + 1000);
      const result = await this.guard(() =>
        this.s3.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((v) => ({ Key: v.key, VersionId: v.versionId })), Quiet: true } })),
      );
      const failed = (result?.Errors ?? []).filter((e) => e.Code !== 'NoSuchVersion' && e.Code !== 'NoSuchKey');
      if (failed.length > 0) {
        throw new PictorError('OriginUnavailable', `S3 kept ${failed.length} objects in ${this.bucket}: ${failed[0]!.Code} on ${failed[0]!.Key}.`);
      }
    }
  }

  /** Deletes keys, at most 1,000 per request (the DeleteObjects limit). */
  async delete(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      await this.guard(() => this.s3.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } })));
    }
  }

  private async guard<T>(call: () => Promise<T>): Promise<T | null> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof PictorError) throw error;
      if (GONE.has((error as Error).name) || (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 412) return null;
      throw new PictorError('OriginUnavailable', `S3 failed on ${this.bucket}.`, { cause: error });
    }
  }
}

function unquote(etag: string): string {
  return etag.replace(/"/g, '');
}
