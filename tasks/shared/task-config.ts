import { PictorError } from '../../core/errors.ts';
import { DEFAULT_RENDER_LIMITS, type RenderLimits } from '../../imaging/render-limits.ts';

/** Every task's configuration: each environment variable is read here, once, at cold start. */
export interface TaskConfig {
  /** PICTOR_ACCOUNT_ID: the account that owns every bucket; each S3 request names it (storage/bucket-owner.ts). */
  readonly accountId: string;
  /** PICTOR_ORIGINALS_BUCKET */
  readonly originalsBucket: string;
  /** PICTOR_VARIANTS_BUCKET */
  readonly variantsBucket: string;
  /** PICTOR_ORIGINAL_REPLICAS: the originals' replica buckets, as JSON `[{bucket, region}]`. @default none */
  readonly replicas: readonly BucketInRegion[];
  /**
   * PICTOR_VARIANT_REPLICAS: the variants buckets of the distribution's other
   * origins (the failover's), as JSON `[{bucket, region}]`. Publishing copies
   * every version there and takedowns erase there too. @default none
   */
  readonly variantReplicas: readonly BucketInRegion[];
  /** PICTOR_REPORTS_BUCKET: what workflows keep outside their state (manifests, per-item results, reports). */
  readonly reportsBucket: string;
  /** PICTOR_AUDIT_BUCKET: takedown records (Object Lock). Takedown tasks only. */
  readonly auditBucket: string;
  /** PICTOR_DISTRIBUTION_ID: the CloudFront distribution takedowns invalidate. Takedown tasks only. */
  readonly distributionId: string;
  /** PICTOR_EDGE_URL: the distribution's origin (`https://d111.cloudfront.net`), where takedowns are verified. */
  readonly edgeUrl: string;
  /** PICTOR_INVALIDATION_DEADLINE_SECONDS: how long a takedown waits for its invalidation. Takedown tasks only. */
  readonly invalidationDeadlineSeconds?: number;
  /** PICTOR_RERENDER_PAGE_SIZE: originals a re-render lists and renders per page. plan-rerender only. @default 1,000 */
  readonly rerenderPageSize?: number;
  /** PICTOR_RERENDER_PAGES_PER_EXECUTION: pages a re-render execution handles before it continues as a new one. plan-rerender only. @default 200 */
  readonly rerenderPagesPerExecution?: number;
  /** PICTOR_VERSIONS_TABLE: the version map. */
  readonly versionsTable: string;
  /** PICTOR_TOMBSTONES_TABLE: taken-down images, which only the takedown's inventory writes. */
  readonly tombstonesTable: string;
  /** PICTOR_IDEMPOTENCY_TABLE */
  readonly idempotencyTable: string;
  /** PICTOR_EVENT_BUS */
  readonly eventBus: string;
  /** PICTOR_TENANT_STORE_ARN: the edge KeyValueStore, where tenants are read at run time (tenant-store/store-reader.ts). */
  readonly tenantStoreArn: string;
  /** PICTOR_SIGNING_SECRETS_PREFIX: the tenants' signing-key secrets in Secrets Manager. verify-gone only. */
  readonly signingSecretsPrefix?: string;
  readonly limits: Omit<RenderLimits, 'maxDimension'>;
  /** AWS_REGION */
  readonly region: string;
  /**
   * AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN: the execution role's
   * session, which Lambda puts in the environment it runs the function with.
   * https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
   * @default the SDK's default credential chain
   */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string };
  /**
   * AWS_ENDPOINT_URL_S3 / _DYNAMODB / _EVENTBRIDGE / _CLOUDFRONT / _CLOUDFRONT_KEYVALUESTORE / _SECRETS_MANAGER / _SFN:
   * S3-compatible and other endpoints outside AWS.
   */
  readonly endpoints: {
    readonly s3?: string;
    readonly dynamodb?: string;
    readonly eventbridge?: string;
    readonly cloudfront?: string;
    readonly keyvaluestore?: string;
    readonly secretsmanager?: string;
    /** AWS_ENDPOINT_URL_SFN: Step Functions (the control API follows executions). */
    readonly stepfunctions?: string;
  };
  /** PICTOR_S3_ENDPOINTS: S3-compatible endpoints by region, as JSON `{region: url}`, over AWS_ENDPOINT_URL_S3. @default none */
  readonly s3Endpoints: Readonly<Record<string, string>>;
}

/** A bucket, and the region whose endpoint serves it. */
export interface BucketInRegion {
  readonly bucket: string;
  readonly region: string;
}

