import { z } from 'zod';
import { RESOLVED_FORMATS } from '../../core/tenant-config.ts';

/** One upload, as the later states name it. */
export const Upload = z.object({
  tenant: z.string(),
  imageId: z.string(),
  sequencer: z.string(),
  etag: z.string(),
  /** The upload's S3 version, on a versioned bucket: what quarantine moves, whatever came after. */
  versionId: z.string().optional(),
  /** tenant/imageId/sequencer: one S3 event, however often it is delivered. */
  idempotencyKey: z.string(),
  /** Set by CatalogueRerender: render the upload already published again, as a new version. */
  rerender: z.boolean().optional(),
  /** A variant schema to render at instead of the tenant's. */
  variants: z.object({ widths: z.array(z.number().int().positive()).optional(), formats: z.array(z.enum(RESOLVED_FORMATS)).optional() }).optional(),
});
export type Upload = z.infer<typeof Upload>;
