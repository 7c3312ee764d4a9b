import { z } from 'zod';
import { REJECTION_ERRORS, type ErrorCode } from '../../core/error-codes.ts';
import { isPictorError } from '../../core/errors.ts';
import { parseUploadKey } from '../../core/object-keys.ts';
import { compareSequencers, normalizeSequencer } from '../../core/sequencer.ts';
import { inspectOriginal, type RenderLimits } from '../../imaging/render.ts';
import { ObjectCreated } from '../../events/schemas/object-created.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import { Upload } from '../shared/upload.ts';
import type { VersionMap } from '../ports/version-map.ts';

export const ProbeInput = ObjectCreated;

export type ProbeResult =
  | ({ action: 'render' } & Upload & { width: number; height: number; format: string })
  | ({ action: 'reject' } & Upload & { rejection: { code: ErrorCode; reason: string } })
  | ({ action: 'discard' } & Upload & { reason: string; takenDownAt: string })
  | { action: 'skip'; reason: string };

export interface ProbeDeps {
  readonly originals: ObjectStore;
  readonly versions: VersionMap;
  readonly knownTenant: (tenant: string) => Promise<boolean>;
  readonly limits: Omit<RenderLimits, 'maxDimension' | 'avifEffort'>;
  /** @default the real clock */
  readonly now?: () => Date;
}

/**
 * Decides what an upload event calls for, from its key, the version map and the
 * original's header: render it, reject it (quarantine), discard it (its id was
 * taken down), or skip it (a system key, a duplicate, an older event than one
 * already published, an object replaced since). Decodes no pixel.
 */
export async function probeOriginal(event: z.infer<typeof ProbeInput>, deps: ProbeDeps, context: { readonly executionId?: string } = {}): Promise<ProbeResult> {
  const object = event.detail.object;
  const key = decodeURIComponent(object.key.replace(/\+/g, ' '));
  const parsed = parseUploadKey(key);
  if (!parsed) return { action: 'skip', reason: `not an upload key: ${key}` };
  const upload: Upload = {
    ...parsed,
    sequencer: normalizeSequencer(object.sequencer),
    etag: object.etag.replace(/"/g, ''),
    ...(object['version-id'] ? { versionId: object['version-id'] } : {}),
    idempotencyKey: `${key}/${normalizeSequencer(object.sequencer)}`,
  };
  if (!(await deps.knownTenant(parsed.tenant))) return { action: 'reject', ...upload, rejection: { code: 'UnknownTenant', reason: `No tenant '${parsed.tenant}' is configured.` } };

  // The newest upload and its execution, for the control API's status; before the decision, so a
  // rejected or discarded upload is found as readily as a published one.
  if (context.executionId) {
    await deps.versions.noteUpload(parsed.tenant, parsed.imageId, { sequencer: upload.sequencer, executionArn: context.executionId, at: (deps.now ?? (() => new Date()))().toISOString() });
  }
  const current = await deps.versions.get(parsed.tenant, parsed.imageId);
  if (current?.tombstonedAt) {
    return { action: 'discard', ...upload, reason: `${parsed.tenant}/${parsed.imageId} was taken down at ${current.tombstonedAt}; uploads to it are erased`, takenDownAt: current.tombstonedAt };
  }
  // This very upload published (a run that failed after publishing, sent again, or a duplicate
  // event) goes on: every step is idempotent, so it completes what is missing and repeats nothing.
  if (current?.sequencer && compareSequencers(current.sequencer, upload.sequencer) > 0) {
    return { action: 'skip', reason: `version ${current.version} comes from a newer upload` };
  }

  try {
    const original = await deps.originals.get(key, upload.etag, deps.limits.maxInputBytes);
    if (!original) return { action: 'skip', reason: 'the upload was replaced or deleted since the event' };
    const { metadata } = await inspectOriginal(original.body, deps.limits);
    return { action: 'render', ...upload, width: metadata.width!, height: metadata.height!, format: metadata.format ?? 'unknown' };
  } catch (error) {
    if (isPictorError(error) && REJECTION_ERRORS.includes(error.code)) {
      return { action: 'reject', ...upload, rejection: { code: error.code, reason: error.message } };
    }
    throw error;
  }
}
