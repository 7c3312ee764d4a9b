import { z } from 'zod';
import { isImageId } from '../core/image-path.ts';
import { TAKEDOWN_REASONS } from '../core/takedown.ts';

/**
 * The bodies the control API reads, checked at the boundary: a body that does not
 * fit is a 400 InvalidRequest naming the field. Strict, so a misspelt field is
 * a mistake the caller hears about rather than a default silently applied.
 */
const imageId = z.string().refine(isImageId, 'an image id: 1 to 128 of A-Z a-z 0-9 _ -, starting with a letter or digit');

export const UploadBody = z.strictObject({
  imageId,
  contentType: z.string().min(1),
  contentLength: z.number().int().positive().optional(),
});

export const SignUrlBody = z.strictObject({
  url: z.string().min(1),
  ttlSeconds: z.number().int().positive().optional(),
});

/** As many as one "Takedown Requested" holds (events/schemas/pictor-events.ts), within EventBridge's 256 KB. */
export const MAX_TAKEDOWN_IMAGES = 1000;

export const TakedownBody = z.strictObject({
  imageIds: z.array(imageId).min(1).max(MAX_TAKEDOWN_IMAGES),
  reason: z.enum(TAKEDOWN_REASONS),
});

export const RerenderBody = z.strictObject({
  variants: z.strictObject({ widths: z.array(z.number().int().positive()).optional(), formats: z.array(z.string()).optional() }).optional(),
  onlyStale: z.boolean().optional(),
  toleratedFailurePercentage: z.number().min(0).max(100).optional(),
});

export const RotateKeyBody = z.strictObject({ kid: z.string().min(1).optional() });

/** Zod's issues as one line: each field's path and what is wrong with it. */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues.map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`).join('; ');
}
