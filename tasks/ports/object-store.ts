/**
 * One bucket, as the tasks use it: S3's model (versions, delete markers,
 * replication status, conditional reads and writes), with nothing of the SDK.
 * Implemented by tasks/shared/s3-object-store.ts; tasks/shared/fakes.ts holds
 * the in-memory one the use-cases' unit tests run on. Every method fails with
 * PictorError OriginUnavailable (retryable) when the bucket does not answer.
 */
export interface ObjectStore {
  readonly bucket: string;
  /**
   * The object's bytes, or null when absent or (with `ifMatch`) replaced.
   * @throws {PictorError} ImageTooLarge when it is larger than `maxBytes`
   */
  get(key: string, ifMatch?: string, maxBytes?: number): Promise<StoredObject | null>;
  /** The object's ETag, size, replication status and user metadata (names lowercased), or null when absent. */
  head(key: string): Promise<ObjectHead | null>;
  /** Writes an object with its headers and user metadata. */
  put(key: string, body: Buffer | string, headers: ObjectHeaders): Promise<void>;
  /** Writes an object only where none exists; false when one does. Append-only stores (the audit bucket) rely on it. */
  putIfAbsent(key: string, body: string, contentType: string): Promise<boolean>;
  /** Copies from another bucket (or this one), a given version of it or the current; false when the source is gone or replaced. */
  copyFrom(sourceBucket: string, sourceKey: string, key: string, options?: { readonly ifMatch?: string; readonly sourceVersionId?: string }): Promise<boolean>;
  /** One page of the keys directly under a prefix (no deeper `/`), and where the next page starts. */
  listPage(prefix: string, maxKeys: number, token?: string): Promise<{ keys: string[]; next?: string }>;
  /** Every current key under a prefix, at any depth. */
  list(prefix: string): Promise<string[]>;
  /**
   * Every version of every object under a prefix, delete markers included (a
   * prefix without a trailing `/` is an exact key: neighbours sharing its start
   * are left out). Unversioned buckets list each object once, with the version id "null".
   */
  listVersions(prefix: string): Promise<StoredVersion[]>;
  /** Permanently deletes object versions (not a delete marker on top); versions already gone are no failure. */
  deleteVersions(versions: readonly StoredVersion[]): Promise<void>;
  /** Plain deletes: on a versioned bucket each leaves a delete marker on top. */
  delete(keys: readonly string[]): Promise<void>;
}

export interface StoredObject {
  readonly body: Buffer;
  /** As S3 gives it: quoted. */
  readonly etag: string;
}

export interface ObjectHead {
  readonly etag: string;
  readonly size: number;
  /** PENDING, COMPLETED or FAILED on a replicated object; absent elsewhere. */
  readonly replicationStatus?: string;
  readonly metadata: Readonly<Record<string, string>>;
}

/** What an object is written with. */
export interface ObjectHeaders {
  readonly contentType: string;
  readonly cacheControl?: string;
  /** User metadata (x-amz-meta-*), names lowercased. */
  readonly metadata?: Readonly<Record<string, string>>;
}

export interface StoredVersion {
  readonly key: string;
  readonly versionId: string;
  readonly deleteMarker?: boolean;
}
