/**
 * The CloudFront Functions event, as far as Pictor reads it.
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/functions-event-structure.html
 */
export interface CfValue {
  value: string;
  /** Present when a name repeats; `value` then holds the first one. */
  multiValue?: { value: string }[];
}

export type CfValues = { [name: string]: CfValue };

export interface CfFunctionRequest {
  readonly method: string;
  uri: string;
  /** An object as CloudFront passes it; a function may return a plain string. */
  querystring: CfValues | string;
  headers: CfValues;
  cookies?: CfValues;
}

export interface CfFunctionResponse {
  statusCode: number;
  statusDescription?: string;
  headers: CfValues;
  body?: { encoding: 'text' | 'base64'; data: string };
}

export interface CfFunctionEvent {
  version: '1.0';
  context: { eventType: 'viewer-request' | 'viewer-response'; distributionId?: string; requestId?: string };
  viewer: { ip: string };
  request: CfFunctionRequest;
  /** In viewer-response events only: the response CloudFront is about to send. */
  response?: CfFunctionResponse;
}
