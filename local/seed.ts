import type { S3Client } from '@aws-sdk/client-s3';
import { snapshotKey } from '../core/object-keys.ts';
import { writePublishedPointer } from '../tasks/publish-version/publish-version.ts';
import { S3ObjectStore } from '../tasks/shared/s3-object-store.ts';
import { BUCKETS } from './topology.ts';

/**
 * Puts an original in place as publishing leaves it (its version's snapshot and
 * the published pointer), without running the pipeline: for twins that run the
 * edge alone, in tests and benchmarks. The pipeline's own tests publish through
 * RenderOnUpload instead.
 */
export async function publishDirectly(s3: S3Client, image: { tenant: string; imageId: string }, body: Buffer, version = 1): Promise<void> {
  const originals = new S3ObjectStore(s3, BUCKETS.originals.bucket);
  await originals.put(snapshotKey(image, version), body, { contentType: 'application/octet-stream' });
  await writePublishedPointer(originals, image, version);
}
