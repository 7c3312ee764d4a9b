import { createHash } from 'node:crypto';
import { PictorError } from '../../core/errors.ts';
import { normalizeSequencer } from '../../core/sequencer.ts';
import type { SigningKey } from '../../core/signing-keys.ts';
import { PICTOR_EVENTS, type PictorDetail, type PictorDetailType } from '../../events/schemas/pictor-events.ts';
import type { EventPublisher } from '../ports/event-publisher.ts';
import type { InvalidationState, Invalidator } from '../ports/invalidator.ts';
import type { ObjectHead, ObjectHeaders, ObjectStore, StoredObject, StoredVersion } from '../ports/object-store.ts';
import type { PublishOutcome, UploadNote, VersionMap, VersionRecord } from '../ports/version-map.ts';
import type { EdgeAnswer, ViewerEdge } from '../ports/viewer-edge.ts';
import { Reports } from './reports.ts';

/**
 * In-memory implementations of the tasks' ports, for the use-cases' unit tests:
 * each keeps the rules of the service behind the real adapter that the
 * use-cases rely on (S3's versions, delete markers and conditional requests, the
 * version map's conditions, CloudFront's CallerReference, EventBridge's schema
 * check), so that a test of a use-case fails where the real thing would.
 * Every fake can be made to fail (`failing`) as its adapter does when its
 * service does not answer: PictorError OriginUnavailable.
 */

/** Method names of a fake that fail, as their adapter does when the service does not answer. */
class Outage {
  readonly failing = new Set<string>();
  check(what: string, method: string): void {
    if (this.failing.has(method) || this.failing.has('*')) throw new PictorError('OriginUnavailable', `${what} did not answer (${method}).`);
  }
}

interface MemoryVersion {
  readonly versionId: string;
  readonly deleteMarker: boolean;
  readonly body: Buffer;
  readonly etag: string;
  readonly headers: ObjectHeaders;
  replicationStatus?: string;
}

/**
 * Buckets in memory, as one S3 account: a copy between two of them works as
 * CopyObject does. Buckets are versioned unless made with `versioned: false`.
 */
export class MemoryS3 {
  private readonly buckets = new Map<string, MemoryBucket>();
  /** Every write and delete in any bucket, in order, as `bucket: put key` or `bucket: delete key[@version]`. */
  readonly log: string[] = [];

  bucket(name: string, options: { versioned?: boolean } = {}): MemoryBucket {
    let bucket = this.buckets.get(name);
    if (!bucket) {
      bucket = new MemoryBucket(this, name, options.versioned ?? true);
      this.buckets.set(name, bucket);
    }
    return bucket;
  }

  find(name: string): MemoryBucket | undefined {
    return this.buckets.get(name);
  }
}

/** One bucket in memory: the ObjectStore port with S3's semantics. */
export class MemoryBucket implements ObjectStore {
  private readonly objects = new Map<string, MemoryVersion[]>();
  private serial = 0;
  private readonly outage = new Outage();
  /** Method names that fail with OriginUnavailable ('*' for all), as S3 failing would. */
  readonly failing = this.outage.failing;
  /** Every write and delete, in order, for tests that assert what was (not) written. */
  readonly writes: string[] = [];
  /** Whether the bucket replicates: each write is then PENDING until `replicate()`, as S3 reports it. */
  replicates = false;

  constructor(
    private readonly s3: MemoryS3,
    readonly bucket: string,
    readonly versioned: boolean,
  ) {}

  // ----- the port

  async get(key: string, ifMatch?: string, maxBytes = Infinity): Promise<StoredObject | null> {
    this.outage.check(this.bucket, 'get');
    const current = this.current(key);
    if (!current) return null;
    if (ifMatch !== undefined && unquote(ifMatch) !== unquote(current.etag)) return null;
    if (current.body.length > maxBytes) throw new PictorError('ImageTooLarge', `The original is ${current.body.length} bytes; the limit is ${maxBytes}.`);
    return { body: Buffer.from(current.body), etag: current.etag };
  }

