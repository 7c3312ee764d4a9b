import { z } from 'zod';
import { SEQUENCER_PATTERN } from '../../core/sequencer.ts';

/**
 * S3's own "Object Created" event on EventBridge (the upload trigger); only the
 * fields Pictor reads. https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html
 * Its descriptions and example are documentation: docs/EVENTS.md is generated from them.
 */
export const ObjectCreated = z
  .object({
    source: z.literal('aws.s3'),
    'detail-type': z.literal('Object Created'),
    time: z.string().meta({ description: 'When S3 stored the object (ISO 8601).' }),
    detail: z.object({
      bucket: z.object({ name: z.string().min(3).meta({ description: 'The originals bucket.' }) }),
      object: z.object({
        key: z.string().min(1).meta({ description: 'The upload key, `{tenant}/{imageId}`; keys under `_` are system keys, which the rule does not route.' }),
        size: z.number().int().nonnegative().optional(),
        etag: z.string().min(1),
        sequencer: z.string().regex(SEQUENCER_PATTERN).meta({ description: "S3's ordering of events for one key: versions follow it, so a late or repeated event never rolls a version back." }),
        'version-id': z.string().optional().meta({ description: 'The version S3 gave the upload (the originals bucket is versioned).' }),
      }),
      reason: z.string().optional(),
    }),
  })
  .meta({
    description: 'S3 stored an object in the originals bucket: an upload. On the default event bus; the `OnOriginalUploaded` rule starts RenderOnUpload with the whole event.',
    examples: [
      {
        source: 'aws.s3',
        'detail-type': 'Object Created',
        time: '2026-12-01T08:00:00Z',
        detail: {
          bucket: { name: 'pictor-originals-111122223333-us-east-1' },
          object: { key: 'demo/my-photo', size: 482113, etag: 'b1946ac92492d2347c6235b4d2611184', sequencer: '0062E99A88DC407460', 'version-id': 'Vp0Fh7u3a1D2x9yQ' },
          reason: 'PutObject',
        },
      },
    ],
  });
export type ObjectCreated = z.infer<typeof ObjectCreated>;

/** S3's "Object Deleted" event: the same envelope, a deletion reason. */
export const ObjectDeleted = ObjectCreated.extend({
  'detail-type': z.literal('Object Deleted'),
  time: z.string().meta({ description: 'When S3 deleted the object (ISO 8601).' }),
  detail: ObjectCreated.shape.detail.extend({
    object: z.object({ key: z.string().min(1), sequencer: z.string().regex(SEQUENCER_PATTERN), etag: z.string().optional() }),
  }),
}).meta({
  description: 'S3 deleted an object: the same envelope as "Object Created". Pictor declares its schema, but no rule of Pictor\'s routes it.',
  examples: [
    {
      source: 'aws.s3',
      'detail-type': 'Object Deleted',
      time: '2026-12-01T08:05:00Z',
      detail: { bucket: { name: 'pictor-originals-111122223333-us-east-1' }, object: { key: 'demo/my-photo', sequencer: '0062E99A88DC407470' }, reason: 'DeleteObject' },
    },
  ],
});
