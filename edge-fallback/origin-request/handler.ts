import { Logger } from '@aws-lambda-powertools/logger';
import type { CloudFrontHeaders, CloudFrontRequest, CloudFrontRequestEvent, CloudFrontResultResponse, Context } from 'aws-lambda';
import { errorBody } from '../../core/error-codes.ts';
import { isPictorError, PictorError } from '../../core/errors.ts';
import { logFailure } from '../../core/log-level.ts';
import { NOT_FOUND_PATH, parseImagePath } from '../../core/image-path.ts';
import { normalizeQuery, queryPairs } from '../../core/normalize.ts';
import { NOT_FOUND_CACHE_CONTROL, PRIVATE_CACHE_CONTROL } from '../../core/cache-control.ts';
import { SECURITY_HEADERS } from '../../core/security-headers.ts';
import { policyOf, type PictorConfig } from '../../core/tenant-config.ts';
import type { TenantPolicy } from '../../core/tenant-policy.ts';
import { keyValueStoreClient } from '../../tenant-store/clients.ts';
import { TenantStoreReader } from '../../tenant-store/store-reader.ts';
import { serveVariant } from './origin-request.ts';
import { DEFAULT_RENDER_LIMITS } from '../../imaging/render.ts';
import { accountOfFunctionArn } from '../../storage/bucket-owner.ts';
import { budgetUntil, parseS3OriginDomain, s3ClientFactory, s3OriginalSource, s3VariantStore } from './s3-adapters.ts';
import { ORIGINALS_ORIGIN_HEADER, TENANT_STORE_ORIGIN_HEADER, type OriginRequestConfig, type TenantPolicies } from './config.ts';

export { ORIGINALS_ORIGIN_HEADER, originRequestConfig, TENANT_STORE_ORIGIN_HEADER, type OriginRequestConfig, type TenantPolicies } from './config.ts';

/** Fixed policies from a validated configuration: for unit tests and benchmarks of the handler alone. */
export function fixedPolicies(config: PictorConfig): TenantPolicies {
  return async (tenant) => (Object.hasOwn(config.tenants, tenant) ? policyOf(config.tenants[tenant]!) : null);
}

/** Policies read through the KeyValueStore API, cached per store for a minute (tenant-store/store-reader.ts). */
function storePolicies(endpoint: string | undefined): TenantPolicies {
  const client = keyValueStoreClient({ endpoint });
  const readers = new Map<string, TenantStoreReader>();
  return async (tenant, request, fresh) => {
    const arn = request.origin?.s3?.customHeaders?.[TENANT_STORE_ORIGIN_HEADER]?.[0]?.value;
    if (!arn) throw new PictorError('InternalError', `The origin's ${TENANT_STORE_ORIGIN_HEADER} header does not name the tenant store.`);
    let reader = readers.get(arn);
    if (!reader) readers.set(arn, (reader = new TenantStoreReader(client, arn)));
    return reader.policy(tenant, fresh);
  };
}

/** Kept back from the limit for what follows the last S3 call: answering CloudFront. */
const BUDGET_MARGIN_MS = 500;

/** What the handler reads of its invocation's context: its time left, and its ARN, which names the account that owns every bucket. */
export type OriginRequestContext = Pick<Context, 'getRemainingTimeInMillis' | 'invokedFunctionArn'>;

export type OriginRequestHandler = (event: CloudFrontRequestEvent, context: OriginRequestContext) => Promise<CloudFrontRequest | CloudFrontResultResponse>;

/**
 * The origin-request function. It makes sure the variant is in the variants
 * bucket of the origin CloudFront chose (rendering and storing it if need be),
 * then passes the request on to that origin with only its URI rewritten to the
 * variant's key: CloudFront fetches every image from S3 itself, signed with Origin
 * Access Control, and fails over on that origin's own errors and timeouts.
 * It answers by itself only what no origin could: a client's mistake (4xx), and
 * a 503 when no copy of the original answers at all.
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-generating-http-responses.html
 */
