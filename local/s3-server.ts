import { mkdir } from 'node:fs/promises';
import './s3rver-listing.ts';
import S3rver from 's3rver';

/** s3rver checks SigV4 signatures against these fixed credentials. */
export const LOCAL_S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export interface LocalS3 {
  readonly endpoint: string;
  readonly server: S3rver;
  /** What HEAD and GET answer as `x-amz-replication-status` for an object; set by the twin's replication. */
  replicationStatus?: (bucket: string, key: string) => 'PENDING' | 'COMPLETED' | undefined;
  /** What a write to a replicated bucket waits for before it answers, if anything; set by the twin's replication. */
  replicatedWrite?: (bucket: string, key: string) => Promise<void> | undefined;
  close(): Promise<void>;
}

/**
 * An S3-compatible server (s3rver) on loopback, storing objects under
 * `directory`. The product code reaches it only through @aws-sdk/client-s3.
 */
export async function startLocalS3(options: { directory: string; buckets: readonly string[]; port?: number }): Promise<LocalS3> {
  await mkdir(options.directory, { recursive: true });
  const server = new S3rver({
    address: '127.0.0.1',
    port: options.port ?? 0,
    silent: true,
    directory: options.directory,
    vhostBuckets: false,
    configureBuckets: options.buckets.map((name) => ({ name })),
  });
  const local: LocalS3 = { endpoint: '', server, close: () => server.close() };
  // Koa composes its middleware on listen, so these run before s3rver's router.
  (server as unknown as { middleware: unknown[] }).middleware.unshift(listObjectVersions(server), replicationStatus(local), replicatedWrites(local));
  const address = await server.run();
  return Object.assign(local, { endpoint: `http://127.0.0.1:${address.port}` });
}

/**
 * The `x-amz-replication-status` header of objects in a replicated bucket, which
 * s3rver lacks. https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-status.html
 */
function replicationStatus(local: LocalS3) {
  return async (ctx: { method: string; path: string; status: number; set(name: string, value: string): void }, next: () => Promise<void>) => {
    await next();
    const match = /^\/([^/]+)\/(.+)$/.exec(ctx.path);
    if (!match || (ctx.method !== 'HEAD' && ctx.method !== 'GET') || ctx.status !== 200) return;
    const status = local.replicationStatus?.(match[1]!, decodeURIComponent(match[2]!));
    if (status) ctx.set('x-amz-replication-status', status);
  };
}

/** Holds the answer to a write until the twin's replication says it may go (see `replicatedWrite`). */
function replicatedWrites(local: LocalS3) {
  return async (ctx: { method: string; path: string; status: number }, next: () => Promise<void>) => {
    await next();
    const match = /^\/([^/]+)\/(.+)$/.exec(ctx.path);
    if (!match || (ctx.method !== 'PUT' && ctx.method !== 'POST') || ctx.status !== 200) return;
    await local.replicatedWrite?.(match[1]!, decodeURIComponent(match[2]!));
  };
}

/**
 * ListObjectVersions, which s3rver lacks, answered as S3 answers it for a bucket
 * that never had versioning: one version per object, with the version id "null".
 * Takedowns list versions to erase every one of them in versioned buckets.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectVersions.html
 */
function listObjectVersions(server: S3rver) {
  const store = (server as unknown as { store: { listObjects(bucket: string, options: { prefix: string }): Promise<{ objects: StoredObject[] }> } }).store;
  return async (ctx: { method: string; path: string; query: Record<string, string>; status: number; type: string; body: string }, next: () => Promise<void>) => {
    const bucket = /^\/([^/]+)\/?$/.exec(ctx.path)?.[1];
    if (ctx.method !== 'GET' || !bucket || !('versions' in ctx.query)) return next();
    const prefix = ctx.query.prefix ?? '';
    const { objects } = await store.listObjects(bucket, { prefix });
    const versions = objects.map(
      (o) =>
        `<Version><Key>${xml(o.key)}</Key><VersionId>null</VersionId><IsLatest>true</IsLatest><LastModified>${o.lastModifiedDate.toISOString()}</LastModified>` +
        `<ETag>${xml(o.metadata.etag ?? '')}</ETag><Size>${o.size}</Size><StorageClass>STANDARD</StorageClass></Version>`,
    );
    ctx.status = 200;
    ctx.type = 'application/xml';
    ctx.body =
      `<?xml version="1.0" encoding="UTF-8"?><ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${xml(bucket)}</Name>` +
      `<Prefix>${xml(prefix)}</Prefix><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>${versions.join('')}</ListVersionsResult>`;
  };
}

interface StoredObject {
  readonly key: string;
  readonly size: number;
  readonly lastModifiedDate: Date;
  readonly metadata: Record<string, string>;
}

function xml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