  async head(key: string): Promise<ObjectHead | null> {
    this.outage.check(this.bucket, 'head');
    const current = this.current(key);
    return current ? { etag: current.etag, size: current.body.length, replicationStatus: current.replicationStatus, metadata: { ...(current.headers.metadata ?? {}) } } : null;
  }

  async put(key: string, body: Buffer | string, headers: ObjectHeaders): Promise<void> {
    this.outage.check(this.bucket, 'put');
    this.write(key, Buffer.from(body), headers);
  }

  async putIfAbsent(key: string, body: string, contentType: string): Promise<boolean> {
    this.outage.check(this.bucket, 'putIfAbsent');
    if (this.current(key)) return false;
    this.write(key, Buffer.from(body), { contentType });
    return true;
  }

  async copyFrom(sourceBucket: string, sourceKey: string, key: string, options: { readonly ifMatch?: string; readonly sourceVersionId?: string } = {}): Promise<boolean> {
    this.outage.check(this.bucket, 'copyFrom');
    const source = this.s3.find(sourceBucket);
    if (!source) throw new PictorError('OriginUnavailable', `No bucket ${sourceBucket}.`);
    const version = options.sourceVersionId === undefined ? source.current(sourceKey) : source.versionsOf(sourceKey).find((v) => v.versionId === options.sourceVersionId && !v.deleteMarker);
    if (!version) return false;
    if (options.ifMatch !== undefined && unquote(options.ifMatch) !== unquote(version.etag)) return false;
    this.write(key, version.body, version.headers);
    return true;
  }

  async listPage(prefix: string, maxKeys: number, token?: string): Promise<{ keys: string[]; next?: string }> {
    this.outage.check(this.bucket, 'listPage');
    const keys = this.currentKeys(prefix).filter((key) => !key.slice(prefix.length).includes('/'));
    const start = token === undefined ? 0 : keys.findIndex((key) => key > token);
    const page = start < 0 ? [] : keys.slice(start, start + maxKeys);
    const more = start >= 0 && start + maxKeys < keys.length;
    return { keys: page, ...(more ? { next: page[page.length - 1] } : {}) };
  }

  async list(prefix: string): Promise<string[]> {
    this.outage.check(this.bucket, 'list');
    return this.currentKeys(prefix);
  }

  async listVersions(prefix: string): Promise<StoredVersion[]> {
    this.outage.check(this.bucket, 'listVersions');
    return [...this.objects.keys()]
      .filter((key) => (prefix.endsWith('/') ? key.startsWith(prefix) : key === prefix))
      .sort()
      .flatMap((key) => this.versionsOf(key).map((v) => ({ key, versionId: v.versionId, ...(v.deleteMarker ? { deleteMarker: true } : {}) })));
  }

  async deleteVersions(versions: readonly StoredVersion[]): Promise<void> {
    this.outage.check(this.bucket, 'deleteVersions');
    for (const { key, versionId } of versions) {
      this.objects.set(key, this.versionsOf(key).filter((v) => v.versionId !== versionId));
      this.record(`delete ${key}@${versionId}`);
    }
  }

  async delete(keys: readonly string[]): Promise<void> {
    this.outage.check(this.bucket, 'delete');
    for (const key of keys) {
      // A versioned bucket puts a delete marker on top, whether or not the key exists; an unversioned one forgets it.
      if (this.versioned) this.objects.set(key, [...this.versionsOf(key), { versionId: this.nextVersionId(), deleteMarker: true, body: Buffer.alloc(0), etag: '', headers: { contentType: '' } }]);
      else this.objects.delete(key);
      this.record(`delete ${key}`);
    }
  }

  // ----- for tests

  /** Puts an object as a client would (an upload), and returns its ETag and version id. */
  seed(key: string, body: Buffer | string, headers: ObjectHeaders = { contentType: 'application/octet-stream' }): { etag: string; versionId: string } {
    const version = this.write(key, Buffer.from(body), headers, false);
    return { etag: version.etag, versionId: version.versionId };
  }

