import type { LocalS3 } from '../s3-server.ts';
import { keyOf, versionIdOf } from '../s3-versioning.ts';
import type { LocalEventBus } from './event-bus.ts';

/**
 * S3's EventBridge notifications for the twin: what s3rver reports becomes
 * "Object Created" and "Object Deleted" on the default bus, for the buckets that
 * have EventBridge turned on. Sequencers are minted here, monotonic per bucket and
 * key as S3's are (s3rver's own is a millisecond clock that can tie).
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html
 */
export function bridgeS3Events(s3: LocalS3, bus: LocalEventBus, buckets: ReadonlySet<string>): void {
  let last = 0n;
  s3.server.on('event', (notification) => {
    for (const record of notification.Records) {
      const bucket = record.s3.bucket.name;
      if (!buckets.has(bucket)) continue;
      const created = record.eventName.startsWith('ObjectCreated');
      const now = BigInt(Date.now()) * 1000n;
      last = now > last ? now : last + 1n;
      const object = record.s3.object;
      const versionId = versionIdOf(record);
      bus.put({
        source: 'aws.s3',
        detailType: created ? 'Object Created' : 'Object Deleted',
        resources: [`arn:aws:s3:::${bucket}`],
        time: record.eventTime,
        detail: {
          version: '0',
          bucket: { name: bucket },
          object: {
            key: keyOf(record),
            ...(created ? { size: object.size, etag: String(object.eTag ?? '').replace(/"/g, '') } : {}),
            ...(versionId ? { 'version-id': versionId } : {}),
            sequencer: last.toString(16).toUpperCase().padStart(18, '0'),
          },
          'request-id': record.eventTime,
          requester: 'local',
          reason: created ? createdReason(record.eventName) : 'DeleteObject',
          // A delete in a versioned bucket either hides the key behind a marker or removes a version for good.
          ...(created ? {} : { 'deletion-type': record.eventName.endsWith('DeleteMarkerCreated') ? 'Delete Marker Created' : 'Permanently Deleted' }),
        },
      });
    }
  });
}

/**
 * The S3 API that created the object, as "Object Created" names it in `reason`:
 * PutObject, POST Object (a browser upload), CopyObject or CompleteMultipartUpload.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html#ev-events-detail
 */
export function createdReason(eventName: string): string {
  if (eventName.endsWith(':Post')) return 'PostObject';
  if (eventName.endsWith(':Copy')) return 'CopyObject';
  if (eventName.endsWith(':CompleteMultipartUpload')) return 'CompleteMultipartUpload';
  return 'PutObject';
}
