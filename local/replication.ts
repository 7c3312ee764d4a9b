import { setTimeout as sleep } from 'node:timers/promises';
import { CopyObjectCommand, DeleteObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { LocalS3 } from './s3-server.ts';

export interface Replication {
  /** Resolves when every change seen so far has reached the replica. */
  settled(): Promise<void>;
}

export interface ReplicationOptions {
  /**
   * How long each copy and each delete takes to reach the replica, in ms; a
   * copied object's status stays PENDING meanwhile. With 0, a write answers only
   * once its copy has reached the replica (unless the replica's region is down),
   * so nothing is ever seen PENDING then.
   * @default 0
   */
  readonly delayMs?: number;
  /** The replica's region: whether it answers now, and when it does again. S3 replicates into it only then. @default always up */
  readonly region?: { up(): boolean; healthy(): Promise<void> };
}

/**
 * The twin's Cross-Region Replication: every object created in or deleted from
 * the source bucket is copied to, or deleted from, the replica (delete-marker
 * replication, so that takedowns reach replicas), `delayMs` later and once the
 * replica's region answers. What is copied is the source's object as it is then.
 */
export function replicate(s3: LocalS3, client: S3Client, source: string, replica: string, options: ReplicationOptions = {}): Replication {
  const { delayMs = 0, region = { up: () => true, healthy: async () => undefined } } = options;
  if (!Number.isFinite(delayMs) || delayMs < 0) throw new Error(`Expected a number of milliseconds from 0 for the replication delay but received ${delayMs}.`);
  const pending = new Set<Promise<unknown>>();
  /** Keys with a copy on its way: how many, and the latest. */
  const copying = new Map<string, { count: number; latest: Promise<unknown> }>();
  // S3 reports a source object PENDING until its replica has it.
  // https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-status.html
  s3.replicationStatus = (bucket, key) => (bucket !== source ? undefined : copying.has(key) ? 'PENDING' : 'COMPLETED');
  s3.replicatedWrite = (bucket, key) => (bucket === source && delayMs === 0 && region.up() ? copying.get(key)?.latest.then(() => undefined) : undefined);
  s3.server.on('event', (event) => {
    for (const record of event.Records) {
      if (record.s3.bucket.name !== source) continue;
      const key = decodeURIComponent(record.s3.object.key.replace(/\+/g, ' '));
      const command = record.eventName.startsWith('ObjectCreated')
        ? new CopyObjectCommand({ Bucket: replica, Key: key, CopySource: `${source}/${key.split('/').map(encodeURIComponent).join('/')}` })
        : new DeleteObjectCommand({ Bucket: replica, Key: key });
      const created = record.eventName.startsWith('ObjectCreated');
      const done = (delayMs > 0 ? sleep(delayMs) : Promise.resolve())
        .then(() => region.healthy())
        .then(() => client.send(command as CopyObjectCommand))
        // A source deleted before its copy ran has nothing left to replicate.
        .catch((error: unknown) => (error as Error).name === 'NoSuchKey' || console.error(`replication of ${key} failed:`, error))
        .finally(() => {
          if (!created) return;
          const entry = copying.get(key)!;
          if (--entry.count === 0) copying.delete(key);
        });
      if (created) copying.set(key, { count: (copying.get(key)?.count ?? 0) + 1, latest: done });
      pending.add(done);
      void done.finally(() => pending.delete(done));
    }
  });
  return {
    async settled() {
      while (pending.size > 0) await Promise.all(pending);
    },
  };
}
