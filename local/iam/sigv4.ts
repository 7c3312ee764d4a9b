import { createHash } from 'node:crypto';
import { equalInConstantTime, hmac, signingKey } from '../sigv4-crypto.ts';
import { IdentityError } from './identities.ts';

/**
 * Verifies a request's SigV4 Authorization header as an AWS service does: the
 * header's parts, the credential's scope (the service's region and name), the
 * request's date against the scope's and the clock, the key and its session token,
 * and the signature recomputed over the canonical request.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-signing-elements.html
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
 *
 * Refusals are IdentityErrors of status 403 worded as AWS words them. AWS documents
 * none of these messages: they are the ones its services answer, as seen in public
 * issue threads (cited where each is made). Only AWS4-HMAC-SHA256 in the
 * Authorization header is verified: not SigV4a, not a presigned query string.
 */

/** A request as it came over the wire. */
export interface SignedRequest {
  readonly method: string;
  /** The request target as sent: path and query, still percent-encoded. */
  readonly target: string;
  /** Header names and values as sent, alternating (node's rawHeaders). */
  readonly rawHeaders: readonly string[];
  readonly body: Uint8Array;
}

/** What the service knows of an access key. */
export interface KnownKey {
  readonly secretAccessKey: string;
  /** A role session's token, which its requests must carry. */
  readonly sessionToken?: string;
}

export interface VerifyOptions {
  /** The region and service the credential must be scoped to. */
  readonly region: string;
  readonly service: string;
  /** The key's secret and token, or undefined for a key the service does not know. */
  readonly keyOf: (accessKeyId: string) => KnownKey | undefined;
  /** @default the current time */
  readonly now?: Date;
}

export const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';

/**
 * How far a request's date may be from the service's clock, either way. AWS: "a
 * request must reach AWS within five minutes of the time stamp in the request"
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv.html); API Gateway
 * answers "Signature expired: ... - 5 min." past it (https://github.com/mhart/aws4/issues/118).
 */
export const SIGV4_MAX_SKEW_MS = 5 * 60 * 1000;

