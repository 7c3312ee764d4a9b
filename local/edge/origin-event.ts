import type { CloudFrontHeaders, CloudFrontRequestEvent } from 'aws-lambda';
import type { OriginRequestContext } from '../../edge-fallback/origin-request/handler.ts';

export interface OriginEventInput {
  readonly uri: string;
  /** The query string as the viewer function left it (a raw string at this stage). */
  readonly querystring: string;
  /** The S3 origin of this attempt, e.g. `bucket.s3.us-east-1.amazonaws.com`. */
  readonly originDomain: string;
  /** The origin's custom headers, as the distribution configures them. */
  readonly originHeaders?: Readonly<Record<string, string>>;
  readonly headers?: Readonly<Record<string, string>>;
  readonly clientIp?: string;
}

/**
 * A Lambda@Edge origin-request event, as CloudFront sends it for an S3 origin.
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-event-structure.html
 */
export function originRequestEvent(input: OriginEventInput): CloudFrontRequestEvent {
  const headers: CloudFrontHeaders = { host: [{ key: 'Host', value: input.originDomain }] };
  for (const [name, value] of Object.entries(input.headers ?? {})) headers[name.toLowerCase()] = [{ key: name, value }];
  const customHeaders: CloudFrontHeaders = {};
  for (const [name, value] of Object.entries(input.originHeaders ?? {})) customHeaders[name.toLowerCase()] = [{ key: name, value }];
  return {
    Records: [
      {
        cf: {
          config: { distributionDomainName: 'd111111abcdef8.cloudfront.net', distributionId: 'EDFDVBD6EXAMPLE', eventType: 'origin-request', requestId: 'local' },
          request: {
            clientIp: input.clientIp ?? '127.0.0.1',
            method: 'GET',
            uri: input.uri,
            querystring: input.querystring,
            headers,
            origin: { s3: { domainName: input.originDomain, authMethod: 'none', path: '', customHeaders } },
          },
        },
      },
    ],
  };
}

/**
 * The context Lambda gives an origin-request function: its time left, and the
 * ARN it was invoked by (`DistributionConfig.originRequestFunctionArn` in the twin).
 * https://docs.aws.amazon.com/lambda/latest/dg/nodejs-context.html
 */
export function originRequestContext(invokedFunctionArn: string, timeoutMs = 30_000): OriginRequestContext {
  const started = Date.now();
  return { invokedFunctionArn, getRemainingTimeInMillis: () => timeoutMs - (Date.now() - started) };
}
