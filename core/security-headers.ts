/**
 * The headers every response of the distribution carries, whoever made it. The
 * deployment puts them in a CloudFront response headers policy, which covers what
 * CloudFront serves from its cache and from S3. AWS documents no such promise for
 * responses an edge function generates, so those set the same headers themselves.
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/modifying-response-headers.html
 *
 * Pure data: the CloudFront Function bundle carries it.
 */

/** One year, in seconds: the HSTS lifetime browsers and preload lists expect. */
export const HSTS_MAX_AGE = 31536000;

/**
 * An image never runs script, loads anything, or is framed by a page of ours; if
 * one is opened on its own, `sandbox` gives it no origin. `style-src` lets browsers
 * style their own image viewer.
 */
export const IMAGE_CONTENT_SECURITY_POLICY = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox";

/** Header names lowercased, as CloudFront's event structures carry them. */
export const SECURITY_HEADERS: { readonly [name: string]: string } = {
  'strict-transport-security': 'max-age=' + HSTS_MAX_AGE,
  'x-content-type-options': 'nosniff',
  'content-security-policy': IMAGE_CONTENT_SECURITY_POLICY,
};