  /** Sets the replication status S3 reports for the key's current version (PENDING, COMPLETED, FAILED). */
  replication(key: string, status: string | undefined): void {
    const current = this.current(key);
    if (!current) throw new Error(`No object ${key} in ${this.bucket} to set the replication status of.`);
    current.replicationStatus = status;
  }

  /** Every replication in flight lands: PENDING becomes COMPLETED. */
  replicate(): void {
    for (const versions of this.objects.values()) for (const v of versions) if (v.replicationStatus === 'PENDING') v.replicationStatus = 'COMPLETED';
  }

  /** The current object's body as text, or undefined. */
  text(key: string): string | undefined {
    return this.current(key)?.body.toString('utf8');
  }

  /** The current object, as a test reads it. */
  object(key: string): { body: Buffer; headers: ObjectHeaders } | undefined {
    const current = this.current(key);
    return current && { body: current.body, headers: current.headers };
  }

  /** Every current key, sorted. */
  keys(prefix = ''): string[] {
    return this.currentKeys(prefix);
  }

  /** Every version (delete markers included) of every key. */
  allVersions(): StoredVersion[] {
    return [...this.objects.keys()].sort().flatMap((key) => this.versionsOf(key).map((v) => ({ key, versionId: v.versionId, ...(v.deleteMarker ? { deleteMarker: true } : {}) })));
  }

  private versionsOf(key: string): MemoryVersion[] {
    return this.objects.get(key) ?? [];
  }

  private current(key: string): MemoryVersion | undefined {
    const latest = this.versionsOf(key).at(-1);
    return latest && !latest.deleteMarker ? latest : undefined;
  }

  private currentKeys(prefix: string): string[] {
    return [...this.objects.keys()].filter((key) => key.startsWith(prefix) && this.current(key)).sort();
  }

  private nextVersionId(): string {
    return this.versioned ? `v${String(++this.serial).padStart(4, '0')}` : 'null';
  }

  private write(key: string, body: Buffer, headers: ObjectHeaders, record = true): MemoryVersion {
    const version: MemoryVersion = {
      versionId: this.nextVersionId(),
      deleteMarker: false,
      body: Buffer.from(body),
      etag: `"${createHash('md5').update(body).digest('hex')}"`,
      headers,
      ...(this.replicates ? { replicationStatus: 'PENDING' } : {}),
    };
    this.objects.set(key, this.versioned ? [...this.versionsOf(key), version] : [version]);
    if (record) this.record(`put ${key}`);
    return version;
  }

  private record(write: string): void {
    this.writes.push(write);
    this.s3.log.push(`${this.bucket}: ${write}`);
  }
}

/** The reports bucket in memory, with the Reports helper the takedown tasks use on it. */
export function memoryReports(bucket = 'reports'): { reports: Reports; store: MemoryBucket } {
  const store = new MemoryS3().bucket(bucket, { versioned: false });
  return { reports: new Reports(store), store };
}

interface Row {
  tenant: string;
  imageId: string;
  nextVersion?: number;
  reservedSequencer?: string;
  reservedBy?: string;
  version?: number;
  previousVersion?: number;
  sequencer?: string;
  etag?: string;
  schema?: string;
  updatedAt?: string;
  publishedVersions: Set<number>;
  tombstonedAt?: string;
  lastUpload?: UploadNote;
}

/**
 * The version map in memory, with the conditions of its DynamoDB adapter
 * (tasks/shared/dynamodb-version-map.ts): a reservation only for a newer upload
 * (or the same one, for a re-render) and never on a tombstone; a publish only
 * over a lower version and never on a tombstone; each idempotent.
 */
export class MemoryVersionMap implements VersionMap {
  private readonly rows = new Map<string, Row>();
  private readonly outage = new Outage();
  readonly failing = this.outage.failing;

  constructor(private readonly now: () => Date = () => new Date()) {}

  async get(tenant: string, imageId: string): Promise<VersionRecord | null> {
    this.outage.check('The version map', 'get');
    const row = this.rows.get(`${tenant}/${imageId}`);
    return row ? record(row) : null;
  }

