import { setImmediate as nextTick, setTimeout as sleep } from 'node:timers/promises';
import type { LocalS3 } from './s3-server.ts';
import { keyOf, versionIdOf, type ObjectVersion } from './s3-versioning.ts';

export interface Replication {
  /** Resolves when every change seen so far has reached the replica, or was dropped. */
  settled(): Promise<void>;
}

export interface ReplicationOptions {
  /**
   * How long each new version and each delete marker takes to reach the replica
   * once picked up, in ms; the source version reports PENDING meanwhile. 0 means
   * the next turn of the event loop: a write never waits for its replica. AWS
   * takes seconds, and up to 15 minutes with Replication Time Control.
   * https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-time-control.html
   * @default 1000
   */
  readonly delayMs?: number;
  /**
   * Whether delete markers (plain deletes) are replicated: the rule's
   * `DeleteMarkerReplication` status. Deletes that name a version id never are.
   * https://docs.aws.amazon.com/AmazonS3/latest/userguide/delete-marker-replication.html
   * @default true
   */
  readonly deleteMarkerReplication?: boolean;
  /** The replica's region: whether it answers now, and when it does again. S3 replicates into it only then. @default always up */
  readonly region?: { up(): boolean; healthy(): Promise<void> };
}

/**
 * The twin's S3 Replication from `source` to `replica`, both versioned buckets
 * of `s3`, as S3 documents it:
 * - every new version (Put, Copy, CompleteMultipartUpload) and, with
 *   `deleteMarkerReplication`, every delete marker is replicated, keeping its
 *   version id, bytes and metadata; a delete naming a version id is not
 *   (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-what-is-isnot-replicated.html);
 * - asynchronously: a write answers at once, its version reports PENDING until
 *   the replica has it, then COMPLETED, and the replica's copy REPLICA
 *   (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-status.html);
 * - a version is picked up on the next tick once the replica's region answers,
 *   which reads it from the source (a version permanently deleted before that is
 *   not replicated, as S3 fails it), and lands `delayMs` later, again only once
 *   the region answers, even if the source has erased it meanwhile.
 * Versions left PENDING by an earlier run of the twin are picked up again.
 */
export function replicate(s3: LocalS3, source: string, replica: string, options: ReplicationOptions = {}): Replication {
  const { delayMs = 1000, deleteMarkerReplication = true, region = { up: () => true, healthy: async () => undefined } } = options;
  if (!Number.isFinite(delayMs) || delayMs < 0) throw new Error(`Expected a number of milliseconds from 0 for the replication delay but received ${delayMs}.`);
  // https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-requirements.html: both buckets must have versioning enabled.
  for (const bucket of [source, replica]) {
    if (!s3.versions.isVersioned(bucket)) throw new Error(`Expected versioning on replication bucket ${bucket} but it has none; pass it in startLocalS3's \`versioned\`.`);
  }
  const pending = new Set<Promise<void>>();
  const versions = s3.versions;

  const schedule = (key: string, versionId: string) => {
    const job = (async () => {
      await nextTick();
      if (!region.up()) await region.healthy();
      const staged: ObjectVersion | undefined = await versions.stage(source, key, versionId, replica);
      if (!staged) return;
      await sleep(delayMs);
      if (!region.up()) await region.healthy();
      await versions.land(replica, key, staged);
      versions.setReplicationStatus(source, key, versionId, 'COMPLETED');
    })().catch((error: unknown) => {
      versions.setReplicationStatus(source, key, versionId, 'FAILED');
      console.error(`replication of ${key} (${versionId}) failed:`, error);
    });
    pending.add(job);
    void job.finally(() => pending.delete(job));
  };

  for (const { key, version } of versions.pendingReplication(source)) schedule(key, version.versionId);
  s3.server.on('event', (event) => {
    for (const record of event.Records) {
      const versionId = versionIdOf(record);
      if (record.s3.bucket.name !== source || !versionId) continue;
      const created = record.eventName.startsWith('ObjectCreated:');
      if (!created && !(deleteMarkerReplication && record.eventName === 'ObjectRemoved:DeleteMarkerCreated')) continue;
      const key = keyOf(record);
      // Set before the write answers, so a HEAD right after it sees PENDING.
      versions.setReplicationStatus(source, key, versionId, 'PENDING');
      schedule(key, versionId);
    }
  });
  return {
    async settled() {
      while (pending.size > 0) await Promise.all(pending);
    },
  };
}
