import { CopyObjectCommand, DeleteObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { LocalS3 } from './s3-server.ts';

export interface Replication {
  /** Resolves when every change seen so far has reached the replica. */
  settled(): Promise<void>;
}

/**
 * The twin's Cross-Region Replication: every object created in or deleted from
 * the source bucket is copied to, or deleted from, the replica (delete-marker
 * replication, so that takedowns reach replicas).
 */
export function replicate(s3: LocalS3, client: S3Client, source: string, replica: string, reachable: () => Promise<void> = async () => undefined): Replication {
  const pending = new Set<Promise<unknown>>();
  /** Keys with a copy on its way, and how many. */
  const copying = new Map<string, number>();
  // S3 reports a source object PENDING until its replica has it.
  // https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-status.html
  s3.replicationStatus = (bucket, key) => (bucket !== source ? undefined : copying.has(key) ? 'PENDING' : 'COMPLETED');
  s3.server.on('event', (event) => {
    for (const record of event.Records) {
      if (record.s3.bucket.name !== source) continue;
      const key = decodeURIComponent(record.s3.object.key.replace(/\+/g, ' '));
      const command = record.eventName.startsWith('ObjectCreated')
        ? new CopyObjectCommand({ Bucket: replica, Key: key, CopySource: `${source}/${key.split('/').map(encodeURIComponent).join('/')}` })
        : new DeleteObjectCommand({ Bucket: replica, Key: key });
      const created = record.eventName.startsWith('ObjectCreated');
      if (created) copying.set(key, (copying.get(key) ?? 0) + 1);
      const done = reachable()
        .then(() => client.send(command as CopyObjectCommand))
        // A source deleted before its copy ran has nothing left to replicate.
        .catch((error: unknown) => (error as Error).name === 'NoSuchKey' || console.error(`replication of ${key} failed:`, error))
        .finally(() => {
          if (!created) return;
          const left = (copying.get(key) ?? 1) - 1;
          if (left > 0) copying.set(key, left);
          else copying.delete(key);
        });
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