export function readTaskConfig(env: Readonly<Record<string, string | undefined>>): TaskConfig {
  const required = (name: string): string => {
    const value = env[name];
    if (!value) throw new PictorError('InvalidConfig', `The task needs the environment variable ${name}.`);
    return value;
  };
  const replicas = bucketsInRegions(env, 'PICTOR_ORIGINAL_REPLICAS');
  const variantReplicas = bucketsInRegions(env, 'PICTOR_VARIANT_REPLICAS');
  const s3Endpoints = json(env, 'PICTOR_S3_ENDPOINTS', {});
  if (typeof s3Endpoints !== 'object' || Array.isArray(s3Endpoints) || !Object.values(s3Endpoints).every((url) => typeof url === 'string')) {
    throw new PictorError('InvalidConfig', 'PICTOR_S3_ENDPOINTS must be a JSON object of region to URL.');
  }
  return {
    replicas,
    variantReplicas,
    s3Endpoints,
    distributionId: env.PICTOR_DISTRIBUTION_ID ?? '',
    edgeUrl: (env.PICTOR_EDGE_URL ?? '').replace(/\/$/, ''),
    invalidationDeadlineSeconds: positiveInteger(env, 'PICTOR_INVALIDATION_DEADLINE_SECONDS'),
    rerenderPageSize: positiveInteger(env, 'PICTOR_RERENDER_PAGE_SIZE'),
    rerenderPagesPerExecution: positiveInteger(env, 'PICTOR_RERENDER_PAGES_PER_EXECUTION'),
    accountId: accountId(required('PICTOR_ACCOUNT_ID')),
    originalsBucket: required('PICTOR_ORIGINALS_BUCKET'),
    variantsBucket: required('PICTOR_VARIANTS_BUCKET'),
    auditBucket: env.PICTOR_AUDIT_BUCKET ?? '',
    reportsBucket: env.PICTOR_REPORTS_BUCKET ?? '',
    versionsTable: required('PICTOR_VERSIONS_TABLE'),
    tombstonesTable: required('PICTOR_TOMBSTONES_TABLE'),
    idempotencyTable: required('PICTOR_IDEMPOTENCY_TABLE'),
    eventBus: required('PICTOR_EVENT_BUS'),
    tenantStoreArn: required('PICTOR_TENANT_STORE_ARN'),
    signingSecretsPrefix: env.PICTOR_SIGNING_SECRETS_PREFIX || undefined,
    limits: DEFAULT_RENDER_LIMITS,
    region: env.AWS_REGION ?? 'us-east-1',
    credentials:
      env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
        ? { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) }
        : undefined,
    endpoints: {
      s3: env.AWS_ENDPOINT_URL_S3,
      dynamodb: env.AWS_ENDPOINT_URL_DYNAMODB,
      eventbridge: env.AWS_ENDPOINT_URL_EVENTBRIDGE,
      cloudfront: env.AWS_ENDPOINT_URL_CLOUDFRONT,
      keyvaluestore: env.AWS_ENDPOINT_URL_CLOUDFRONT_KEYVALUESTORE,
      secretsmanager: env.AWS_ENDPOINT_URL_SECRETS_MANAGER,
      stepfunctions: env.AWS_ENDPOINT_URL_SFN,
    },
  };
}

function accountId(value: string): string {
  if (!/^[0-9]{12}$/.test(value)) throw new PictorError('InvalidConfig', `PICTOR_ACCOUNT_ID must be the 12-digit AWS account id that owns the buckets, not '${value}'.`);
  return value;
}

function bucketsInRegions(env: Readonly<Record<string, string | undefined>>, name: string): BucketInRegion[] {
  const value = json(env, name, []);
  if (!Array.isArray(value) || !value.every((r) => typeof r?.bucket === 'string' && typeof r?.region === 'string')) {
    throw new PictorError('InvalidConfig', `${name} must be a JSON array of {"bucket", "region"}.`);
  }
  return value.map((r) => ({ bucket: r.bucket, region: r.region }));
}

function positiveInteger(env: Readonly<Record<string, string | undefined>>, name: string): number | undefined {
  const value = env[name];
  if (!value) return undefined;
  if (!/^[1-9][0-9]*$/.test(value)) throw new PictorError('InvalidConfig', `${name} must be a positive whole number, not '${value}'.`);
  return Number(value);
}

function json(env: Readonly<Record<string, string | undefined>>, name: string, fallback: unknown): any {
  const value = env[name];
  if (!value) return fallback;
  try {
    return JSON.parse(value);
  } catch (error) {
    throw new PictorError('InvalidConfig', `${name} is not JSON: ${(error as Error).message}`);
  }
}

/** A setting only some tasks need, checked when such a task is created rather than for every task. */
export function requireSetting<K extends keyof TaskConfig>(config: TaskConfig, key: K, variable: string): NonNullable<TaskConfig[K]> {
  const value = config[key];
  if (value === undefined || value === '') throw new PictorError('InvalidConfig', `This task needs the environment variable ${variable}.`);
  return value as NonNullable<TaskConfig[K]>;
}
