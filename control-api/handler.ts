import { SFNClient } from '@aws-sdk/client-sfn';
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { awsClients } from '../tasks/shared/aws-clients.ts';
import { DynamoDbVersionMap } from '../tasks/shared/dynamodb-version-map.ts';
import { storeTenants } from '../tasks/shared/store-tenants.ts';
import { keyValueStoreClient, secretsManagerClient } from '../tenant-store/clients.ts';
import { TenantRegistry } from '../tenant-store/registry.ts';
import { SigningSecrets } from '../tenant-store/signing-secrets.ts';
import { createApi } from './api.ts';
import { readApiConfig, type ApiConfig } from './config.ts';

export type ApiHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

/** The control API on a deployment's (or the twin's) services: what Lambda runs, and what the twin calls in-process. */
export function createHandler(config: ApiConfig): ApiHandler {
  const clients = awsClients(config);
  const { region, credentials } = config;
  const registry = new TenantRegistry({
    keyValueStore: keyValueStoreClient({ endpoint: config.endpoints.keyvaluestore, region, credentials }),
    storeArn: config.viewerStoreArn,
    configStoreArn: config.tenantStoreArn,
    secrets: new SigningSecrets(secretsManagerClient({ endpoint: config.endpoints.secretsmanager, region, credentials }), config.signingSecretsPrefix),
  });
  return createApi({
    config,
    // The originals bucket's region: the presigned POST's host and signature name it.
    s3: clients.s3,
    sfn: new SFNClient({ region, endpoint: config.endpoints.stepfunctions, credentials }),
    events: clients.events,
    versions: new DynamoDbVersionMap(clients.documents, config.versionsTable, config.tombstonesTable),
    // Read afresh: an admin who removes a tenant is answered as removed at once, not a minute later.
    tenants: storeTenants(config, { cacheMs: 0 }),
    registry,
    // The level comes from POWERTOOLS_LOG_LEVEL, which the Logger reads itself.
    logger: new Logger({ serviceName: 'pictor-control-api' }),
  });
}

let instance: ApiHandler | undefined;
/** Lambda's entry: the configuration is read and validated once, on the first invocation. */
export const handler: ApiHandler = (event) => (instance ??= createHandler(readApiConfig(process.env)))(event);
