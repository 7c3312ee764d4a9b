import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { appendFile, mkdir, readFile, rename, stat, utimes, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import type S3rver from 's3rver';

/**
 * S3 Versioning for the twin's s3rver, which has none. The current version of
 * each key stays where s3rver keeps it, so its GET, HEAD, ListObjectsV2, Copy and
 * ranges keep working unchanged; every version (the current one too) is also
 * kept, in s3rver's own file layout, under `<directory>/.versions/<bucket>/`, and
 * an index of versions and delete markers per key is journalled beside it
 * (`<bucket>.jsonl`) so that a restarted twin has the same versions.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/Versioning.html
 *
 * s3rver's object controllers are wrapped once per process and dispatch on the
 * server (`ctx.app`), so requests still pass s3rver's signature check and bucket
 * lookup first; servers without versioning state behave as s3rver does.
 */

const require = createRequire(import.meta.url);
type Ctx = KoaContext;
type Controller = (ctx: Ctx) => Promise<void>;
const objectCtrl = require('s3rver/lib/controllers/object.js') as Record<string, Controller>;
const S3Error = require('s3rver/lib/models/error.js') as new (code: string, message?: string, detail?: Record<string, unknown>) => Error;
const authentication = (require('s3rver/lib/middleware/authentication.js') as () => (ctx: Ctx, next: () => Promise<void>) => Promise<void>)();

/** The slice of Koa's context the wrappers use. */
interface KoaContext {
  app: object;
  method: string;
  path: string;
  query: Record<string, string | undefined>;
  headers: Record<string, string | string[] | undefined>;
  params: Record<string, string>;
  status: number;
  body: unknown;
  type: string;
  store: FilesystemStore;
  req: NodeJS.ReadableStream;
  set(name: string, value: string): void;
}

/** s3rver's filesystem store, as far as this module uses it. */
interface FilesystemStore {
  getResourcePath(bucket: string, key: string, resource: string): string;
  getMetadata(bucket: string, key: string): Promise<Record<string, string>>;
  getBucket(bucket: string): Promise<object | null>;
  listBuckets(): Promise<{ name: string }[]>;
  existsObject(bucket: string, key: string): Promise<boolean>;
  getObject(bucket: string, key: string, options?: unknown): Promise<unknown>;
  copyObject(srcBucket: string, srcKey: string, destBucket: string, destKey: string, replacement: unknown): Promise<Record<string, string>>;
  deleteObject(bucket: string, key: string): Promise<void>;
  listObjects(bucket: string, options: { prefix?: string }): Promise<{ objects: { key: string; size: number; lastModifiedDate: Date; metadata: Record<string, string> }[] }>;
}

/** S3's replication status of a version: https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-status.html */
export type ReplicationStatus = 'PENDING' | 'COMPLETED' | 'FAILED' | 'REPLICA';

/** One version of a key, or a delete marker. */
export interface ObjectVersion {
  readonly versionId: string;
  readonly deleteMarker: boolean;
  /** ISO 8601. */
  readonly lastModified: string;
  /** Quoted, as S3 answers it. */
  readonly etag?: string;
  readonly size?: number;
  readonly replication?: ReplicationStatus;
}

/** An S3 event notification record, as s3rver emits them, with the version id S3 adds in versioned buckets. */
export interface S3NotificationRecord {
  readonly eventName: string;
  readonly eventTime: string;
  readonly s3: { readonly bucket: { readonly name: string }; readonly object: { readonly key: string; readonly size?: number; readonly eTag?: string; readonly versionId?: string; readonly sequencer: string } };
}

/** The version id a notification record carries (s3rver's own records have none). */
export function versionIdOf(record: { s3: { object: object } }): string | undefined {
  return (record.s3.object as { versionId?: string }).versionId;
}

/** A notification record's key, decoded as S3 encodes it (form encoding: `+` for a space). */
export function keyOf(record: { s3: { object: { key: string } } }): string {
  return decodeURIComponent(record.s3.object.key.replace(/\+/g, ' '));
}

/** What DeleteObject and each object of DeleteObjects did. https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeletedObject.html */
interface DeleteOutcome {
  readonly versionId?: string;
  readonly deleteMarker: boolean;
  readonly deleteMarkerVersionId?: string;
}

const HIDDEN = '.versions';
const OWNER = { id: '75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a', name: 'local' };
/** S3's limit for MaxKeys and for the objects of one DeleteObjects: https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectVersions.html */
const MAX_KEYS = 1000;

/**
 * Version ids are opaque to clients ("Unicode, UTF-8 encoded, URL-ready, opaque
 * strings", https://docs.aws.amazon.com/AmazonS3/latest/userguide/versioning-workflows.html);
 * the twin's begin with a clock so that they sort by creation, which orders a
 * key's versions, replicas included, and keeps a VersionIdMarker meaningful after
 * its version was deleted. The alphabet is in ASCII order.
 */
const ALPHABET = '.0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz';
let lastStamp = 0n;
function newVersionId(): string {
  let stamp = BigInt(Date.now()) * 1000n;
  stamp = stamp > lastStamp ? stamp : lastStamp + 1n;
  lastStamp = stamp;
  let head = '';
  for (let i = 0; i < 10; i++, stamp >>= 6n) head = ALPHABET[Number(stamp & 63n)] + head;
  return head + [...randomBytes(22)].map((b) => ALPHABET[b & 63]).join('');
}

/** Newest first; the "null" version of an object stored before versioning is the oldest. */
function newestFirst(a: string, b: string): number {
  if (a === b) return 0;
  if (a === 'null') return 1;
  if (b === 'null') return -1;
  return a < b ? 1 : -1;
}

// One wrapper per s3rver controller, installed once: each request finds its server's versioning by `ctx.app`.
const byServer = new WeakMap<object, S3Versions>();
const ownEvents = new AsyncLocalStorage<true>();
for (const name of ['putObject', 'putObjectCopy', 'completeMultipartUpload', 'getObject', 'deleteObject', 'deleteMultipleObjects'] as const) {
  const original = objectCtrl[name]!;
  objectCtrl[name] = (ctx: Ctx) => {
    const versions = byServer.get(ctx.app);
    return versions ? versions[name](ctx, original) : original(ctx);
  };
}

/** The versions of a server's buckets, and the S3 API over them. */
export class S3Versions {
  private readonly index = new Map<string, Map<string, ObjectVersion[]>>();
  private readonly sortedKeys = new Map<string, string[]>();
  private readonly locks = new Map<string, Promise<unknown>>();
  private journal: Promise<unknown> = Promise.resolve();
  private sequencer = 0n;

  private constructor(
    private readonly server: S3rver,
    private readonly store: FilesystemStore,
    private readonly root: string,
    readonly versioned: ReadonlySet<string>,
  ) {}

  /**
   * Versioning for `server`'s buckets in `versioned`, loaded from the journal
   * under `directory`. Objects a versioned bucket held before it was versioned
   * become its "null" versions, as S3 does when versioning is turned on.
   */
  static async attach(server: S3rver, directory: string, versioned: readonly string[]): Promise<S3Versions> {
    const store = (server as unknown as { store: FilesystemStore }).store;
    const versions = new S3Versions(server, store, join(directory, HIDDEN), new Set(versioned));
    await mkdir(versions.root, { recursive: true });
    for (const bucket of versioned) await versions.load(bucket);
    // The hidden store is no bucket: ListBuckets leaves it out.
    const listBuckets = store.listBuckets.bind(store);
    store.listBuckets = async () => (await listBuckets()).filter((b) => !b.name.startsWith('.'));
    // Notifications come from here, with version ids and S3's event names; s3rver's own are dropped.
    const emit = server.emit.bind(server);
    server.emit = ((name: string, ...args: unknown[]) => (name === 'event' && ownEvents.getStore() ? false : emit(name, ...args))) as typeof server.emit;
    byServer.set(server, versions);
    return versions;
  }

  /** A Koa middleware answering ListObjectVersions (s3rver has no route for it), after s3rver's signature check. */
  listMiddleware() {
    return async (ctx: Ctx, next: () => Promise<void>) => {
      const bucket = /^\/([^/]+)\/?$/.exec(ctx.path)?.[1];
      if (ctx.method !== 'GET' || !bucket || !('versions' in ctx.query)) return next();
      ctx.params = { bucket };
      await authentication(ctx, async () => {
        if (!(await this.store.getBucket(bucket))) throw new S3Error('NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket });
        ctx.status = 200;
        ctx.type = 'application/xml';
        ctx.body = await this.listVersionsXml(bucket, ctx.query);
      });
    };
  }

  /** Whether `bucket` keeps versions. */
  isVersioned(bucket: string): boolean {
    return this.versioned.has(bucket);
  }

  /** A key's versions and delete markers, newest first. */
  list(bucket: string, key: string): readonly ObjectVersion[] {
    return this.index.get(bucket)?.get(key) ?? [];
  }

  find(bucket: string, key: string, versionId: string): ObjectVersion | undefined {
    return this.list(bucket, key).find((v) => v.versionId === versionId);
  }

  /** The replication status of the key's current version (none once it is a delete marker). */
  replicationStatus(bucket: string, key: string): ReplicationStatus | undefined {
    const latest = this.list(bucket, key)[0];
    return latest && !latest.deleteMarker ? latest.replication : undefined;
  }

  /** Sets a version's replication status; false when the version is gone. */
  setReplicationStatus(bucket: string, key: string, versionId: string, status: ReplicationStatus): boolean {
    const list = this.index.get(bucket)?.get(key);
    const at = list?.findIndex((v) => v.versionId === versionId) ?? -1;
    if (!list || at < 0) return false;
    list[at] = { ...list[at]!, replication: status };
    this.append(bucket, { k: key, v: list[at] });
    return true;
  }

  /** The versions of `bucket` whose replication has not completed, for a replication rule starting up. */
  pendingReplication(bucket: string): { key: string; version: ObjectVersion }[] {
    return [...(this.index.get(bucket) ?? [])].flatMap(([key, list]) => list.filter((v) => v.replication === 'PENDING').map((version) => ({ key, version })));
  }

  /**
   * The first half of replicating a version: its bytes, read from the source and
   * held for `destination` (not visible there yet). Undefined when the version
   * is no longer in the source: S3 cannot replicate what was permanently deleted.
   */
  async stage(source: string, key: string, versionId: string, destination: string): Promise<ObjectVersion | undefined> {
    return this.exclusive(source, key, async () => {
      const version = this.find(source, key, versionId);
      if (!version || version.deleteMarker) return version;
      await this.copyFiles(hidden(source), hiddenKey(key, versionId), hidden(destination), hiddenKey(key, versionId), version.lastModified);
      return version;
    });
  }

  /** The second half: the staged version becomes a REPLICA in `destination`, with the source's version id, and current there if it is the newest. */
  async land(destination: string, key: string, version: ObjectVersion): Promise<void> {
    await this.exclusive(destination, key, async () => {
      if (this.find(destination, key, version.versionId)) return;
      const replica: ObjectVersion = { ...version, replication: 'REPLICA' };
      this.add(destination, key, replica);
      if (this.list(destination, key)[0] === replica) await this.syncCurrent(destination, key);
      if (replica.deleteMarker) this.notify(destination, 'ObjectRemoved:DeleteMarkerCreated', key, { versionId: replica.versionId });
      else this.notify(destination, 'ObjectCreated:Put', key, { versionId: replica.versionId, size: replica.size, eTag: replica.etag });
    });
  }

  /** Resolves once the journal has everything written so far. */
  async flush(): Promise<void> {
    await this.journal;
  }

  // ---- s3rver controllers ------------------------------------------------------------------

  /** PutObject: https://docs.aws.amazon.com/AmazonS3/latest/userguide/AddingObjectstoVersioningEnabledBuckets.html */
  putObject(ctx: Ctx, original: Controller): Promise<void> {
    return this.created(ctx, original, 'ObjectCreated:Put');
  }

  completeMultipartUpload(ctx: Ctx, original: Controller): Promise<void> {
    return this.created(ctx, original, 'ObjectCreated:CompleteMultipartUpload');
  }

  /** CopyObject, of a given version with `?versionId=` on the copy source: https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html */
  putObjectCopy(ctx: Ctx, original: Controller): Promise<void> {
    const source = parseCopySource(String(ctx.headers['x-amz-copy-source'] ?? ''));
    const real = this.store;
    const resolve = (bucket: string, key: string): { bucket: string; key: string } => {
      const ref = /^(.*)\?versionId=([^&]*)$/.exec(key);
      if (!ref) return { bucket, key };
      const [, plain, versionId] = ref as unknown as [string, string, string];
      if (!this.isVersioned(bucket)) {
        if (versionId === 'null') return { bucket, key: plain };
        throw new S3Error('InvalidArgument', 'Invalid version id specified', { ArgumentName: 'x-amz-copy-source', ArgumentValue: versionId });
      }
      const version = this.find(bucket, plain, versionId);
      if (!version) throw new S3Error('NoSuchVersion', 'The specified version does not exist.', { Key: plain, VersionId: versionId });
      // https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html: a delete marker cannot be a copy source.
      if (version.deleteMarker) throw new S3Error('InvalidRequest', 'The source of a copy request may not specifically refer to a delete marker by version id.');
      return { bucket: hidden(bucket), key: hiddenKey(plain, versionId) };
    };
    ctx.store = Object.create(real, {
      existsObject: {
        value: (bucket: string, key: string) => {
          const from = resolve(bucket, key);
          return real.existsObject(from.bucket, from.key);
        },
      },
      copyObject: {
        value: (srcBucket: string, srcKey: string, destBucket: string, destKey: string, replacement: unknown) => {
          const from = resolve(srcBucket, srcKey);
          return real.copyObject(from.bucket, from.key, destBucket, destKey, replacement);
        },
      },
    }) as FilesystemStore;
    const sourceVersion = source && this.isVersioned(source.bucket) ? (source.versionId ?? this.list(source.bucket, source.key)[0]?.versionId) : undefined;
    if (sourceVersion) ctx.set('x-amz-copy-source-version-id', sourceVersion);
    return this.created(ctx, original, 'ObjectCreated:Copy');
  }

  /**
   * GetObject and HeadObject: `versionId` serves that version; a delete marker's
   * is 405 MethodNotAllowed, and a current delete marker answers 404 with
   * `x-amz-delete-marker: true`. https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html
   */
  async getObject(ctx: Ctx, original: Controller): Promise<void> {
    const { bucket, key } = ctx.params as { bucket: string; key: string };
    const versionId = ctx.query.versionId;
    if (!this.isVersioned(bucket)) {
      if (versionId !== undefined && versionId !== 'null') throw new S3Error('InvalidArgument', 'Invalid version id specified', { ArgumentName: 'versionId', ArgumentValue: versionId });
      return original(ctx);
    }
    const version = versionId === undefined ? this.list(bucket, key)[0] : this.find(bucket, key, versionId);
    if (versionId !== undefined && !version) throw new S3Error('NoSuchVersion', 'The specified version does not exist.', { Key: key, VersionId: versionId });
    if (version?.deleteMarker) {
      ctx.set('x-amz-delete-marker', 'true');
      ctx.set('x-amz-version-id', version.versionId);
      if (versionId !== undefined) throw new S3Error('MethodNotAllowed', 'The specified method is not allowed against this resource.', { Method: ctx.method, ResourceType: 'DeleteMarker' });
      throw new S3Error('NoSuchKey', 'The specified key does not exist.', { Key: key });
    }
    if (versionId !== undefined && version) {
      const real = this.store;
      ctx.store = Object.create(real, { getObject: { value: (_b: string, _k: string, options: unknown) => real.getObject(hidden(bucket), hiddenKey(key, version.versionId), options) } }) as FilesystemStore;
    }
    await original(ctx);
    if (ctx.status >= 300) return;
    if (version) ctx.set('x-amz-version-id', version.versionId);
    // https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-status.html
    if (version?.replication) ctx.set('x-amz-replication-status', version.replication);
  }

  /** DeleteObject: https://docs.aws.amazon.com/AmazonS3/latest/userguide/DeletingObjectVersions.html */
  async deleteObject(ctx: Ctx, original: Controller): Promise<void> {
    const { bucket, key } = ctx.params as { bucket: string; key: string };
    if (!this.isVersioned(bucket)) {
      const existed = await this.store.existsObject(bucket, key);
      await ownEvents.run(true, () => original(ctx));
      if (existed) this.notify(bucket, 'ObjectRemoved:Delete', key, {});
      return;
    }
    const outcome = await this.deleteOne(bucket, key, ctx.query.versionId);
    if (outcome.deleteMarker) ctx.set('x-amz-delete-marker', 'true');
    const id = outcome.deleteMarkerVersionId ?? outcome.versionId;
    if (id) ctx.set('x-amz-version-id', id);
    ctx.status = 204;
  }

  /**
   * DeleteObjects, with or without a VersionId per object, each as DeleteObject
   * would; Quiet answers only the errors. s3rver's deletes silently.
   * https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html
   */
  async deleteMultipleObjects(ctx: Ctx, _original?: Controller): Promise<void> {
    const bucket = ctx.params.bucket!;
    const request = parseDelete(await readBody(ctx.req));
    const results: string[] = new Array(request.objects.length);
    // Up to 16 at a time: deletes of one key still run in order (each takes the key's lock).
    for (let i = 0; i < request.objects.length; i += 16) {
      await Promise.all(
        request.objects.slice(i, i + 16).map(async (object, j) => {
          results[i + j] = await this.deleteEntry(bucket, object.key, object.versionId, request.quiet);
        }),
      );
    }
    ctx.status = 200;
    ctx.type = 'application/xml';
    ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${results.join('')}</DeleteResult>`;
  }

  // ---- internals -----------------------------------------------------------------------------

  private async deleteEntry(bucket: string, key: string, versionId: string | undefined, quiet: boolean): Promise<string> {
    const tag = (name: string, value: string | undefined) => (value === undefined ? '' : `<${name}>${xml(value)}</${name}>`);
    if (!this.isVersioned(bucket)) {
      if (versionId !== undefined && versionId !== 'null') return `<Error>${tag('Key', key)}${tag('VersionId', versionId)}<Code>NoSuchVersion</Code><Message>The specified version does not exist.</Message></Error>`;
      if (await this.store.existsObject(bucket, key)) {
        await this.store.deleteObject(bucket, key);
        this.notify(bucket, 'ObjectRemoved:Delete', key, {});
      }
      return quiet ? '' : `<Deleted>${tag('Key', key)}${tag('VersionId', versionId)}</Deleted>`;
    }
    const outcome = await this.deleteOne(bucket, key, versionId);
    if (quiet) return '';
    return `<Deleted>${tag('Key', key)}${tag('VersionId', outcome.versionId)}${outcome.deleteMarker ? '<DeleteMarker>true</DeleteMarker>' : ''}${tag('DeleteMarkerVersionId', outcome.deleteMarkerVersionId)}</Deleted>`;
  }

  /**
   * Without a version id, a delete marker becomes the current version; with one,
   * that version (or marker) is gone for good, and when it was the current one
   * the newest remaining takes its place (a delete marker there keeps the key absent).
   * https://docs.aws.amazon.com/AmazonS3/latest/userguide/DeleteMarker.html
   */
  private deleteOne(bucket: string, key: string, versionId: string | undefined): Promise<DeleteOutcome> {
    return this.exclusive(bucket, key, async () => {
      if (versionId === undefined) {
        const marker: ObjectVersion = { versionId: newVersionId(), deleteMarker: true, lastModified: new Date().toISOString() };
        this.add(bucket, key, marker);
        await this.store.deleteObject(bucket, key);
        this.notify(bucket, 'ObjectRemoved:DeleteMarkerCreated', key, { versionId: marker.versionId });
        return { deleteMarker: true, deleteMarkerVersionId: marker.versionId };
      }
      const list = this.list(bucket, key);
      const version = list.find((v) => v.versionId === versionId);
      // S3 answers a delete of a version that is not there (any more) as done.
      if (!version) return { versionId, deleteMarker: false };
      const wasCurrent = list[0] === version;
      this.remove(bucket, key, versionId);
      if (!version.deleteMarker) await this.store.deleteObject(hidden(bucket), hiddenKey(key, versionId));
      if (wasCurrent) await this.syncCurrent(bucket, key);
      this.notify(bucket, 'ObjectRemoved:Delete', key, { versionId });
      return version.deleteMarker ? { versionId, deleteMarker: true, deleteMarkerVersionId: versionId } : { versionId, deleteMarker: false };
    });
  }

  /**
   * An object written to `key` by `store` (which puts it where s3rver keeps objects,
   * and resolves false when it wrote nothing): in a versioned bucket it becomes a new
   * version, kept. Notifies with `eventName` (ObjectCreated:Put, :Post, :Copy, ...)
   * as S3 does, and resolves to the new version's id (none in an unversioned bucket).
   */
  async recordWrite(bucket: string, key: string, eventName: string, store: () => Promise<boolean>): Promise<string | undefined> {
    const write = async () => {
      if (!(await ownEvents.run(true, store))) return undefined;
      const metadata = await this.store.getMetadata(bucket, key);
      const details = { size: Number(metadata['content-length']), eTag: String(metadata.etag ?? '').replace(/"/g, '') };
      if (!this.isVersioned(bucket)) {
        this.notify(bucket, eventName, key, details);
        return undefined;
      }
      const version = await this.capture(bucket, key, newVersionId());
      this.notify(bucket, eventName, key, { ...details, versionId: version.versionId });
      return version.versionId;
    };
    // Writes to one key of a versioned bucket take turns, so each version keeps the bytes it wrote.
    return this.isVersioned(bucket) ? this.exclusive(bucket, key, write) : write();
  }

  /** A write s3rver makes; in a versioned bucket it becomes a new version, kept, and answered with its id. */
  private async created(ctx: Ctx, original: Controller, eventName: string): Promise<void> {
    const { bucket, key } = ctx.params as { bucket: string; key: string };
    const versionId = await this.recordWrite(bucket, key, eventName, async () => {
      await original(ctx);
      return ctx.status < 300;
    });
    if (versionId) ctx.set('x-amz-version-id', versionId);
  }

  /** Keeps s3rver's current object of `key` as a version. */
  private async capture(bucket: string, key: string, versionId: string): Promise<ObjectVersion> {
    const modified = (await stat(this.store.getResourcePath(bucket, key, 'object'))).mtime;
    const metadata = await this.copyFiles(bucket, key, hidden(bucket), hiddenKey(key, versionId), modified.toISOString());
    const version: ObjectVersion = { versionId, deleteMarker: false, lastModified: modified.toISOString(), etag: metadata.etag, size: Number(metadata['content-length']) };
    this.add(bucket, key, version);
    return version;
  }

  /** Puts the key's newest version where s3rver serves it from, or removes it there when that is a delete marker or nothing. */
  private async syncCurrent(bucket: string, key: string): Promise<void> {
    const latest = this.list(bucket, key)[0];
    if (!latest || latest.deleteMarker) await this.store.deleteObject(bucket, key);
    else await this.copyFiles(hidden(bucket), hiddenKey(key, latest.versionId), bucket, key, latest.lastModified);
  }

  private async copyFiles(srcBucket: string, srcKey: string, destBucket: string, destKey: string, lastModified: string): Promise<Record<string, string>> {
    await this.store.copyObject(srcBucket, srcKey, destBucket, destKey, null);
    const when = new Date(lastModified);
    await utimes(this.store.getResourcePath(destBucket, destKey, 'object'), when, when);
    return this.store.getMetadata(destBucket, destKey);
  }

  private add(bucket: string, key: string, version: ObjectVersion): void {
    const keys = this.index.get(bucket)!;
    let list = keys.get(key);
    if (!list) {
      keys.set(key, (list = []));
      this.sortedKeys.delete(bucket);
    }
    const at = list.findIndex((v) => newestFirst(v.versionId, version.versionId) > 0);
    list.splice(at < 0 ? list.length : at, 0, version);
    this.append(bucket, { k: key, v: version });
  }

  private remove(bucket: string, key: string, versionId: string): void {
    const keys = this.index.get(bucket)!;
    const list = (keys.get(key) ?? []).filter((v) => v.versionId !== versionId);
    if (list.length > 0) keys.set(key, list);
    else {
      keys.delete(key);
      this.sortedKeys.delete(bucket);
    }
    this.append(bucket, { k: key, rm: versionId });
  }

  private append(bucket: string, entry: JournalEntry): void {
    const line = JSON.stringify(entry) + '\n';
    this.journal = this.journal.then(() => appendFile(this.journalPath(bucket), line)).catch((error: unknown) => console.error(`s3 versioning: journal of ${bucket} not written:`, error));
  }

  private journalPath(bucket: string): string {
    return join(this.root, `${bucket}.jsonl`);
  }

  /** Replays a bucket's journal and rewrites it compacted; a bucket without one adopts its objects as "null" versions. */
  private async load(bucket: string): Promise<void> {
    const keys = new Map<string, ObjectVersion[]>();
    this.index.set(bucket, keys);
    const path = this.journalPath(bucket);
    const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? undefined : Promise.reject(error)));
    if (text === undefined) {
      await writeFile(path, '');
      if (!(await this.store.getBucket(bucket))) return; // created by s3rver once it runs, empty
      for (const object of (await this.store.listObjects(bucket, { prefix: '' })).objects) await this.capture(bucket, object.key, 'null');
      return;
    }
    for (const line of text.split('\n')) {
      if (!line) continue;
      let entry: JournalEntry;
      try {
        entry = JSON.parse(line) as JournalEntry;
      } catch {
        continue; // a line cut short by a crash
      }
      const list = (keys.get(entry.k) ?? []).filter((v) => v.versionId !== (entry.rm ?? entry.v?.versionId));
      if (entry.v) list.push(entry.v);
      list.sort((a, b) => newestFirst(a.versionId, b.versionId));
      if (list.length > 0) keys.set(entry.k, list);
      else keys.delete(entry.k);
    }
    const compact = [...keys].flatMap(([k, list]) => list.map((v) => JSON.stringify({ k, v }) + '\n')).join('');
    await writeFile(`${path}.tmp`, compact);
    await rename(`${path}.tmp`, path);
  }

  private exclusive<T>(bucket: string, key: string, run: () => Promise<T>): Promise<T> {
    const id = `${bucket}\0${key}`;
    const previous = this.locks.get(id) ?? Promise.resolve();
    const result = previous.then(run, run);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.locks.set(id, tail);
    void tail.then(() => this.locks.get(id) === tail && this.locks.delete(id));
    return result;
  }

  /**
   * Emits an S3 event notification record, named as S3 names them, on s3rver's
   * 'event'. https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-how-to-event-types-and-destinations.html
   * and the record's shape: https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html
   */
  private notify(bucket: string, eventName: string, key: string, object: { size?: number; eTag?: string; versionId?: string }): void {
    const now = BigInt(Date.now()) * 1000n;
    this.sequencer = now > this.sequencer ? now : this.sequencer + 1n;
    const record = {
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: 'us-east-1',
      eventTime: new Date().toISOString(),
      eventName,
      userIdentity: { principalId: 'AWS:LOCAL' },
      requestParameters: { sourceIPAddress: '127.0.0.1' },
      responseElements: { 'x-amz-request-id': randomBytes(8).toString('hex').toUpperCase(), 'x-amz-id-2': randomBytes(16).toString('base64') },
      s3: {
        s3SchemaVersion: '1.0',
        configurationId: 'local',
        bucket: { name: bucket, ownerIdentity: { principalId: OWNER.id }, arn: `arn:aws:s3:::${bucket}` },
        // Keys come URL-encoded in notifications, a space as `+`.
        object: { key: key.split('/').map((part) => encodeURIComponent(part).replace(/%20/g, '+')).join('/'), ...object, sequencer: this.sequencer.toString(16).toUpperCase().padStart(18, '0') },
      },
    };
    EventEmitter.prototype.emit.call(this.server, 'event', { Records: [record] });
  }

  /** ListObjectVersions: https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectVersions.html */
  private async listVersionsXml(bucket: string, query: Record<string, string | undefined>): Promise<string> {
    const prefix = query.prefix ?? '';
    const delimiter = query.delimiter || undefined;
    const keyMarker = query['key-marker'] || undefined;
    const versionIdMarker = keyMarker ? query['version-id-marker'] || undefined : undefined;
    const requested = query['max-keys'] === undefined ? MAX_KEYS : Number(query['max-keys']);
    if (!Number.isInteger(requested) || requested < 0) throw new S3Error('InvalidArgument', 'Provided max-keys not an integer or within integer range', { ArgumentName: 'max-keys', ArgumentValue: query['max-keys'] });
    const maxKeys = Math.min(requested, MAX_KEYS);
    const encode = query['encoding-type'] === 'url' ? (text: string) => encodeURIComponent(text).replace(/%2F/g, '/') : (text: string) => text;
    const keys = await this.keysWithVersions(bucket, prefix);

    const items: string[] = [];
    let count = 0;
    let truncated = false;
    let next: { key: string; versionId?: string } | undefined;
    let lastPrefix: string | undefined;
    const start = keyMarker === undefined ? 0 : lowerBound(keys, keyMarker, (k) => k.key);
    outer: for (let i = start; i < keys.length; i++) {
      const { key, versions } = keys[i]!;
      if (delimiter) {
        const at = key.indexOf(delimiter, prefix.length);
        if (at >= 0) {
          const common = key.slice(0, at + delimiter.length);
          // A common prefix answered on an earlier page is its NextKeyMarker; keys under it are not listed again.
          if (common === lastPrefix || (keyMarker !== undefined && common <= keyMarker)) continue;
          if (count === maxKeys) {
            truncated = true;
            break;
          }
          items.push(`<CommonPrefixes><Prefix>${xml(encode(common))}</Prefix></CommonPrefixes>`);
          lastPrefix = common;
          next = { key: common };
          count++;
          continue;
        }
      }
      if (key === keyMarker && versionIdMarker === undefined) continue;
      for (const [n, v] of versions.entries()) {
        if (key === keyMarker && newestFirst(v.versionId, versionIdMarker!) <= 0) continue;
        if (count === maxKeys) {
          truncated = true;
          break outer;
        }
        const common = `<Key>${xml(encode(key))}</Key><VersionId>${xml(v.versionId)}</VersionId><IsLatest>${n === 0}</IsLatest><LastModified>${v.lastModified}</LastModified>`;
        const owner = `<Owner><ID>${OWNER.id}</ID><DisplayName>${OWNER.name}</DisplayName></Owner>`;
        items.push(
          v.deleteMarker
            ? `<DeleteMarker>${common}${owner}</DeleteMarker>`
            : `<Version>${common}<ETag>${xml(v.etag ?? '')}</ETag><Size>${v.size ?? 0}</Size><StorageClass>STANDARD</StorageClass>${owner}</Version>`,
        );
        next = { key, versionId: v.versionId };
        count++;
      }
    }
    const optional = (name: string, value: string | undefined) => (value === undefined ? '' : `<${name}>${xml(value)}</${name}>`);
    return (
      `<?xml version="1.0" encoding="UTF-8"?>\n<ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${xml(bucket)}</Name><Prefix>${xml(encode(prefix))}</Prefix>` +
      `<KeyMarker>${xml(encode(keyMarker ?? ''))}</KeyMarker><VersionIdMarker>${xml(versionIdMarker ?? '')}</VersionIdMarker>` +
      (truncated && next ? `${optional('NextKeyMarker', encode(next.key))}${optional('NextVersionIdMarker', next.versionId)}` : '') +
      `<MaxKeys>${maxKeys}</MaxKeys>${optional('Delimiter', delimiter && encode(delimiter))}<IsTruncated>${truncated}</IsTruncated>${items.join('')}` +
      `${query['encoding-type'] === 'url' ? '<EncodingType>url</EncodingType>' : ''}</ListVersionsResult>`
    );
  }

  /** The keys under a prefix in order with their versions; an unversioned bucket has one "null" version per object, as S3 lists it. */
  private async keysWithVersions(bucket: string, prefix: string): Promise<{ key: string; versions: readonly ObjectVersion[] }[]> {
    if (!this.isVersioned(bucket)) {
      const { objects } = await this.store.listObjects(bucket, { prefix });
      return objects.map((o) => ({
        key: o.key,
        versions: [{ versionId: 'null', deleteMarker: false, lastModified: o.lastModifiedDate.toISOString(), etag: o.metadata.etag, size: o.size }],
      }));
    }
    const keys = this.index.get(bucket)!;
    let sorted = this.sortedKeys.get(bucket);
    if (!sorted) this.sortedKeys.set(bucket, (sorted = [...keys.keys()].sort()));
    const from = lowerBound(sorted, prefix, (k) => k);
    const found: { key: string; versions: readonly ObjectVersion[] }[] = [];
    for (let i = from; i < sorted.length && sorted[i]!.startsWith(prefix); i++) found.push({ key: sorted[i]!, versions: keys.get(sorted[i]!)! });
    return found;
  }
}

interface JournalEntry {
  readonly k: string;
  readonly v?: ObjectVersion;
  readonly rm?: string;
}

function hidden(bucket: string): string {
  return `${HIDDEN}/${bucket}`;
}

/** Where a version's files are kept: by a hash of the key, so any key makes a safe path. */
function hiddenKey(key: string, versionId: string): string {
  return `${createHash('sha256').update(key).digest('hex').slice(0, 32)}/${versionId}`;
}

/** The first index whose item is not before `value` (items sorted by `of`). */
function lowerBound<T>(items: readonly T[], value: string, of: (item: T) => string): number {
  let low = 0;
  let high = items.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (of(items[mid]!) < value) low = mid + 1;
    else high = mid;
  }
  return low;
}

function parseCopySource(header: string): { bucket: string; key: string; versionId?: string } | undefined {
  const [path = '', query = ''] = header.split('?');
  const [bucket, ...key] = decodeURIComponent(path.replace(/^\//, '')).split('/');
  if (!bucket || key.length === 0) return undefined;
  return { bucket, key: key.join('/'), versionId: new URLSearchParams(query).get('versionId') ?? undefined };
}

const deleteParser = new XMLParser({ parseTagValue: false, trimValues: false, htmlEntities: true, isArray: (name) => name === 'Object' });

function parseDelete(body: string): { quiet: boolean; objects: { key: string; versionId?: string }[] } {
  const malformed = () => new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.');
  let parsed: { Delete?: { Quiet?: string; Object?: { Key?: unknown; VersionId?: unknown }[] } };
  try {
    parsed = deleteParser.parse(body) as typeof parsed;
  } catch {
    throw malformed();
  }
  const objects = parsed.Delete?.Object ?? [];
  if (objects.length === 0 || objects.length > MAX_KEYS || objects.some((o) => typeof o.Key !== 'string')) throw malformed();
  return {
    quiet: String(parsed.Delete?.Quiet ?? '').trim() === 'true',
    objects: objects.map((o) => ({ key: o.Key as string, ...(typeof o.VersionId === 'string' ? { versionId: o.VersionId } : {}) })),
  };
}

async function readBody(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

function xml(text: string): string {
  return text.replace(/[<>&'"\r\n]/g, (c) => `&#${c.charCodeAt(0)};`);
}
