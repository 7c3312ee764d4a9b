import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleCloudFrontFunction, MODULE_EXTENSION, type ViewerFunctionBundle } from '../viewer-request/build.ts';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * The handler CloudFront calls: one read of the tenant's policy from the viewer's
 * store (the same KeyValueStore as the viewer-request function's). A missing key
 * rejects `get`, which reads as "no policy": the response is left as it is.
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/functions-custom-methods.html
 */
const HANDLER = `
const kvs = cf.kvs();
async function handler(event) {
  const key = pictor.policyKeyOf(event);
  let policy = null;
  if (key !== null) {
    try {
      policy = await kvs.get(key);
    } catch (e) {
      policy = null;
    }
  }
  return pictor.finish(event, policy);
}
`;

/** Builds the viewer-response CloudFront Function, held to the same syntax and size as the viewer-request one. */
export function buildViewerResponseFunction(): ViewerFunctionBundle {
  return bundleCloudFrontFunction(join(here, `function-entry${MODULE_EXTENSION}`), HANDLER, 'The viewer-response function');
}
