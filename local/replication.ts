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
export function replicate(s3: LocalS3, client: S3Client, source: string, replica: string): Replication {
  const pending = new Set<Promise<unknown>>();
  s3.server.on('event', (event) => {
    for (const record of event.Records) {
      if (record.s3.bucket.name !== source) continue;
      const key = decodeURIComponent(record.s3.object.key.replace(/\+/g, ' '));
      const command = record.eventName.startsWith('ObjectCreated')
        ? new CopyObjectCommand({ Bucket: replica, Key: key, CopySource: `${source}/${key.split('/').map(encodeURIComponent).join('/')}` })
        : new DeleteObjectCommand({ Bucket: replica, Key: key });
      const done = client.send(command as CopyObjectCommand).catch((error: unknown) => console.error(`replication of ${key} failed:`, error));
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
