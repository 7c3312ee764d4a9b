import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ObjectStore } from './object-store.ts';
import type { TaskConfig } from './task-config.ts';
import { VersionMap } from './version-map.ts';

export interface AwsClients {
  readonly s3: S3Client;
  readonly dynamodb: DynamoDBClient;
  readonly documents: DynamoDBDocumentClient;
  readonly events: EventBridgeClient;
  readonly cloudfront: CloudFrontClient;
}

/** One client per service for a task's lifetime. */
export function awsClients(config: TaskConfig): AwsClients {
  const region = config.region;
  const dynamodb = new DynamoDBClient({ region, endpoint: config.endpoints.dynamodb });
  return {
    s3: new S3Client({
      region,
      endpoint: config.endpoints.s3,
      // S3-compatible servers answer on a path, not a bucket subdomain.
      forcePathStyle: config.endpoints.s3 !== undefined,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    }),
    dynamodb,
    documents: DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } }),
    events: new EventBridgeClient({ region, endpoint: config.endpoints.eventbridge }),
    cloudfront: new CloudFrontClient({ region: 'us-east-1', endpoint: config.endpoints.cloudfront }),
  };
}

/** The pipeline's stores, as the tasks see them. */
export function pipelineStores(config: TaskConfig, clients: AwsClients) {
  return {
    originals: new ObjectStore(clients.s3, config.originalsBucket),
    variants: new ObjectStore(clients.s3, config.variantsBucket),
    versions: new VersionMap(clients.documents, config.versionsTable),
  };
}
