import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Duration } from 'aws-cdk-lib';
import type { PictorConfig } from '../core/tenant-config.ts';
import { createOriginRequestHandler, originRequestConfig, TENANT_STORE_ORIGIN_HEADER, type OriginRequestConfig } from '../edge-fallback/origin-request/handler.ts';
import { keyValueStoreClient, secretsManagerClient } from '../tenant-store/clients.ts';
import { TenantRegistry } from '../tenant-store/registry.ts';
import { SigningSecrets } from '../tenant-store/signing-secrets.ts';
import { LocalKeyValueStore } from './key-value-store.ts';
import { LocalSecretsManager } from './secrets-manager.ts';
import { LOCAL_ACCOUNT, resolveTokens } from './pipeline/template.ts';
import { readDistribution, synthesizeEdge, type DistributionConfig } from './edge/distribution.ts';
import { LocalEdge } from './edge/edge-server.ts';
import { ViewerFunctionRuntime } from './edge/function-runtime.ts';
import { DEFAULT_COMPLETION_DELAY_MS, InvalidationService, type CompletionTimer } from './edge/invalidations.ts';
import { controlPlane } from './aws-api.ts';
import { startLocalDynamoDB, type LocalDynamoDB } from './dynamodb-server.ts';
import { LOCAL_TABLES, startLocalPipeline, type LocalPipeline, type LocalPipelineOptions } from './pipeline/local-pipeline.ts';
import { PutBucketCorsCommand, type S3Client } from '@aws-sdk/client-s3';
import { replicate, type Replication } from './replication.ts';
import { LOCAL_S3_CREDENTIALS, localS3Client, startLocalS3, type LocalS3 } from './s3-server.ts';
import { startRegions, type Regions } from './regions.ts';
import { startLocalApiGateway } from './api-gateway.ts';
import { probeHealth, type HealthReport } from './health.ts';
import { storageOf } from './pipeline/storage.ts';
import { synthesizePipeline } from './pipeline/template.ts';
import { STAGING_PREFIX } from '../core/object-keys.ts';
import { ALL_BUCKETS, BUCKETS, REGIONS } from './topology.ts';

export const LOCAL_DISTRIBUTION_ID = 'EPICTORLOCAL';

export interface TwinOptions {
  readonly config: PictorConfig;
  /** Where S3 data lives. */
  readonly dataDir: string;
  /** 0 picks a free port. @default 0 */
  readonly edgePort?: number;
  readonly controlPort?: number;
  /** The control-plane API (the pipeline's HTTP API). 0 picks a free port. @default 0 */
  readonly apiPort?: number;
  readonly s3Port?: number;
  /** Ports of the regions' S3 endpoints, by region. @default free ports */
  readonly regionPorts?: Readonly<Record<string, number>>;
  /**
   * The endpoints the pipeline's tasks use for S3 and DynamoDB, in front of the
   * servers (fault proxies in tests); one S3 endpoint then serves every region.
   * @default each region's S3 endpoint, and the DynamoDB server
   */
  readonly taskEndpoints?: (endpoints: { s3: string; dynamodb: string }) => Promise<{ s3: string; dynamodb: string }> | { s3: string; dynamodb: string };
  /**
   * How long an invalidation stays in progress, in ms, or per batch of paths
   * (Infinity: it never completes); the edge is purged when it completes.
   * @default 2 minutes (local/edge/invalidations.ts), times `timeScale`
   */
  readonly invalidationDelayMs?: number | ((paths: readonly string[]) => number);
  /** What completes an invalidation once its delay has passed (local/edge/invalidations.ts). @default setTimeout */
  readonly invalidationTimer?: CompletionTimer;
  readonly cacheBytes?: number;
  readonly clock?: () => number;
  readonly logLevel?: OriginRequestConfig['logLevel'];
  /** Deployment settings, as ImageDelivery's props give them. */
  readonly takedownEligibleTenants?: readonly string[];
  readonly invalidationDeadline?: Duration;
  /** As the deployment's `rerender` paging (page size, pages per execution). @default the deployment's defaults */
  readonly rerender?: LocalPipelineOptions['rerender'];
  /**
   * As the deployment's `controlApi.browserOrigins`: web origins whose pages may upload
   * with a presigned POST and call the API (the originals bucket's and the API's CORS).
   * @default none
   */
  readonly browserOrigins?: readonly string[];
  /** Run the pipeline (DynamoDB, state machines, event bus). @default true */
  readonly pipeline?: boolean;
  readonly dynamodbPort?: number;
  /**
   * How long Cross-Region Replication takes to bring each new version and each
   * delete marker of an original to the replica, in ms; the source version reports
   * PENDING meanwhile. Always asynchronous, as on AWS (seconds, and with
   * Replication Time Control up to 15 minutes); nothing reaches a replica while
   * its region is faulted, and deletes that name a version are never replicated.
   * https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-time-control.html
   * @default 1000
   */
  readonly replicationDelayMs?: number;
  /**
   * How long the state machines' Retry pauses and Wait states last, as a fraction
   * of AWS's time (see LocalStepFunctionsOptions.timeScale). @default 1
   */
  readonly timeScale?: number;
  readonly instrument?: LocalPipelineOptions['instrument'];
  /** EventBridge's delivery: at least once, a duplicate now and then. @default a seeded 1 in 100 */
  readonly eventBus?: LocalPipelineOptions['eventBus'];
  /**
   * How long a KeyValueStore change takes to reach the viewer function; AWS says
   * "typically within seconds" (local/key-value-store.ts). @default 1000
   */
  readonly keyValueStorePropagationMs?: number;
}