  async noteUpload(tenant: string, imageId: string, note: UploadNote): Promise<void> {
    this.outage.check('The version map', 'noteUpload');
    const row = this.row(tenant, imageId);
    const seq = normalizeSequencer(note.sequencer);
    if (!row.lastUpload || row.lastUpload.sequencer < seq) row.lastUpload = { ...note, sequencer: seq };
  }

  async reserve(tenant: string, imageId: string, sequencer: string, reservation: string, sameUpload = false): Promise<number | null> {
    this.outage.check('The version map', 'reserve');
    const row = this.row(tenant, imageId);
    const seq = normalizeSequencer(sequencer);
    const newer = row.reservedSequencer === undefined || (sameUpload ? row.reservedSequencer <= seq : row.reservedSequencer < seq);
    if (newer && row.reservedBy !== reservation && !row.tombstonedAt) {
      Object.assign(row, { reservedSequencer: seq, reservedBy: reservation, nextVersion: (row.nextVersion ?? 0) + 1 });
      return row.nextVersion!;
    }
    return !row.tombstonedAt && row.reservedBy === reservation ? (row.nextVersion ?? null) : null;
  }

  async publish(tenant: string, imageId: string, version: number, sequencer: string, etag: string, schema?: string): Promise<PublishOutcome> {
    this.outage.check('The version map', 'publish');
    const row = this.row(tenant, imageId);
    if ((row.version === undefined || row.version < version) && !row.tombstonedAt) {
      const previousVersion = row.version ?? 0;
      Object.assign(row, { previousVersion, version, sequencer: normalizeSequencer(sequencer), etag, updatedAt: this.now().toISOString(), ...(schema === undefined ? {} : { schema }) });
      row.publishedVersions.add(version);
      return { published: true, fresh: true, latest: true, previousVersion };
    }
    if (row.tombstonedAt) return { published: false, reason: 'taken-down' };
    if (!row.publishedVersions.has(version)) return { published: false, reason: 'superseded' };
    const latest = row.version === version;
    return { published: true, fresh: false, latest, previousVersion: latest ? (row.previousVersion ?? 0) : Math.max(0, ...[...row.publishedVersions].filter((v) => v < version)) };
  }

  async tombstone(tenant: string, imageId: string, _reason: string): Promise<VersionRecord & { tombstonedAt: string }> {
    this.outage.check('The version map', 'tombstone');
    const row = this.row(tenant, imageId);
    row.tombstonedAt ??= this.now().toISOString();
    return { ...record(row), tombstonedAt: row.tombstonedAt };
  }

  private row(tenant: string, imageId: string): Row {
    const id = `${tenant}/${imageId}`;
    let row = this.rows.get(id);
    if (!row) {
      row = { tenant, imageId, publishedVersions: new Set() };
      this.rows.set(id, row);
    }
    return row;
  }
}

function record(row: Row): VersionRecord {
  return {
    tenant: row.tenant,
    imageId: row.imageId,
    version: row.version ?? 0,
    publishedVersions: [...row.publishedVersions].sort((a, b) => a - b),
    ...(row.sequencer === undefined ? {} : { sequencer: row.sequencer }),
    ...(row.reservedSequencer === undefined ? {} : { reservedSequencer: row.reservedSequencer }),
    ...(row.reservedBy === undefined ? {} : { reservedBy: row.reservedBy }),
    ...(row.nextVersion === undefined ? {} : { reservedVersion: row.nextVersion }),
    ...(row.previousVersion === undefined ? {} : { previousVersion: row.previousVersion }),
    ...(row.etag === undefined ? {} : { etag: row.etag }),
    ...(row.schema === undefined ? {} : { schema: row.schema }),
    ...(row.updatedAt === undefined ? {} : { updatedAt: row.updatedAt }),
    ...(row.tombstonedAt === undefined ? {} : { tombstonedAt: row.tombstonedAt }),
    ...(row.lastUpload === undefined ? {} : { lastUpload: row.lastUpload }),
  };
}

/** An event bus that keeps what is published, each detail checked against its schema as the EventBridge adapter does. */
export class RecordingPublisher implements EventPublisher {
  readonly sent: { detailType: PictorDetailType; detail: unknown }[] = [];
  private readonly outage = new Outage();
  readonly failing = this.outage.failing;

