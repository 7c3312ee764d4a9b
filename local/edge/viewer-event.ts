import type { CfFunctionEvent, CfFunctionRequest, CfFunctionResponse, CfValues } from '../../edge-fallback/viewer-request/cf-function-event.ts';

export interface ViewerRequestInput {
  readonly method?: string;
  readonly uri: string;
  /** The raw query string, without `?`. */
  readonly query: string;
  readonly accept?: string;
  /** Further headers, by lowercase name. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly ip?: string;
}

/**
 * A viewer-request event as CloudFront builds it: query values as sent (not
 * decoded), repeated names in `multiValue`, header names lowercase, cookies apart.
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/functions-event-structure.html
 */
export function viewerRequestEvent(input: ViewerRequestInput): CfFunctionEvent {
  const querystring: CfValues = {};
  for (const part of input.query ? input.query.split('&') : []) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const name = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? '' : part.slice(eq + 1);
    const entry = querystring[name];
    if (!entry) querystring[name] = { value };
    else entry.multiValue = [...(entry.multiValue ?? [{ value: entry.value }]), { value }];
  }
  const headers: CfValues = {};
  for (const [name, value] of Object.entries(input.headers ?? {})) {
    if (name !== 'cookie') headers[name.toLowerCase()] = { value };
  }
  if (input.accept !== undefined) headers.accept = { value: input.accept };
  return {
    version: '1.0',
    context: { eventType: 'viewer-request' },
    viewer: { ip: input.ip ?? '127.0.0.1' },
    request: { method: input.method ?? 'GET', uri: input.uri, querystring, headers, cookies: {} },
  };
}

/**
 * A viewer-response event: the request as the viewer-request function left it,
 * and the response CloudFront is about to send (status and headers; CloudFront
 * Functions do not see the body of a response).
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/functions-event-structure.html
 */
export function viewerResponseEvent(request: CfFunctionRequest, status: number, headers: Readonly<Record<string, string>>, ip = '127.0.0.1'): CfFunctionEvent {
  const values: CfValues = {};
  for (const [name, value] of Object.entries(headers)) values[name.toLowerCase()] = { value };
  return {
    version: '1.0',
    context: { eventType: 'viewer-response' },
    viewer: { ip },
    request: { ...request, headers: { ...request.headers } },
    response: { statusCode: status, headers: values, cookies: {} } as CfFunctionResponse,
  };
}
