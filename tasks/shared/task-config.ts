import { PictorError } from '../../core/errors.ts';
import { parseConfig, type PictorConfig } from '../../core/tenant-config.ts';
import { DEFAULT_RENDER_LIMITS, type RenderLimits } from '../../edge-fallback/origin-request/render.ts';

/** Every task's configuration: each environment variable is read here, once, at cold start. */
export interface TaskConfig {
  /** PICTOR_ORIGINALS_BUCKET */
  readonly originalsBucket: string;
  /** PICTOR_VARIANTS_BUCKET */
  readonly variantsBucket: string;
  /** PICTOR_AUDIT_BUCKET (takedown records) */
  readonly auditBucket: string;
  /** PICTOR_VERSIONS_TABLE: the version map. */
  readonly versionsTable: string;
  /** PICTOR_IDEMPOTENCY_TABLE */
  readonly idempotencyTable: string;
  /** PICTOR_EVENT_BUS */
  readonly eventBus: string;
  /** PICTOR_TENANTS: the tenant configuration, as JSON. */
  readonly tenants: PictorConfig;
  readonly limits: Omit<RenderLimits, 'maxDimension'>;
  /** AWS_REGION */
  readonly region: string;
  /** AWS_ENDPOINT_URL_S3 / _DYNAMODB / _EVENTBRIDGE / _CLOUDFRONT: S3-compatible and other endpoints outside AWS. */
  readonly endpoints: { readonly s3?: string; readonly dynamodb?: string; readonly eventbridge?: string; readonly cloudfront?: string };
}

export function readTaskConfig(env: Readonly<Record<string, string | undefined>>): TaskConfig {
  const required = (name: string): string => {
    const value = env[name];
    if (!value) throw new PictorError('InvalidConfig', `The task needs the environment variable ${name}.`);
    return value;
  };
  let tenantsJson: unknown;
  try {
    tenantsJson = JSON.parse(required('PICTOR_TENANTS'));
  } catch (error) {
    if (error instanceof PictorError) throw error;
    throw new PictorError('InvalidConfig', `PICTOR_TENANTS is not JSON: ${(error as Error).message}`);
  }
  return {
    originalsBucket: required('PICTOR_ORIGINALS_BUCKET'),
    variantsBucket: required('PICTOR_VARIANTS_BUCKET'),
    auditBucket: env.PICTOR_AUDIT_BUCKET ?? '',
    versionsTable: required('PICTOR_VERSIONS_TABLE'),
    idempotencyTable: required('PICTOR_IDEMPOTENCY_TABLE'),
    eventBus: required('PICTOR_EVENT_BUS'),
    tenants: parseConfig(tenantsJson, 'PICTOR_TENANTS'),
    limits: DEFAULT_RENDER_LIMITS,
    region: env.AWS_REGION ?? 'us-east-1',
    endpoints: {
      s3: env.AWS_ENDPOINT_URL_S3,
      dynamodb: env.AWS_ENDPOINT_URL_DYNAMODB,
      eventbridge: env.AWS_ENDPOINT_URL_EVENTBRIDGE,
      cloudfront: env.AWS_ENDPOINT_URL_CLOUDFRONT,
    },
  };
}
