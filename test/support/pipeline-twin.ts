import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { ListObjectVersionsCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import type { BusEvent } from '../../local/event-bus/event-bus.ts';
import { BUCKETS } from '../../local/topology.ts';
import { startFaultProxy, type FaultProxy } from '../../local/fault-proxy.ts';
import type { Twin, TwinOptions } from '../../local/twin.ts';

/** The tasks' S3 and DynamoDB behind fault proxies, which `proxies` holds once the twin starts. */
export function throughFaultProxies(proxies: Partial<Record<'s3' | 'dynamodb', FaultProxy>>): NonNullable<TwinOptions['taskEndpoints']> {
  return async (servers) => {
    proxies.s3 = await startFaultProxy(servers.s3);
    proxies.dynamodb = await startFaultProxy(servers.dynamodb);
    return { s3: proxies.s3.url, dynamodb: proxies.dynamodb.url };
  };
}

/** Waits until every execution started so far, and any they caused, has ended. */
export function settle(twin: Twin): Promise<void> {
  return twin.settled();
}

export async function upload(twin: Twin, key: string, body: Buffer): Promise<void> {
  await twin.s3Client.send(new PutObjectCommand({ Bucket: BUCKETS.originals.bucket, Key: key, Body: body }));
}

/** Every key under a prefix, sorted (all pages). */
export async function keys(twin: Twin, bucket: string, prefix: string): Promise<string[]> {
  const found: string[] = [];
  let token: string | undefined;
  do {
    const page = await twin.s3Client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) found.push(o.Key!);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return found.sort();
}

/** Every version and delete marker under a prefix (all pages), as `key@versionId`. */
export async function versionsUnder(twin: Twin, bucket: string, prefix: string): Promise<string[]> {
  const found: string[] = [];
  let KeyMarker: string | undefined;
  let VersionIdMarker: string | undefined;
  do {
    const page = await twin.s3Client.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix, KeyMarker, VersionIdMarker }));
    for (const v of [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])]) found.push(`${v.Key}@${v.VersionId}`);
    KeyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
    VersionIdMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
  } while (KeyMarker);
  return found;
}

export function published(twin: Twin, detailType: string): BusEvent[] {
  return twin.pipeline!.bus.events.filter((e) => e['detail-type'] === detailType);
}

export async function edge(twin: Twin, path: string, headers: Record<string, string> = {}) {
  const response = await fetch(twin.edgeUrl + path, { headers });
  return { status: response.status, xcache: response.headers.get('x-cache'), body: Buffer.from(await response.arrayBuffer()) };
}

/**
 * An EventBridge client acting as the role that may ask for takedowns or re-renders
 * (assumed through the twin's STS, as an operator would), and the bus to send to.
 */
export async function requester(twin: Twin, kind: 'takedown' | 'rerender', options: { maxAttempts?: number } = {}): Promise<{ events: EventBridgeClient; bus: string }> {
  const sts = new STSClient({ region: 'us-east-1', endpoint: twin.controlUrl });
  const { Credentials } = await sts.send(new AssumeRoleCommand({ RoleArn: twin.pipeline!.requesters[kind], RoleSessionName: `test-${kind}` }));
  sts.destroy();
  const credentials = { accessKeyId: Credentials!.AccessKeyId!, secretAccessKey: Credentials!.SecretAccessKey!, sessionToken: Credentials!.SessionToken };
  return { events: new EventBridgeClient({ region: 'us-east-1', endpoint: twin.controlUrl, credentials, ...options }), bus: twin.pipeline!.eventBusName };
}
