import { errorBody, statusOf, type Failure } from '../../core/error-codes.ts';
import { EXPLICIT_FORMATS } from '../../core/formats.ts';
import { refererAllowed } from '../../core/hotlinking.ts';
import { formatImagePath, NOT_FOUND_PATH, parseImagePath, type ImagePath } from '../../core/image-path.ts';
import { normalizeQuery, queryPairs, type NormalizedQuery } from '../../core/normalize.ts';
import { SECURITY_HEADERS } from '../../core/security-headers.ts';
import { verifySignature, type HmacSha256 } from '../../core/signing.ts';
import { decodePolicy, policyStoreKey, signingKeyStoreKey, type TenantPolicy } from '../../core/tenant-policy.ts';
import type { CfFunctionEvent, CfFunctionRequest, CfFunctionResponse, CfValues } from './cf-function-event.ts';

/**
 * The viewer-request logic as a resumable machine, so that the only async code is
 * the handler's loop over KeyValueStore reads (the runtime allows `await` only in
 * plain async functions). `start` parses; each `resume` consumes the store value
 * that was asked for; `done` is the request to forward or the response to send.
 *
 * This file and everything it imports is bundled into the CloudFront Function:
 * cloudfront-js-2.0 syntax and ES 5.1 built-ins only (the build checks).
 */
export type Step = Done | Pending;

export interface Done {
  readonly need?: undefined;
  readonly done: CfFunctionRequest | CfFunctionResponse;
}

export interface Pending {
  /** The KeyValueStore key whose value `resume` needs (null when absent). */
  readonly need: string;
  readonly request: CfFunctionRequest;
  readonly path: ImagePath;
  /** Seconds since the epoch. */
  readonly now: number;
  readonly normalized?: NormalizedQuery;
  /** The tenant's longest signed-URL lifetime, once its policy is read. */
  readonly maxTtl?: number;
}

export function start(event: CfFunctionEvent, nowMs: number): Step {
  const request = event.request;
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return reject({ ok: false, code: 'MethodNotAllowed', message: 'Only GET and HEAD are allowed.' });
  }
  const parsed = parseImagePath(request.uri);
  if (!parsed.ok) return reject(parsed);
  return { need: policyStoreKey(parsed.path.tenant), request: request, path: parsed.path, now: Math.floor(nowMs / 1000) };
}

export function resume(step: Pending, value: string | null, hmac: HmacSha256): Step {
  if (step.normalized === undefined) return withPolicy(step, value, hmac);
  return withKey(step, step.normalized, value, hmac);
}

/**
 * A tenant with every format and no snapping: what a request for a tenant that
 * does not exist is checked against, so that a malformed query gets the same 400
 * whether or not the tenant exists.
 */
const ANY_TENANT: TenantPolicy = { breakpoints: [1], qualities: [100], defaultQuality: 100, formats: EXPLICIT_FORMATS, signed: false, ttl: 0, maxSignedTtl: 0 };

function withPolicy(step: Pending, stored: string | null, hmac: HmacSha256): Step {
  const policy = decodePolicy(stored);
  const accept = step.request.headers.accept;
  const result = normalizeQuery(queryPairs(step.request.querystring), policy || ANY_TENANT, accept ? accept.value : undefined);
  if (!result.ok) return reject(result);
  if (!policy) return notFound(step.request);
  const referer = step.request.headers.referer;
  if (!refererAllowed(referer ? referer.value : undefined, policy.referers)) {
    return reject({ ok: false, code: 'RefererNotAllowed', message: 'The Referer is not a site this tenant allows.' });
  }
  const normalized = result.normalized;
  if (!policy.signed) return forward(step.request, normalized);
  const signed: Pending = {
    need: signingKeyStoreKey(step.path.tenant, normalized.signature ? normalized.signature.kid : ''),
    request: step.request,
    path: step.path,
    now: step.now,
    normalized: normalized,
    maxTtl: policy.maxSignedTtl,
  };
  return normalized.signature ? signed : withKey(signed, normalized, null, hmac);
}

function withKey(step: Pending, normalized: NormalizedQuery, secret: string | null, hmac: HmacSha256): Step {
  const failure = verifySignature(
    {
      path: formatImagePath(step.path),
      signedQuery: normalized.signedQuery,
      signature: normalized.signature,
      secret: secret,
      now: step.now,
      maxTtl: step.maxTtl as number,
    },
    hmac,
  );
  return failure ? reject(failure) : forward(step.request, normalized);
}

/**
 * A tenant that does not exist is answered by the origin, as a missing image is,
 * so that status, headers and body cannot tell the two apart.
 */
function notFound(request: CfFunctionRequest): Done {
  request.uri = NOT_FOUND_PATH + request.uri;
  request.querystring = '';
  return { done: request };
}

/** Only the canonical query travels on: it is the whole query part of the cache key. */
function forward(request: CfFunctionRequest, normalized: NormalizedQuery): Done {
  request.querystring = normalized.query;
  return { done: request };
}

function reject(failure: Failure): Done {
  return { done: errorResponse(failure) };
}

export function errorResponse(failure: Failure): CfFunctionResponse {
  const headers: CfValues = {
    'content-type': { value: 'application/json' },
    'cache-control': { value: 'no-store' },
  };
  // A generated response carries the security headers itself: see core/security-headers.ts.
  const names = Object.keys(SECURITY_HEADERS);
  for (let i = 0; i < names.length; i++) headers[names[i] as string] = { value: SECURITY_HEADERS[names[i] as string] as string };
  return { statusCode: statusOf(failure.code), headers: headers, body: { encoding: 'text', data: errorBody(failure.code, failure.message, true) } };
}