  async publish<T extends PictorDetailType>(detailType: T, detail: PictorDetail<T>): Promise<void> {
    this.outage.check('EventBridge', 'publish');
    const parsed = PICTOR_EVENTS[detailType].safeParse(detail);
    if (!parsed.success) throw new PictorError('InternalError', `Refusing to publish an invalid '${detailType}': ${parsed.error.message}`);
    this.sent.push({ detailType, detail: parsed.data });
  }

  /** The details of one type, in order. */
  of<T extends PictorDetailType>(detailType: T): PictorDetail<T>[] {
    return this.sent.filter((e) => e.detailType === detailType).map((e) => e.detail as PictorDetail<T>);
  }
}

/**
 * A distribution's invalidations in memory: the same CallerReference returns
 * the invalidation made before (a different set of paths under it is refused,
 * as CloudFront's InvalidationBatchAlreadyExists); `throttled` answers as a full
 * quota does. New invalidations are InProgress until `complete`.
 */
export class MemoryInvalidator implements Invalidator {
  readonly made: { id: string; callerReference: string; paths: string[]; status: string; createdAt: Date }[] = [];
  throttled = false;
  private readonly outage = new Outage();
  readonly failing = this.outage.failing;

  constructor(private readonly now: () => Date = () => new Date()) {}

  async create(callerReference: string, paths: readonly string[]): Promise<InvalidationState> {
    this.outage.check('CloudFront', 'create');
    const before = this.made.find((i) => i.callerReference === callerReference);
    if (before) {
      if (before.paths.join('\n') !== paths.join('\n')) throw new PictorError('InvalidConfig', `CloudFront refused: InvalidationBatchAlreadyExists for ${callerReference}.`);
      return state(before);
    }
    if (this.throttled) throw new PictorError('TooManyInvalidationsInProgress', 'CloudFront has as many invalidation paths in progress as it allows (3,000 exact, 15 wildcard).');
    const made = { id: `I${this.made.length + 1}`, callerReference, paths: [...paths], status: 'InProgress', createdAt: this.now() };
    this.made.push(made);
    return state(made);
  }

  async get(id: string): Promise<InvalidationState> {
    this.outage.check('CloudFront', 'get');
    const found = this.made.find((i) => i.id === id);
    if (!found) throw new PictorError('InvalidConfig', `CloudFront refused: NoSuchInvalidation ${id}.`);
    return state(found);
  }

  /** Adds an invalidation made outside the task (for check-invalidation's tests). */
  add(createdAt: Date, status = 'InProgress'): string {
    const id = `I${this.made.length + 1}`;
    this.made.push({ id, callerReference: id, paths: ['/img/*'], status, createdAt });
    return id;
  }

  complete(id: string): void {
    this.made.find((i) => i.id === id)!.status = 'Completed';
  }
}

function state(i: { id: string; status: string; createdAt: Date }): InvalidationState {
  return { id: i.id, status: i.status, createdAt: i.createdAt };
}

/** The edge as a function of the path: every path it is asked for, answered with `statusOf`. */
export function recordingEdge(statusOf: (path: string) => number | EdgeAnswer): ViewerEdge & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    async status(path) {
      asked.push(path);
      const answer = statusOf(path);
      return typeof answer === 'number' ? { status: answer } : answer;
    },
  };
}

/** A signing-key lookup with one key per tenant. */
export function fixedSigningKeys(keys: Readonly<Record<string, SigningKey>>): (tenant: string) => Promise<SigningKey> {
  return async (tenant) => {
    const key = keys[tenant];
    if (!key) throw new PictorError('InvalidConfig', `Tenant ${tenant} requires signed URLs but has no signing key.`);
    return key;
  };
}

/** A clock that stands still until moved. */
export function fixedClock(start: string | Date): { now: () => Date; advance: (seconds: number) => void } {
  let at = new Date(start).getTime();
  return { now: () => new Date(at), advance: (seconds) => void (at += seconds * 1000) };
}

function unquote(etag: string): string {
  return etag.replace(/"/g, '');
}