export interface Twin {
  readonly edgeUrl: string;
  /** CloudFront's API: point @aws-sdk/client-cloudfront here. */
  readonly controlUrl: string;
  /** The control-plane API (API Gateway's HTTP API, IAM-signed), with the pipeline. */
  readonly apiUrl?: string;
  readonly s3: LocalS3;
  readonly edge: LocalEdge;
  readonly invalidations: InvalidationService;
  readonly viewer: ViewerFunctionRuntime;
  /** The synthesized distribution the edge follows. */
  readonly distribution: DistributionConfig;
  /** Each region's S3 endpoint. */
  readonly endpoints: Readonly<Record<string, string>>;
  /** The regions, whose S3 can be put into a fault (`pictor twin fault`). */
  readonly regions: Regions;
  /** An S3 client for the local server itself, bypassing any fault proxy. */
  readonly s3Client: S3Client;
  readonly replication: Replication;
  readonly dynamodb?: LocalDynamoDB;
  readonly pipeline?: LocalPipeline;
  /** The tenant store (the edge KeyValueStore) and the signing-key secrets, behind their APIs on `controlUrl`. */
  readonly tenantStore: {
    /** The viewer function's store: policies and signing keys. */
    readonly keyValueStore: LocalKeyValueStore;
    /** The origin's and the tasks' store: policies and configurations. */
    readonly configStore: LocalKeyValueStore;
    readonly secretsManager: LocalSecretsManager;
  };
  /** The tenant registry against this twin's APIs: what `pictor tenants` and `pictor keys` run. */
  readonly registry: TenantRegistry;
  /** Resolves once every execution started so far, and any it caused, has ended, and replication has caught up. */
  settled(): Promise<void>;
  /** Probes each of its servers, as GET /_twin/health on `controlUrl` reports them. */
  health(): Promise<HealthReport>;
  close(): Promise<void>;
}

/**
 * The local twin of the edge: an S3-compatible server with the deployment's
 * buckets, the built viewer function in a sandbox, the origin-request handler,
 * and a CloudFront-like edge and API in front of them.
 */
