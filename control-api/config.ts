import { PictorError } from '../core/errors.ts';
import { DEFAULT_SIGNING_SECRET_PREFIX } from '../core/signing-keys.ts';
import { readTaskConfig, type TaskConfig } from '../tasks/shared/task-config.ts';
import type { Principals } from './callers.ts';

/** The state machines the API follows, by their construct's name in infra/pipeline.ts. */
export interface StateMachineArns {
  readonly RenderOnUpload: string;
  readonly CatalogueRerender: string;
  readonly TakedownBatch: string;
}

/**
 * The control API's configuration: the tasks' (buckets, tables, bus, endpoints,
 * credentials), and what only the API reads. Every variable is read here, once,
 * at cold start; infra/control-api.ts sets them.
 */
export interface ApiConfig extends TaskConfig, Principals {
  /** PICTOR_PIPELINE_REGION, over AWS_REGION: where the buckets, tables, bus and state machines are. */
  readonly region: string;
  /** AWS_REGION: where this API runs, which its health check names. */
  readonly apiRegion: string;
  /** PICTOR_STATE_MACHINES: JSON {RenderOnUpload, CatalogueRerender, TakedownBatch} → ARN. */
  readonly stateMachines: StateMachineArns;
  /** PICTOR_VIEWER_STORE_ARN: the viewer function's KeyValueStore, which holds the signing keys. */
  readonly viewerStoreArn: string;
  /** PICTOR_SIGNING_SECRETS_PREFIX @default DEFAULT_SIGNING_SECRET_PREFIX */
  readonly signingSecretsPrefix: string;
}

export function readApiConfig(env: Readonly<Record<string, string | undefined>>): ApiConfig {
  const task = readTaskConfig(env);
  const json = (name: string): unknown => {
    const value = env[name];
    if (!value) throw new PictorError('InvalidConfig', `The control API needs the environment variable ${name}.`);
    try {
      return JSON.parse(value);
    } catch (error) {
      throw new PictorError('InvalidConfig', `${name} is not JSON: ${(error as Error).message}`);
    }
  };
  const machines = json('PICTOR_STATE_MACHINES') as Record<string, unknown>;
  for (const name of ['RenderOnUpload', 'CatalogueRerender', 'TakedownBatch']) {
    if (typeof machines?.[name] !== 'string') throw new PictorError('InvalidConfig', `PICTOR_STATE_MACHINES must name the ${name} state machine's ARN.`);
  }
  const tenantRoles = json('PICTOR_API_TENANT_ROLES');
  if (!tenantRoles || typeof tenantRoles !== 'object' || Array.isArray(tenantRoles) || !Object.values(tenantRoles).every((t) => typeof t === 'string')) {
    throw new PictorError('InvalidConfig', 'PICTOR_API_TENANT_ROLES must be a JSON object of role ARN to tenant.');
  }
  const admins = json('PICTOR_API_ADMINS');
  if (!Array.isArray(admins) || !admins.every((a) => typeof a === 'string')) throw new PictorError('InvalidConfig', 'PICTOR_API_ADMINS must be a JSON array of ARNs.');
  const viewerStoreArn = env.PICTOR_VIEWER_STORE_ARN;
  if (!viewerStoreArn) throw new PictorError('InvalidConfig', 'The control API needs the environment variable PICTOR_VIEWER_STORE_ARN.');
  if (!task.edgeUrl) throw new PictorError('InvalidConfig', 'The control API needs the environment variable PICTOR_EDGE_URL.');
  return {
    ...task,
    // Every resource the API calls lives in the pipeline's region, which an API in another region is not in.
    region: env.PICTOR_PIPELINE_REGION || task.region,
    apiRegion: task.region,
    stateMachines: machines as unknown as StateMachineArns,
    tenantRoles: tenantRoles as Record<string, string>,
    admins,
    viewerStoreArn,
    signingSecretsPrefix: task.signingSecretsPrefix ?? DEFAULT_SIGNING_SECRET_PREFIX,
  };
}
