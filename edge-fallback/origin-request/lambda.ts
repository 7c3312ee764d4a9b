import { createOriginRequestHandler, type OriginRequestConfig } from './handler.ts';

/**
 * The deployment's configuration, written into the bundle when it is built:
 * Lambda@Edge has no environment variables.
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/edge-functions-restrictions.html#lambda-at-edge-function-restrictions
 */
declare const PICTOR_ORIGIN_REQUEST_CONFIG: OriginRequestConfig;

/** The Lambda@Edge origin-request entry point. */
export const handler = createOriginRequestHandler(PICTOR_ORIGIN_REQUEST_CONFIG);
