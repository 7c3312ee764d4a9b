import { z } from 'zod';
import { quarantineKey, uploadKey } from '../../core/object-keys.ts';
import type { EventPublisher } from '../ports/event-publisher.ts';
import { Upload } from '../shared/upload.ts';
import type { ObjectStore } from '../ports/object-store.ts';

export const QuarantineInput = Upload.extend({
  rejection: z.object({
    /** Why: an error name such as UnprocessableImage or ImageTooLarge. */
    code: z.string().min(1),
    /** In words; a Step Functions Cause (JSON from Lambda) is unwrapped to its message. */
    reason: z.string(),
  }),
});
export type QuarantineInput = z.infer<typeof QuarantineInput>;

export interface QuarantineDeps {
  readonly originals: ObjectStore;
  readonly events: EventPublisher;
}

/**
 * Moves a rejected upload out of the tenant's space into quarantine and says why
 * in "Original Rejected". On a versioned bucket only the rejected version is
 * deleted, so a good re-upload that raced in is never lost; without versions, the
 * upload is deleted only if it is still the rejected bytes.
 */
export async function quarantineOriginal(input: QuarantineInput, deps: QuarantineDeps): Promise<{ quarantineKey: string | null; code: string; reason: string }> {
  const image = { tenant: input.tenant, imageId: input.imageId };
  const source = uploadKey(image);
  const target = quarantineKey(image, input.sequencer);
  const { code } = input.rejection;
  const reason = unwrapCause(input.rejection.reason);
  const copied = await deps.originals.copyFrom(deps.originals.bucket, source, target, { ifMatch: input.etag, sourceVersionId: input.versionId });
  if (copied && input.versionId) {
    // That very version goes, and nothing an upload put on top of it since.
    await deps.originals.deleteVersions([{ key: source, versionId: input.versionId }]);
  } else if (copied) {
    // Without versions: a check, then a delete, with a newer upload able to land in between.
    const head = await deps.originals.head(source);
    if (head && head.etag.replace(/"/g, '') === input.etag) await deps.originals.delete([source]);
  }
  await deps.events.publish('Original Rejected', { schemaVersion: 1, ...image, code, reason, quarantineKey: target });
  return { quarantineKey: copied ? target : null, code, reason };
}

/** Lambda errors reach a Catch as a JSON Cause: {"errorType", "errorMessage", ...}. */
function unwrapCause(reason: string): string {
  try {
    const parsed = JSON.parse(reason);
    return typeof parsed?.errorMessage === 'string' ? parsed.errorMessage : reason;
  } catch {
    return reason;
  }
}
