import { fail, type Failure } from './error-codes.ts';
import type { SignatureParams } from './normalize.ts';

/**
 * Per-tenant signed URLs. A signature is HMAC-SHA256, base64url-encoded, over
 *
 *     PICTOR1-HMAC-SHA256 \n {canonical path} \n {canonical query, fmt unresolved} \n {exp} \n {kid}
 *
 * The path carries the tenant, so one tenant's token never verifies on another's
 * path, and keys are looked up under the path's tenant only. Because the query is
 * canonical, a signed URL survives parameter reordering and junk parameters.
 */
export const SIGNING_SCHEME = 'PICTOR1-HMAC-SHA256';

/** At most this many keys per tenant are active at once, so keys can rotate with overlap. */
export const MAX_ACTIVE_KEYS = 5;

/** The HMAC port: base64url(HMAC-SHA256(secret, data)). The edge and node each supply one. */
export type HmacSha256 = (secret: string, data: string) => string;

export function stringToSign(path: string, signedQuery: string, exp: number, kid: string): string {
  return SIGNING_SCHEME + '\n' + path + '\n' + signedQuery + '\n' + exp + '\n' + kid;
}

export interface VerifyInput {
  readonly path: string;
  readonly signedQuery: string;
  readonly signature: SignatureParams | undefined;
  /** The secret stored under the path's tenant and the token's kid; null when there is none. */
  readonly secret: string | null;
  /** Seconds since the epoch. */
  readonly now: number;
  /** The tenant's longest allowed lifetime of a signed URL, in seconds. */
  readonly maxTtl: number;
}

/**
 * Signers' clocks may run ahead of CloudFront's: an `exp` this far beyond the
 * tenant's longest lifetime still passes, as SigV4 tolerates 5 minutes of skew.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
 */
export const CLOCK_SKEW_SECONDS = 300;

/** Null when the signature is good; otherwise why it is not. */
export function verifySignature(input: VerifyInput, hmac: HmacSha256): Failure | null {
  const signature = input.signature;
  if (!signature) return fail('SignatureRequired', 'This image requires a signed URL (exp, kid and sig).');
  if (signature.exp <= input.now) return fail('SignatureExpired', 'The signed URL has expired.');
  // A token that lives for centuries is a leaked token that never dies.
  if (signature.exp - input.now > input.maxTtl + CLOCK_SKEW_SECONDS) {
    return fail('SignatureLifetimeExceeded', 'The signed URL is valid for longer than this tenant allows (' + input.maxTtl + ' s).');
  }
  // Unknown key ids and wrong signatures answer alike.
  if (input.secret === null) return fail('SignatureInvalid', 'The signature does not match.');
  const expected = hmac(input.secret, stringToSign(input.path, input.signedQuery, signature.exp, signature.kid));
  if (!constantTimeEqual(expected, signature.sig)) return fail('SignatureInvalid', 'The signature does not match.');
  return null;
}

/**
 * Compares without an early exit, so the time taken depends only on the length of
 * the expected value, not on how much of a guess is right. The CloudFront
 * Functions runtime has no crypto.timingSafeEqual.
 */
export function constantTimeEqual(expected: string, given: string): boolean {
  let diff = expected.length ^ given.length;
  for (let i = 0; i < expected.length; i++) {
    diff |= expected.charCodeAt(i) ^ (given.charCodeAt(i) | 0);
  }
  return diff === 0;
}
