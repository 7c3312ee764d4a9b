import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** SigV4's cryptography, shared by the twin's services that verify signatures (API Gateway, S3's POST Object). */

/** The key SigV4 signs with, derived from the secret and the scope. https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html#derive-signing-key */
export function signingKey(secretAccessKey: string, day: string, region: string, service: string): Buffer {
  let key = hmac(`AWS4${secretAccessKey}`, day);
  for (const part of [region, service, 'aws4_request']) key = hmac(key, part);
  return key;
}

export function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** Equal strings, compared in time that depends on their length only. */
export function equalInConstantTime(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y) && a.length === b.length;
}
