import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { expectBucketOwner } from '../../storage/bucket-owner.ts';
import { DynamoDbVersionMap } from './dynamodb-version-map.ts';
import { S3ObjectStore } from './s3-object-store.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import type { VersionMap } from '../ports/version-map.ts';
import type { TaskConfig } from './task-config.ts';

export interface AwsClients {
  readonly s3: S3Client;
  /** An S3 client for a bucket in another region (replicas): S3 answers a wrong-region request with a redirect. */
  s3In(region: string): S3Client;
  readonly dynamodb: DynamoDBClient;
  readonly documents: DynamoDBDocumentClient;
  readonly events: EventBridgeClient;
  readonly cloudfront: CloudFrontClient;
}

/** One client per service for a task's lifetime. */
export function awsClients(config: TaskConfig): AwsClients {
  const region = config.region;
  const credentials = config.credentials;
  const dynamodb = new DynamoDBClient({ region, endpoint: config.endpoints.dynamodb, credentials });
  const s3ByRegion = new Map<string, S3Client>();
  const s3In = (bucketRegion: string): S3Client => {
    let client = s3ByRegion.get(bucketRegion);
    if (!client) {
      const endpoint = config.s3Endpoints[bucketRegion] ?? config.endpoints.s3;
      // Every bucket is the account's own: S3 refuses a request that reaches another's.
      client = expectBucketOwner(
        new S3Client({
          region: bucketRegion,
          endpoint,
          credentials,
          // S3-compatible servers answer on a path, not a bucket subdomain.
          forcePathStyle: endpoint !== undefined,
          requestChecksumCalculation: 'WHEN_REQUIRED',
          responseChecksumValidation: 'WHEN_REQUIRED',
        }),
        config.accountId,
      );
      s3ByRegion.set(bucketRegion, client);
    }
    return client;
  };
  return {
    s3: s3In(region),
    s3In,
    dynamodb,
    documents: DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } }),
    events: new EventBridgeClient({ region, endpoint: config.endpoints.eventbridge, credentials }),
    cloudfront: new CloudFrontClient({ region: 'us-east-1', endpoint: config.endpoints.cloudfront, credentials }),
  };
}

/** The pipeline's stores, as the tasks see them: the ports' adapters on this deployment's buckets and tables. */
export function pipelineStores(config: TaskConfig, clients: AwsClients): { originals: ObjectStore; variants: ObjectStore; versions: VersionMap } {
  return {
    originals: new S3ObjectStore(clients.s3, config.originalsBucket),
    variants: new S3ObjectStore(clients.s3, config.variantsBucket),
    versions: new DynamoDbVersionMap(clients.documents, config.versionsTable, config.tombstonesTable),
  };
}
