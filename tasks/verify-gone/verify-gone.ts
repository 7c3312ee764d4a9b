import { z } from 'zod';
import { PictorError } from '../../core/errors.ts';
import { policyOf } from '../../core/tenant-config.ts';
import { signUrl } from '../../signer/sign-url.ts';
import type { SigningKeyLookup, TenantLookup } from '../ports/tenants.ts';
import type { ViewerEdge } from '../ports/viewer-edge.ts';
import type { Reports } from '../shared/reports.ts';
import { Erased, Inventory, InventoryManifest, Stragglers, TakedownItem } from '../shared/takedown-state.ts';
import { imageUrls } from '../shared/takedown-urls.ts';

export const VerifyInput = z.object({ item: TakedownItem, inventory: Inventory, erase: Erased.optional(), sweep: Erased.optional() });

export interface VerifyDeps {
  /** The distribution, as a viewer reaches it. */
  readonly edge: ViewerEdge;
  readonly tenant: TenantLookup;
  /** The tenant's newest signing key; asked only for tenants that require signed URLs. */
  readonly signingKey: SigningKeyLookup;
  readonly now: () => Date;
  readonly reports: Reports;
}

/** Requests in flight at once: enough to be quick, few enough not to look like an attack to WAF's rate rule. */
const PARALLEL = 8;
/** How long the URLs it signs to check live: long enough for the check, never longer than the tenant allows. */
const CHECK_TTL_SECONDS = 300;

/**
 * Asks the edge for every URL the image was served at (each variant's, versioned
 * and not, those the erase and the sweep found late included, plus the bare URL of
 * each published version) and expects a 404 from each:
 * the proof, for the audit record, that the takedown reached viewers.
 * @throws {PictorError} TakedownUnverified naming the URLs still served,
 *   OriginUnavailable when the edge cannot be reached or answers a URL with a 5xx, or with S3's own 403 (retry)
 */
export async function verifyGone(input: z.infer<typeof VerifyInput>, deps: VerifyDeps): Promise<{ verifiedAt: string; urls: number }> {
  const image = { tenant: input.item.tenant, imageId: input.item.imageId };
  const inventory = await deps.reports.get(input.inventory.manifest, InventoryManifest);
  const late = await Promise.all([input.erase, input.sweep].flatMap((pass) => (pass?.manifest ? [deps.reports.get(pass.manifest, Stragglers)] : [])));
  const list = imageUrls(image, inventory, late);
  const tenant = await deps.tenant(image.tenant);
  const now = deps.now();
  const expiresAt = new Date(now.getTime() + Math.min(CHECK_TTL_SECONDS, tenant.signing.maxTtl) * 1000);
  const key = tenant.signing.required ? await deps.signingKey(image.tenant) : undefined;
  const policy = policyOf(tenant);
  const served: string[] = [];
  const unanswered: string[] = [];
  for (let i = 0; i < list.length; i += PARALLEL) {
    await Promise.all(
      list.slice(i, i + PARALLEL).map(async (url) => {
        const target = key ? signUrl({ url, policy, kid: key.kid, secret: key.secret, expiresAt, now }) : url;
        // The URL unsigned in the message: a signature has no place in a log.
        const { status, fromStorage } = await deps.edge.status(target).catch((error: unknown) => {
          throw new PictorError('OriginUnavailable', `The edge did not answer ${url}.`, { cause: error });
        });
        // S3's own 403 is the origin passing a gone key on when its function could not check the bucket
        // (it did not answer in time): no answer from Pictor, as a 5xx is not.
        if (status >= 500 || (status === 403 && fromStorage)) unanswered.push(`${url} → ${status}${fromStorage ? ' (S3)' : ''}`);
        else if (status !== 404) served.push(`${url} → ${status}`);
      }),
    );
  }
  if (served.length > 0) {
    throw new PictorError('TakedownUnverified', `${served.length} of ${list.length} URLs still answer other than 404: ${served.sort().slice(0, 10).join(', ')}`);
  }
  // A 5xx or S3's 403 proves neither way (a timed-out origin, a failing region): ask again later.
  if (unanswered.length > 0) {
    throw new PictorError('OriginUnavailable', `The edge answered ${unanswered.length} of ${list.length} URLs with a server error: ${unanswered.sort().slice(0, 10).join(', ')}`);
  }
  return { verifiedAt: deps.now().toISOString(), urls: list.length };
}
