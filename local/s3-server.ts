import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import './s3rver-listing.ts';
import S3rver from 's3rver';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './account.ts';
import { bucketOwnerMiddleware, type BucketOwnerOptions } from './s3-bucket-owner.ts';
import { postObjectMiddleware } from './s3-post-object.ts';
import { S3Versions, type ReplicationStatus } from './s3-versioning.ts';

export { LOCAL_S3_CREDENTIALS } from './twin-names.ts';
import { BUCKETS, LOCAL_S3_CREDENTIALS } from './twin-names.ts';

export interface LocalS3 {
  readonly endpoint: string;
  readonly server: S3rver;
  /** The versions of the versioned buckets; the twin's replication reads and writes them. */
  readonly versions: S3Versions;
  /** What HEAD and GET answer as `x-amz-replication-status` for the key's current version, if anything. */
  replicationStatus(bucket: string, key: string): ReplicationStatus | undefined;
  close(): Promise<void>;
}

export interface LocalS3Options {
  /** Where objects live; the versions of versioned buckets too, under `.versions/`. */
  readonly directory: string;
  readonly buckets: readonly string[];
  /**
   * The buckets with S3 Versioning enabled (`VersioningConfiguration: Enabled` in
   * the template, and every replication destination, as S3 requires). Each
   * write makes a version, a plain delete a delete marker, and
   * ListObjectVersions lists them all; the other buckets answer one "null"
   * version per object. https://docs.aws.amazon.com/AmazonS3/latest/userguide/Versioning.html
   * @default none
   */
  readonly versioned?: readonly string[];
  /** 0 picks a free port. @default 0 */
  readonly port?: number;
  /**
   * The account that owns every bucket, which S3's bucket owner condition checks
   * (local/s3-bucket-owner.ts), and whether a request must name it.
   * @default { owner: LOCAL_ACCOUNT, required: false }, as on AWS
   */
  readonly bucketOwner?: BucketOwnerOptions;
  /**
   * The region of each bucket, by name: a browser upload's credential must be scoped
   * to its bucket's region, as on S3.
   * @default the twin's placement of its buckets (BUCKETS), LOCAL_REGION for any other
   */
  readonly regions?: Readonly<Record<string, string>>;
}

/**
 * An S3-compatible server (s3rver) on loopback, storing objects under
 * `directory`, with S3 Versioning for the `versioned` buckets (s3-versioning.ts).
 * The product code reaches it only through @aws-sdk/client-s3. Notifications
 * (`server.on('event')`) are S3's records, with the version id in versioned
 * buckets, for DeleteObjects too.
 */
export async function startLocalS3(options: LocalS3Options): Promise<LocalS3> {
  const versioned = options.versioned ?? [];
  const unknown = versioned.filter((bucket) => !options.buckets.includes(bucket));
  if (unknown.length > 0) throw new Error(`Expected versioned buckets among the buckets [${options.buckets.join(', ')}] but received ${unknown.join(', ')}; add them to \`buckets\`.`);
  await mkdir(options.directory, { recursive: true });
  const server = new S3rver({
    address: '127.0.0.1',
    port: options.port ?? 0,
    silent: true,
    directory: options.directory,
    vhostBuckets: false,
    configureBuckets: options.buckets.map((name) => ({ name })),
  });
  const versions = await S3Versions.attach(server, options.directory, versioned);
  // Koa composes its middleware on listen, so this runs before s3rver's router, which has no ListObjectVersions.
  (server as unknown as { middleware: unknown[] }).middleware.unshift(versions.listMiddleware());
  // POST Object with its policy checked before a byte is stored (s3rver's own ignores the policy).
  const regions: Record<string, string> = { ...Object.fromEntries(Object.values(BUCKETS).map((b) => [b.bucket, b.region])), ...options.regions };
  (server as unknown as { middleware: unknown[] }).middleware.unshift(postObjectMiddleware({ versions, regionOf: (bucket) => regions[bucket] ?? LOCAL_REGION }));
  // Before anything else, as S3 checks the owner before processing the request.
  (server as unknown as { middleware: unknown[] }).middleware.unshift(bucketOwnerMiddleware(options.bucketOwner ?? { owner: LOCAL_ACCOUNT }));
  // s3rver leaves a listen error unhandled, which ends the process with a stack trace; a port
  // another process holds is refused here instead, as the other servers refuse it (EADDRINUSE).
  if (options.port) await checkPortFree(options.port, '127.0.0.1');
  const address = await server.run();
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    server,
    versions,
    replicationStatus: (bucket, key) => versions.replicationStatus(bucket, key),
    async close() {
      await server.close();
      await versions.flush();
    },
  };
}

/**
 * An @aws-sdk/client-s3 client for the local server: path-style, its fixed
 * credentials, and checksums only where S3 requires them (s3rver would store
 * streamed chunk framing otherwise; shared/LOCAL_STACK.md).
 */
export function localS3Client(endpoint: string, region = 'us-east-1', options: Omit<S3ClientConfig, 'region' | 'endpoint'> = {}): S3Client {
  return new S3Client({
    ...options,
    region,
    endpoint,
    forcePathStyle: true,
    credentials: LOCAL_S3_CREDENTIALS,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** Rejects with the listen error (EADDRINUSE, EACCES, with its port) when `port` cannot be listened on. */
function checkPortFree(port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject).listen(port, host, () => probe.close(() => resolve()));
  });
}