/** The access key a request was signed with, once its signature holds. */
export function verifySigV4(request: SignedRequest, options: VerifyOptions): { accessKeyId: string } {
  const headers = headersOf(request.rawHeaders);
  const authorization = headers.get('authorization')?.[0];
  if (authorization === undefined) throw new IdentityError('MissingAuthenticationTokenException', 'Missing Authentication Token', 403);
  const refuse = (name: string, message: string): never => {
    throw new IdentityError(name, message, 403);
  };

  // AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...
  const space = authorization.indexOf(' ');
  const algorithm = space < 0 ? authorization : authorization.slice(0, space);
  const parameters = new Map<string, string>();
  if (space >= 0) {
    for (const part of authorization.slice(space + 1).split(',')) {
      const pair = part.trim();
      if (pair === '') continue;
      const equals = pair.indexOf('=');
      // As API Gateway words it: https://github.com/serverless/serverless/issues/3205
      if (equals < 0) refuse('IncompleteSignatureException', `'${pair}' not a valid key=value pair (missing equal-sign) in Authorization header: '${authorization}'.`);
      parameters.set(pair.slice(0, equals), pair.slice(equals + 1));
    }
  }
  const amzDate = headers.get('x-amz-date')?.[0];
  const httpDate = headers.get('date')?.[0];
  // As API Gateway words it: https://github.com/aws/chalice/issues/828
  const missing = [
    ...['Credential', 'Signature', 'SignedHeaders'].filter((name) => !parameters.has(name)).map((name) => `Authorization header requires '${name}' parameter.`),
    ...(amzDate === undefined && httpDate === undefined ? ["Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."] : []),
  ];
  if (missing.length) refuse('IncompleteSignatureException', `${missing.join(' ')} Authorization=${authorization}`);

  // Credential=AKID/YYYYMMDD/region/service/aws4_request. https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-signing-elements.html#authentication
  const credential = parameters.get('Credential')!;
  const scope = credential.split('/');
  if (scope.length !== 5) refuse('IncompleteSignatureException', `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${credential}'`);
  const [accessKeyId, day, region, service, terminator] = scope as [string, string, string, string, string];
  // As API Gateway words them: https://github.com/aws/aws-sdk-js/issues/792, https://github.com/ex-aws/ex_aws/issues/701
  if (region !== options.region) refuse('InvalidSignatureException', `Credential should be scoped to a valid region, not '${region}'. `);
  if (service !== options.service) refuse('InvalidSignatureException', `Credential should be scoped to correct service: '${options.service}'. `);
  if (terminator !== 'aws4_request') refuse('InvalidSignatureException', `Credential should be scoped with a valid terminator: 'aws4_request', not '${terminator}'. `);

  // The request's date: X-Amz-Date, else Date; the scope's day must be its day.
  // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-signing-elements.html#date
  const timestamp = amzDate !== undefined ? basicTimestampOf(amzDate) : httpDateTimestampOf(httpDate!);
  if (timestamp === undefined) {
    refuse('IncompleteSignatureException', `Date must be in ISO-8601 'basic format'. Got '${amzDate ?? httpDate}'. See http://en.wikipedia.org/wiki/ISO_8601`);
  }
  const signedAt = timestamp!;
  if (day !== signedAt.slice(0, 8)) {
    refuse('InvalidSignatureException', `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${day}' != '${signedAt.slice(0, 8)}', from '${signedAt}'.`);
  }
  const now = options.now ?? new Date();
  const at = dateOfBasic(signedAt).getTime();
  // As AWS words it: https://github.com/aws/aws-sdk-js/issues/254, https://github.com/serverless/enterprise/issues/11
  if (at < now.getTime() - SIGV4_MAX_SKEW_MS) {
    refuse('InvalidSignatureException', `Signature expired: ${signedAt} is now earlier than ${basicOf(new Date(now.getTime() - SIGV4_MAX_SKEW_MS))} (${basicOf(now)} - 5 min.)`);
  }
  if (at > now.getTime() + SIGV4_MAX_SKEW_MS) {
    refuse('InvalidSignatureException', `Signature not yet current: ${signedAt} is still later than ${basicOf(new Date(now.getTime() + SIGV4_MAX_SKEW_MS))} (${basicOf(now)} + 5 min.)`);
  }

  // A key the service does not know, a session's key without its token, a token that is not the key's:
  // https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_use-resources.html
  const key = options.keyOf(accessKeyId);
  const token = headers.get('x-amz-security-token')?.[0];
  // ASIA keys are temporary and always come with a token: https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html
  const needsToken = key?.sessionToken !== undefined || accessKeyId.startsWith('ASIA');
  if (!key || (needsToken && (token === undefined || !equalInConstantTime(token, key.sessionToken ?? ''))) || (!needsToken && token !== undefined)) {
    refuse('UnrecognizedClientException', 'The security token included in the request is invalid.');
  }

  // The Host header must be signed, and the date the signature names.
  // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html#create-canonical-request
  const signedHeaders = parameters.get('SignedHeaders')!.split(';');
  if (!signedHeaders.includes('host')) refuse('InvalidSignatureException', "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  const dateHeader = amzDate !== undefined ? 'x-amz-date' : 'date';
  if (!signedHeaders.includes(dateHeader)) refuse('InvalidSignatureException', `'${dateHeader === 'date' ? 'Date' : 'X-Amz-Date'}' must be a 'SignedHeader' in the AWS Authorization.`);

  const canonicalRequest = canonicalRequestOf(request, headers, signedHeaders);
  const credentialScope = `${day}/${region}/${service}/aws4_request`;
  const stringToSign = [SIGV4_ALGORITHM, signedAt, credentialScope, sha256Hex(canonicalRequest)].join('\n');
  const expected = hmac(signingKey(key!.secretAccessKey, day, region, service), stringToSign).toString('hex');
  if (algorithm !== SIGV4_ALGORITHM || !equalInConstantTime(parameters.get('Signature')!, expected)) {
    // As API Gateway words it, with what it computed: https://github.com/mhart/aws4/issues/33
    refuse(
      'InvalidSignatureException',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.\n\n' +
        `The Canonical String for this request should have been\n'${canonicalRequest}'\n\nThe String-to-Sign should have been\n'${stringToSign}'\n`,
    );
  }
  return { accessKeyId };
}

/**
 * The canonical request: method, the URI's path normalized and URI-encoded once more
 * (every service but S3 encodes each segment twice), the sorted query, the signed
 * headers' trimmed values, the signed header names, and the payload's SHA-256.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html#create-canonical-request
 */
export function canonicalRequestOf(request: SignedRequest, headers: ReadonlyMap<string, readonly string[]>, signedHeaders: readonly string[]): string {
  const question = request.target.indexOf('?');
  const rawPath = question < 0 ? request.target : request.target.slice(0, question);
  const rawQuery = question < 0 ? '' : request.target.slice(question + 1);
  // Redundant and relative path components go, as RFC 3986 normalizes them.
  const segments: string[] = [];
  for (const segment of rawPath.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const path = `/${segments.map(uriEncode).join('/')}${segments.length && rawPath.endsWith('/') ? '/' : ''}`;
  const query = rawQuery
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const equals = pair.indexOf('=');
      const [name, value] = equals < 0 ? [pair, ''] : [pair.slice(0, equals), pair.slice(equals + 1)];
      return [uriEncode(decodeLeniently(name)), uriEncode(decodeLeniently(value))] as const;
    })
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
  const names = [...signedHeaders].map((name) => name.toLowerCase()).sort();
  const canonicalHeaders = names.map((name) => `${name}:${(headers.get(name) ?? []).map((value) => value.trim().replace(/\s+/g, ' ')).join(',')}\n`).join('');
  return [request.method, path, query, canonicalHeaders, names.join(';'), sha256Hex(request.body)].join('\n');
}

/** Header values by lower-cased name, in the order sent. */
function headersOf(rawHeaders: readonly string[]): Map<string, string[]> {
  const headers = new Map<string, string[]>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), rawHeaders[i + 1]!]);
  }
  return headers;
}

/** UriEncode of the SigV4 spec: every byte but A-Z a-z 0-9 - . _ ~ as %XY, upper-case hex. */
function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** A query component decoded; one whose escapes are malformed stays as sent. */
function decodeLeniently(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** YYYYMMDD'T'HHMMSS'Z' as sent, if it is a real date. */
function basicTimestampOf(value: string): string | undefined {
  if (!/^\d{8}T\d{6}Z$/.test(value)) return undefined;
  return Number.isNaN(dateOfBasic(value).getTime()) || basicOf(dateOfBasic(value)) !== value ? undefined : value;
}

/** An HTTP Date header (RFC 9110 IMF-fixdate) in ISO 8601 basic format. */
function httpDateTimestampOf(value: string): string | undefined {
  const date = new Date(value);
  return /GMT$/.test(value.trim()) && !Number.isNaN(date.getTime()) ? basicOf(date) : undefined;
}

function dateOfBasic(value: string): Date {
  return new Date(`${value.slice(0, 4)}-${value.slice(4, 6)}-${value.slice(6, 8)}T${value.slice(9, 11)}:${value.slice(11, 13)}:${value.slice(13, 15)}Z`);
}

function basicOf(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
}

function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}


