import { z } from 'zod';
import { SEQUENCER_PATTERN } from '../../core/sequencer.ts';

/**
 * S3's own "Object Created" event on EventBridge (the upload trigger); only the
 * fields Pictor reads. https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html
 */
export const ObjectCreated = z.object({
  source: z.literal('aws.s3'),
  'detail-type': z.literal('Object Created'),
  time: z.string(),
  detail: z.object({
    bucket: z.object({ name: z.string().min(3) }),
    object: z.object({
      key: z.string().min(1),
      size: z.number().int().nonnegative().optional(),
      etag: z.string().min(1),
      sequencer: z.string().regex(SEQUENCER_PATTERN),
      'version-id': z.string().optional(),
    }),
    reason: z.string().optional(),
  }),
});
export type ObjectCreated = z.infer<typeof ObjectCreated>;

/** S3's "Object Deleted" event: the same envelope, a deletion reason. */
export const ObjectDeleted = ObjectCreated.extend({
  'detail-type': z.literal('Object Deleted'),
  detail: ObjectCreated.shape.detail.extend({
    object: z.object({ key: z.string().min(1), sequencer: z.string().regex(SEQUENCER_PATTERN), etag: z.string().optional() }),
  }),
});