export function createOriginRequestHandler(config: OriginRequestConfig): OriginRequestHandler {
  const logger = new Logger({ serviceName: 'pictor-origin-request', logLevel: config.logLevel ?? 'INFO' });
  const s3 = s3ClientFactory(config.s3Endpoints);
  const limits = { ...DEFAULT_RENDER_LIMITS, ...config.limits };
  const policies = config.tenantPolicies ?? storePolicies(config.keyValueStoreEndpoint);

  return async (event, context) => {
    const request = event.Records[0]!.cf.request;
    const budget = budgetUntil(Date.now() + context.getRemainingTimeInMillis() - BUDGET_MARGIN_MS);
    let signed = false;
    try {
      // Where the viewer function sends unknown tenants: answered as a missing image is.
      if (request.uri.startsWith(NOT_FOUND_PATH + '/')) throw new PictorError('NotFound', 'No such image.');
      const parsed = parseImagePath(request.uri);
      if (!parsed.ok) throw new PictorError(parsed.code, parsed.message);
      const path = parsed.path;
      // The viewer function already normalized; normalizing again is a no-op for
      // its output and refuses anything that reached the origin another way.
      const agrees = (p: TenantPolicy | null) => {
        const n = p ? normalizeQuery(queryPairs(request.querystring), p, undefined) : undefined;
        return n?.ok === true && n.normalized.query === request.querystring;
      };
      let policy = await policies(path.tenant, request, false);
      // The viewer read the store after this cache did (a tenant put or changed since): read it again, once.
      if (!agrees(policy)) policy = await policies(path.tenant, request, true);
      if (!policy) throw new PictorError('NotFound', 'No such image.');
      signed = policy.signed;
      const normalized = normalizeQuery(queryPairs(request.querystring), policy, undefined);
      if (!normalized.ok) throw new PictorError(normalized.code, normalized.message);
      if (normalized.normalized.query !== request.querystring) {
        // The edge's policy and the store's disagree even afresh (a change still propagating):
        // rendering our snap under the edge's key would cache the wrong bytes.
        throw new PictorError('OriginUnavailable', `Edge and origin policies disagree: ${request.querystring} is ${normalized.normalized.query} here.`);
      }
      const origin = originBucket(request);
      // Lambda@Edge has no environment: its own ARN says which account owns the buckets.
      const account = accountOfFunctionArn(context.invokedFunctionArn);
      const outcome = await serveVariant(
        { path, spec: normalized.normalized.spec, policy },
        {
          originals: originalCopies(request).map((copy) => s3OriginalSource(s3(copy.region, account), copy.bucket, limits.maxInputBytes, budget)),
          variants: s3VariantStore(s3(origin.region, account), origin.bucket, budget),
          limits,
          log: logger,
        },
      );
      // The configured origin, the query as the cache key has it; S3 ignores parameters it does not know.
      request.uri = '/' + outcome.key.split('/').map(encodeURIComponent).join('/');
      return request;
    } catch (error) {
      return failure(error, request, signed);
    }
  };

  function failure(error: unknown, request: CloudFrontRequest, signed: boolean): CloudFrontResultResponse {
    const known = isPictorError(error) ? error : new PictorError('InternalError', 'Unexpected failure.', { cause: error });
    logFailure(logger, known.message, known, { uri: request.uri, querystring: request.querystring });
    return errorResponse(known, signed);
  }
}

/** An error as the viewer sees it: an internal fault's message is not shown. */
function errorResponse(error: PictorError, signed: boolean): CloudFrontResultResponse {
  const status = error.status;
  // CloudFront caches a public 404 anyway; it never caches a 413 or 422, so say so. A
  // private tenant's 404 is no shared cache's business, CloudFront's included.
  const cacheControl = signed ? PRIVATE_CACHE_CONTROL : status === 404 ? NOT_FOUND_CACHE_CONTROL : 'no-store';
  return {
    status: String(status),
    headers: withSecurityHeaders({
      'content-type': [{ key: 'Content-Type', value: 'application/json' }],
      'cache-control': [{ key: 'Cache-Control', value: cacheControl }],
    }),
    body: errorBody(error.code, error.message, error.expose),
  };
}

/** A generated response carries the security headers itself: see core/security-headers.ts. */
function withSecurityHeaders(headers: CloudFrontHeaders): CloudFrontHeaders {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) headers[name] = [{ key: name.replace(/(^|-)[a-z]/g, (c) => c.toUpperCase()), value }];
  return headers;
}

interface S3Bucket {
  readonly bucket: string;
  readonly region: string;
}

/** The variants bucket of the origin CloudFront chose for this attempt: the primary's, or the failover's. */
function originBucket(request: CloudFrontRequest): S3Bucket {
  const s3 = request.origin?.s3;
  const parsed = s3 ? parseS3OriginDomain(s3.domainName) : null;
  if (!s3 || !parsed) throw new PictorError('InternalError', 'The origin is not an S3 bucket.');
  return { bucket: parsed.bucket, region: s3.region || parsed.region };
}

/** Every copy of the originals, nearest this origin first, as its custom header lists them. */
function originalCopies(request: CloudFrontRequest): S3Bucket[] {
  const listed = request.origin?.s3?.customHeaders?.[ORIGINALS_ORIGIN_HEADER]?.[0]?.value ?? '';
  const copies = listed.split(',').map((domain) => parseS3OriginDomain(domain.trim()));
  if (copies.length === 0 || copies.some((copy) => copy === null)) {
    throw new PictorError('InternalError', `The origin's ${ORIGINALS_ORIGIN_HEADER} header does not list the originals' S3 domains.`);
  }
  return copies as S3Bucket[];
}