export async function startTwin(options: TwinOptions): Promise<Twin> {
  // The SDK's default chain would probe instance metadata; the local server takes fixed keys.
  process.env.AWS_ACCESS_KEY_ID ??= LOCAL_S3_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY ??= LOCAL_S3_CREDENTIALS.secretAccessKey;
  process.env.AWS_REGION ??= BUCKETS.originals.region;

  // Which buckets are versioned and replicated, as the deployment's template configures them.
  const storage = storageOf(synthesizePipeline(options.config, undefined, { browserOrigins: options.browserOrigins }));
  const s3 = await startLocalS3({ directory: join(options.dataDir, 's3'), buckets: ALL_BUCKETS, port: options.s3Port, versioned: storage.versioned });
  const regions = await startRegions(s3.endpoint, REGIONS, options.regionPorts);
  const endpoints = regions.endpoints;
  const s3Client = localS3Client(s3.endpoint, BUCKETS.originals.region);
  // Browsers reach a bucket from other origins only as its CORS rules allow (a presigned POST's upload).
  for (const [bucket, rules] of Object.entries(storage.cors)) {
    await s3Client.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: rules } }));
  }
  // S3 replicates asynchronously, and only once the destination's region answers.
  const replications = storage.replication.map((rule) => {
    const region = Object.values(BUCKETS).find((b) => b.bucket === rule.destination)?.region;
    if (!region) throw new Error(`The template replicates ${rule.source} to ${rule.destination}, which the twin does not have.`);
    return replicate(s3, rule.source, rule.destination, {
      delayMs: options.replicationDelayMs,
      deleteMarkerReplication: rule.deleteMarkerReplication,
      region: { up: () => regions.modes[region] === 'off', healthy: () => regions.healthy(region) },
    });
  });
  const replication: Replication = { settled: async () => void (await Promise.all(replications.map((r) => r.settled()))) };
  // The distribution a deployment creates is the one the twin follows, and its function code is what runs.
  const edgeTemplate = synthesizeEdge(options.config, { takedownEligible: options.takedownEligibleTenants });
  const distribution = readDistribution(edgeTemplate);
  // The tenant store the template's origins name, empty as a deployment creates it; the registry fills it below.
  // The two tenant stores the template names (the viewer function's association, the origins' header),
  // empty as a deployment creates them; the registry fills them below.
  const configStoreArn = distribution.originGroup.members[0].customHeaders[TENANT_STORE_ORIGIN_HEADER];
  if (!configStoreArn) throw new Error(`The distribution's origins carry no ${TENANT_STORE_ORIGIN_HEADER} header.`);
  // Both viewer functions read one store, as their associations say; the twin gives them the same live map.
  const functionStores = new Set(
    Object.values(edgeTemplate.Resources)
      .filter((r) => r.Type === 'AWS::CloudFront::Function')
      .map((r) => resolveTokens(r.Properties?.FunctionConfig?.KeyValueStoreAssociations?.[0]?.KeyValueStoreARN, edgeTemplate, {}) as string | undefined),
  );
  const [storeArn] = functionStores;
  if (!storeArn || functionStores.size !== 1) throw new Error("The twin models the viewer functions reading one KeyValueStore; the template's associations differ.");
  const propagationMs = options.keyValueStorePropagationMs ?? 1000;
  const keyValueStore = new LocalKeyValueStore(storeArn, propagationMs);
  const configStore = new LocalKeyValueStore(configStoreArn, propagationMs);
  const secretsManager = new LocalSecretsManager(BUCKETS.originals.region, LOCAL_ACCOUNT);
  // The viewer function reads what has propagated to the edge, live.
  const viewer = new ViewerFunctionRuntime(distribution.viewerFunctionCode, keyValueStore.edge);
  const viewerResponse = distribution.viewerResponseFunctionCode === undefined ? undefined : new ViewerFunctionRuntime(distribution.viewerResponseFunctionCode, keyValueStore.edge);
  // The control plane listens first: the origin-request handler is built knowing the KeyValueStore API's endpoint.
  let serve: ReturnType<typeof controlPlane> | undefined;
  const control: Server = createServer((request, response) => (serve ? void serve(request, response) : void response.writeHead(503).end()));
  await new Promise<void>((resolve, reject) => control.once('error', reject).listen(options.controlPort ?? 0, '127.0.0.1', resolve));
  const port = (control.address() as AddressInfo).port;
  const controlUrl = `http://127.0.0.1:${port}`;
  // The KeyValueStore API's host is `{account}.{endpoint host}` (tenant-store/clients.ts): localhost, not an IP address.
  const kvsEndpoint = `http://localhost:${port}`;
  const edge = new LocalEdge({
    viewer,
    viewerResponse,
    // The handler a deployment bundles, reading policies through the KeyValueStore API as it does.
    originRequest: createOriginRequestHandler(originRequestConfig({ s3Endpoints: endpoints, logLevel: options.logLevel ?? 'WARN', keyValueStoreEndpoint: kvsEndpoint })),
    distribution,
    s3Endpoints: endpoints,
    cacheBytes: options.cacheBytes,
    clock: options.clock,
  });
  // What the origin-request function stored: edge renders, as CloudFront cannot see them.
  const variantBuckets = new Set<string>([BUCKETS.variants.bucket, BUCKETS.failoverVariants.bucket]);
  s3.server.on('event', (event) => {
    for (const record of event.Records) {
      if (record.eventName === 'ObjectCreated:Put' && variantBuckets.has(record.s3.bucket.name) && !record.s3.object.key.startsWith(STAGING_PREFIX)) edge.stats.originRenders++;
    }
  });
  const edgeUrl = await edge.listen(options.edgePort ?? 0);
  const invalidations = new InvalidationService(LOCAL_DISTRIBUTION_ID, (path) => edge.cache.invalidate(path), options.invalidationDelayMs ?? DEFAULT_COMPLETION_DELAY_MS * (options.timeScale ?? 1), options.invalidationTimer);
  const services: Parameters<typeof controlPlane>[0] = { invalidations, regions, keyValueStores: new Map([
      [storeArn, keyValueStore],
      [configStoreArn, configStore],
    ]),
    secretsManager,
    tenantStores: { viewer: storeArn, config: configStoreArn },
  };
  serve = controlPlane(services);
  const stores = {
    keyValueStore: keyValueStoreClient({ endpoint: kvsEndpoint }),
    storeArn,
    configStoreArn,
    secrets: new SigningSecrets(secretsManagerClient({ endpoint: controlUrl })),
  };
  const registry = new TenantRegistry(stores);

  let dynamodb: LocalDynamoDB | undefined;
  let pipeline: LocalPipeline | undefined;
  let api: Awaited<ReturnType<typeof startLocalApiGateway>> | undefined;
  const close = async () => {
    await api?.close();
    await pipeline?.bus.settled();
    await pipeline?.stepFunctions.settled();
    invalidations.close();
    keyValueStore.close();
    configStore.close();
    stores.keyValueStore.destroy();
    control.closeAllConnections();
    await new Promise((resolve) => control.close(resolve));
    await edge.close();
    await regions.close();
    await replication.settled();
    s3Client.destroy();
    await dynamodb?.close();
    await s3.close();
  };
  try {
    // The tenants file reaches the store as an operator's `pictor tenants put --file` does: through the registry.
    await registry.putTenants(options.config);
    await keyValueStore.propagated();
    await configStore.propagated();
  } catch (error) {
    await close();
    throw error;
  }
  if (options.pipeline ?? true) {
    try {
      dynamodb = await startLocalDynamoDB({ directory: join(options.dataDir, 'dynamodb'), tables: Object.values(LOCAL_TABLES), port: options.dynamodbPort });
      const tasks = options.taskEndpoints
        ? { ...(await options.taskEndpoints({ s3: s3.endpoint, dynamodb: dynamodb.endpoint })), s3ByRegion: undefined }
        : { s3: endpoints[BUCKETS.originals.region]!, dynamodb: dynamodb.endpoint, s3ByRegion: endpoints };
      pipeline = await startLocalPipeline({
        config: options.config,
        s3,
        edge: { distributionId: LOCAL_DISTRIBUTION_ID, url: edgeUrl, tenantStoreArn: configStoreArn, viewerStoreArn: storeArn },
        invalidationDeadline: options.invalidationDeadline,
        rerender: options.rerender,
        browserOrigins: options.browserOrigins,
        endpoints: {
          s3: tasks.s3,
          s3ByRegion: tasks.s3ByRegion,
          dynamodb: tasks.dynamodb,
          eventbridge: controlUrl,
          cloudfront: controlUrl,
          keyvaluestore: kvsEndpoint,
          secretsmanager: controlUrl,
          stepfunctions: controlUrl,
        },
        timeScale: options.timeScale,
        // Distributed Maps read items and write results (ResultWriter) through it, as Step Functions reaches S3 itself.
        s3Client,
        instrument: options.instrument,
        eventBus: options.eventBus,
      });
    } catch (error) {
      // A twin that cannot start leaves nothing listening, so the process can end with the error.
      await close();
      throw error;
    }
    services.bus = pipeline.bus;
    services.stepFunctions = pipeline.stepFunctions;
    services.identities = pipeline.identities;
    const [httpApi, ...more] = pipeline.httpApis;
    if (more.length > 0) throw new Error('The twin serves one HTTP API; the pipeline template holds more.');
    if (httpApi) {
      try {
        api = await startLocalApiGateway({ api: httpApi, functions: pipeline.apiFunctions, identities: pipeline.identities, port: options.apiPort });
      } catch (error) {
        await close();
        throw error;
      }
    }
  }

  const settled = async () => {
    // Quiet three times running: an execution's events may start others.
    for (let quiet = 0; quiet < 3; ) {
      await new Promise((resolve) => setTimeout(resolve, 30));
      const before = pipeline?.stepFunctions.list().length ?? 0;
      await pipeline?.bus.settled();
      await pipeline?.stepFunctions.settled();
      await replication.settled();
      await keyValueStore.propagated();
      await configStore.propagated();
      quiet = (pipeline?.stepFunctions.list().length ?? 0) === before ? quiet + 1 : 0;
    }
  };
  const health = () =>
    probeHealth([
      { name: 'edge (CloudFront)', endpoint: edgeUrl },
      // CloudFront, KeyValueStore and Secrets Manager; with the pipeline, EventBridge, Step Functions and STS too.
      { name: 'AWS APIs', endpoint: controlUrl },
      ...(api ? [{ name: 'control API (API Gateway)', endpoint: api.url }] : []),
      { name: 'S3-compatible server', endpoint: s3.endpoint },
      ...Object.entries(endpoints).map(([region, endpoint]) => ({ name: `S3 ${region}`, endpoint, fault: regions.modes[region] })),
      ...(dynamodb ? [{ name: 'DynamoDB-compatible server', endpoint: dynamodb.endpoint }] : []),
    ]);
  services.health = health;
  const tenantStore = { keyValueStore, configStore, secretsManager };
  return { edgeUrl, controlUrl, apiUrl: api?.url, s3, edge, invalidations, viewer, distribution, endpoints, regions, s3Client, replication, dynamodb, pipeline, tenantStore, registry, settled, health, close };
}
