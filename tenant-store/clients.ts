import { Agent } from 'node:http';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { CloudFrontKeyValueStoreClient } from '@aws-sdk/client-cloudfront-keyvaluestore';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { AwsCredentialIdentity } from '@aws-sdk/types';
// The KeyValueStore API is signed with SigV4A; importing the JS signer registers it with the SDK.
// https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/kvs-with-functions-kvp.html
import '@aws-sdk/signature-v4a';

export interface ClientOptions {
  /** An endpoint outside AWS, e.g. the twin's. @default AWS's own */
  readonly endpoint?: string;
  /** @default the SDK's chain */
  readonly credentials?: AwsCredentialIdentity;
  /** @default us-east-1 */
  readonly region?: string;
}

/**
 * A client of the CloudFront KeyValueStore API. Its endpoint rules put the store's
 * account in front of the host (`{account}.cloudfront-kvs.global.api.aws`), a
 * custom endpoint's included: `http://localhost:8081` becomes
 * `http://000000000000.localhost:8081`. Names under `localhost` are the loopback
 * address (RFC 6761 §6.3), which the system resolver here does not know, so a
 * custom endpoint's client resolves them itself.
 */
export function keyValueStoreClient(options: ClientOptions = {}): CloudFrontKeyValueStoreClient {
  return new CloudFrontKeyValueStoreClient({
    region: options.region ?? 'us-east-1',
    endpoint: options.endpoint,
    credentials: options.credentials,
    ...(options.endpoint ? { requestHandler: { httpAgent: new Agent({ keepAlive: true, lookup: loopbackLookup } as any) } } : {}),
  });
}

export function secretsManagerClient(options: ClientOptions = {}): SecretsManagerClient {
  return new SecretsManagerClient({ region: options.region ?? 'us-east-1', endpoint: options.endpoint, credentials: options.credentials });
}

function loopbackLookup(hostname: string, options: any, callback: (error: Error | null, address: string | LookupAddress[], family?: number) => void): void {
  if (hostname === 'localhost' || hostname.endsWith('.localhost')) {
    if (options?.all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
    else callback(null, '127.0.0.1', 4);
    return;
  }
  dnsLookup(hostname, options, callback as any);
}
