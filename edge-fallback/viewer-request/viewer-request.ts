import { errorBody, statusOf, type Failure } from '../../core/error-codes.ts';
import { formatImagePath, parseImagePath, type ImagePath } from '../../core/image-path.ts';
import { normalizeQuery, type NormalizedQuery, type QueryPairs } from '../../core/normalize.ts';
import { verifySignature, type HmacSha256 } from '../../core/signing.ts';
import { decodePolicy, policyStoreKey, signingKeyStoreKey } from '../../core/tenant-policy.ts';
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

function withPolicy(step: Pending, stored: string | null, hmac: HmacSha256): Step {
  const policy = decodePolicy(stored);
  if (!policy) return reject({ ok: false, code: 'NotFound', message: 'No such image.' });
  const accept = step.request.headers.accept;
  const result = normalizeQuery(queryPairs(step.request.querystring), policy, accept ? accept.value : undefined);
  if (!result.ok) return reject(result);
  const normalized = result.normalized;
  if (!policy.signed) return forward(step.request, normalized);
  const signature = normalized.signature;
  if (!signature) return withKey(step, normalized, null, hmac);
  return {
    need: signingKeyStoreKey(step.path.tenant, signature.kid),
    request: step.request,
    path: step.path,
    now: step.now,
    normalized: normalized,
  };
}

function withKey(step: Pending, normalized: NormalizedQuery, secret: string | null, hmac: HmacSha256): Step {
  const failure = verifySignature(
    {
      path: formatImagePath(step.path),
      signedQuery: normalized.signedQuery,
      signature: normalized.signature,
      secret: secret,
      now: step.now,
    },
    hmac,
  );
  return failure ? reject(failure) : forward(step.request, normalized);
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
  return {
    statusCode: statusOf(failure.code),
    headers: {
      'content-type': { value: 'application/json' },
      'cache-control': { value: 'no-store' },
    },
    body: { encoding: 'text', data: errorBody(failure.code, failure.message) },
  };
}

/** Flattens CloudFront's query object into pairs, keeping every repeated value. */
export function queryPairs(querystring: CfValues | string): QueryPairs {
  const pairs: [string, string][] = [];
  if (typeof querystring === 'string') {
    const parts = querystring ? querystring.split('&') : [];
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i] as string;
      const eq = part.indexOf('=');
      pairs.push(eq < 0 ? [part, ''] : [part.slice(0, eq), part.slice(eq + 1)]);
    }
    return pairs;
  }
  const names = Object.keys(querystring);
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as string;
    const entry = querystring[name] as CfValues[string];
    const values = entry.multiValue;
    if (!values) {
      pairs.push([name, entry.value]);
      continue;
    }
    for (let j = 0; j < values.length; j++) pairs.push([name, (values[j] as { value: string }).value]);
  }
  return pairs;
}
