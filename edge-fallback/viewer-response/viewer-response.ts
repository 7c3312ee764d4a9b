import { viewerCacheControl } from '../../core/cache-control.ts';
import { parseImagePath } from '../../core/image-path.ts';
import { decodePolicy, policyStoreKey } from '../../core/tenant-policy.ts';
import type { CfFunctionEvent, CfFunctionResponse } from '../viewer-request/cf-function-event.ts';

/**
 * The viewer-response CloudFront Function: the event <-> core only. CloudFront
 * runs it on every response it serves from its cache or the origin below status
 * 400, after the behaviour's response headers policy; never on a response the
 * viewer-request function generated (see infra/edge.ts for the pages).
 */

/** The store key of the tenant whose image was asked for; null when the path names none (nothing to read). */
export function policyKeyOf(event: CfFunctionEvent): string | null {
  const parsed = parseImagePath(event.request.uri);
  return parsed.ok ? policyStoreKey(parsed.path.tenant) : null;
}

/** The response as the viewer gets it, given the tenant's stored policy (null when there is none). */
export function finish(event: CfFunctionEvent, policyText: string | null): CfFunctionResponse {
  const response = event.response as CfFunctionResponse;
  const cacheControl = viewerCacheControl(decodePolicy(policyText));
  if (cacheControl !== null) response.headers['cache-control'] = { value: cacheControl };
  return response;
}
