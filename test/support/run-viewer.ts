import { hmacSha256 } from '../../signer/sign-url.ts';
import type { CfFunctionEvent, CfFunctionRequest, CfFunctionResponse } from '../../edge-fallback/viewer-request/cf-function-event.ts';
import { resume, start } from '../../edge-fallback/viewer-request/viewer-request.ts';

/** The viewer function's handler loop, on the TypeScript source instead of the bundle. */
export async function runViewerSource(
  event: CfFunctionEvent,
  store: ReadonlyMap<string, string>,
  nowMs = Date.now(),
): Promise<CfFunctionRequest | CfFunctionResponse> {
  let step = start(event, nowMs);
  while (step.need !== undefined) step = resume(step, store.get(step.need) ?? null, hmacSha256);
  return step.done;
}
