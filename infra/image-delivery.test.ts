import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { PRIVATE_CACHE_CONTROL } from '../core/cache-control.ts';
import { HSTS_MAX_AGE, SECURITY_HEADERS } from '../core/security-headers.ts';
import { parseConfig } from '../core/tenant-config.ts';
import { ORIGINALS_ORIGIN_HEADER, TENANT_STORE_ORIGIN_HEADER } from '../edge-fallback/origin-request/handler.ts';
import { buildViewerFunction } from '../edge-fallback/viewer-request/build.ts';
import { buildViewerResponseFunction } from '../edge-fallback/viewer-response/build.ts';
import { startTwin, type Twin } from '../local/twin.ts';
import { logicalIdOf, stateMachineDefinitions, type CfnTemplate } from '../local/pipeline/template.ts';
import { localNames } from '../local/pipeline/storage.ts';
import { ImageEdge, nearestFirst, ORIGIN_CONNECTION_ATTEMPTS, ORIGIN_CONNECTION_TIMEOUT, ORIGIN_RESPONSE_TIMEOUT, type ImageEdgeProps } from './edge.ts';
import { ImageDelivery, type ImageDeliveryProps } from './image-delivery.ts';
import { TASKS } from './pipeline.ts';
import { EDGE_LOG_REGIONS } from './edge-logs.ts';

const SECRET = 'a-signing-secret-of-at-least-32-characters';
const OPS_EMAIL = 'ops@example.com';
const PAGER_TOPIC = 'arn:aws:sns:us-east-1:123456789012:pager';
const TENANTS = parseConfig({
  tenants: {
    shop: { referers: ['shop.example.com', '*.example.com'] },
    ugc: { signing: { required: true, keys: { k1: SECRET } } },
  },
});

let outdir: string;
let delivery: ImageDelivery;
/** Every stack's template, as synthesized. */
let templates: CfnTemplate[];
/** Warnings CDK left on the assembly that no acknowledgement explains, as `stack construct-path: message`. */
let warnings: string[];
let edge: Template;
let edgeJson: CfnTemplate;
let pipeline: Template;
let pipelineJson: CfnTemplate;
let replicas: Template[];

/** The one full synthesis: real bundles, cdk-nag's AWS Solutions checks, CloudFormation's own validation. */
before(() => {
  outdir = mkdtempSync(join(tmpdir(), 'pictor-synth-'));
  // Path and asset metadata, as the CDK CLI turns them on.
  const context = { '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true, 'aws:cdk:enable-path-metadata': true, 'aws:cdk:enable-asset-metadata': true };
  const app = new App({ outdir, context });
  delivery = new ImageDelivery(app, 'Pictor', {
    tenants: TENANTS,
    takedownEligibleTenants: ['ugc'],
    waf: { requestsPerIpPer5Minutes: 1200 },
    alarmSubscribers: { emails: [OPS_EMAIL], topicArns: [PAGER_TOPIC] },
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  // Throws on any cdk-nag finding that no acknowledgement explains.
  const assembly = app.synth();
  const template = (stack: Stack) => assembly.getStackArtifact(stack.artifactId).template;
  templates = assembly.stacks.map((s) => s.template);
  warnings = assembly.stacks.flatMap((s) => s.messages.filter((m) => m.level === 'warning').map((m) => `${s.stackName} ${m.id}: ${String(m.entry.data)}`));
  edgeJson = template(delivery.edgeStack);
  edge = Template.fromJSON(edgeJson);
  pipelineJson = template(delivery.pipelineStack);
  pipeline = Template.fromJSON(pipelineJson);
  replicas = delivery.replicaStacks.map((s) => Template.fromJSON(template(s)));
});

after(() => rmSync(outdir, { recursive: true, force: true }));

/** A resource's properties by its construct path under a stack, e.g. `Pipeline/Originals`. */
function at(template: CfnTemplate, path: string): Record<string, any> {
  return template.Resources[logicalIdOf(template, path)]!.Properties!;
}

/** An edge stack of its own, without bundling the origin-request function. */
function edgeStack(props: (scope: Stack) => Partial<ImageEdgeProps> = () => ({})): Stack {
  const stack = new Stack(new App(), 'E', { env: { region: 'us-east-1' } });
  new ImageEdge(stack, 'Edge', {
    tenants: TENANTS,
    origins: [
      { variants: { bucketName: 'variants-bucket', region: 'us-east-1' }, originShieldRegion: 'us-east-1' },
      { variants: { bucketName: 'failover-variants-bucket', region: 'eu-west-1' }, originShieldRegion: 'eu-west-1' },
    ],
    originals: [
      { bucketName: 'originals-bucket', region: 'us-east-1' },
      { bucketName: 'replica-bucket', region: 'eu-west-1' },
    ],
    originRequestCode: lambda.Code.fromInline('// not bundled here'),
    ...props(stack),
  });
  return stack;
}

const bucketName = (role: string, region: string) => ({ 'Fn::Join': ['', [`pictor-${role}-`, { Ref: 'AWS::AccountId' }, `-${region}`]] });
/** A bucket's S3 REST domain in the edge stack, as CloudFront's S3 origins name it. */
const s3Domain = (role: string, region: string) => ({ 'Fn::Join': ['', [`pictor-${role}-`, { Ref: 'AWS::AccountId' }, `-${region}.s3.${region}.amazonaws.com`]] });
const DEFAULT_REGIONS = ['us-east-1', 'eu-west-1', 'ap-northeast-1'];

/** A synthesized value as text: joins flattened, `<AWS::AccountId>` for a Ref, `<Logical.Attribute>` for a GetAtt, `<import:name>` for an import. */
function rendered(value: unknown): string {
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  const object = value as Record<string, any>;
  if (object.Ref) return `<${object.Ref}>`;
  if (object['Fn::GetAtt']) return `<${(object['Fn::GetAtt'] as string[]).join('.')}>`;
  if (object['Fn::ImportValue']) return `<import:${rendered(object['Fn::ImportValue'])}>`;
  if (object['Fn::Join']) return (object['Fn::Join'][1] as unknown[]).map(rendered).join(object['Fn::Join'][0]);
  return JSON.stringify(value);
}

/** A statement's resources, each rendered. */
const resourcesOf = (statement: { Resource: unknown }) => (Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource]).map(rendered);

describe('ImageDelivery: stacks', () => {
  it('puts the edge in us-east-1, a replica in each replica region, and the pipeline in the primary region, deployed in that order', () => {
    assert.equal(delivery.edgeStack.region, 'us-east-1');
    assert.deepEqual(delivery.replicaStacks.map((s) => s.region), ['eu-west-1', 'ap-northeast-1']);
    assert.equal(delivery.pipelineStack.region, 'us-east-1');
    const dependencies = delivery.pipelineStack.dependencies.map((s) => s.stackName).sort();
    assert.deepEqual(dependencies, ['Pictor-edge', 'Pictor-replica-ap-northeast-1', 'Pictor-replica-eu-west-1']);
    // The failover variants bucket's policy names the distribution, so the first replica follows the edge; the others stand alone.
    assert.deepEqual(delivery.replicaStacks.map((s) => s.dependencies.map((d) => d.stackName)), [['Pictor-edge'], []]);
  });

  it('leaves no CDK warning unacknowledged', () => {
    assert.deepEqual(warnings, []);
  });

  it('rejects prop combinations that cannot deploy, saying what to change', () => {
    const attempt = (props: Partial<ImageDeliveryProps>) => () => new ImageDelivery(new App(), 'P', { tenants: TENANTS, ...props });
    assert.throws(attempt({ replicaRegions: [] }), /replicaRegions: give at least one region/);
    assert.throws(attempt({ replicaRegions: ['us-east-1'] }), /us-east-1 is the primary region/);
    assert.throws(attempt({ originShieldRegion: 'af-south-1' }), /Origin Shield does not run in af-south-1; set originShieldRegion/);
    assert.throws(attempt({ waf: { requestsPerIpPer5Minutes: 5 } }), /requestsPerIpPer5Minutes: 5 must be a whole number from 10/);
    assert.throws(attempt({ takedownEligibleTenants: ['nobody'] }), /takedownEligibleTenants: nobody is not one of the tenants/);
    assert.throws(attempt({ namespace: 'Pictor!' }), /namespace: "Pictor!" must be/);
    assert.throws(attempt({ replicaRegions: ['af-south-1'] }), /replicaRegions\[0\]: the failover origin's Origin Shield .* none in af-south-1/);
    assert.throws(attempt({ variantSchema: { widths: [333] } }), /tenants\.shop\.variants\.widths\[0\]: 333 is not one of breakpoints/);
    assert.throws(attempt({ invalidationDeadline: Duration.hours(7) }), /invalidationDeadline must be from 1 second to 6 hours/);
    const signed = Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`private-${i}`, { signing: { required: true, keys: { k1: `secret-of-private-tenant-number-${i}-0123456789` } } }]));
    assert.throws(attempt({ tenants: parseConfig({ tenants: signed }) }), /25 tenants need a cache behaviour of their own, at most 24 fit/);
    assert.throws(attempt({ alarmSubscribers: { emails: ['ops'] } }), /alarmSubscribers\.emails: "ops" is not an email address/);
    assert.throws(attempt({ alarmSubscribers: { topicArns: ['pager'] } }), /alarmSubscribers\.topicArns: "pager" is not an SNS topic ARN/);
    assert.throws(
      attempt({ alarmSubscribers: { topicArns: ['arn:aws:sns:eu-west-1:123456789012:pager'] } }),
      /arn:aws:sns:eu-west-1:123456789012:pager is in eu-west-1, where no alarm is; .* use a topic in us-east-1 .* or us-east-1/,
    );
    assert.throws(attempt({ edgeLogs: { regions: [] } }), /edgeLogs\.regions: leave it out for every Region enabled by default/);
    assert.throws(attempt({ edgeLogs: { regions: ['Europe'] } }), /edgeLogs\.regions: "Europe" is not a region name/);
  });

  it('applies the variant schema to tenants that name no variants of their own', () => {
    const schema = new ImageDelivery(new App(), 'P', { tenants: TENANTS, variantSchema: { widths: [640], formats: ['webp'] } }).tenants;
    assert.deepEqual(schema.tenants.shop!.variants, { widths: [640], formats: ['webp'] });
  });
});

describe('ImageDelivery: storage', () => {
  it('keeps the originals versioned, private, encrypted, TLS-only, logged and announced to EventBridge', () => {
    const originals = at(pipelineJson, 'Pipeline/Originals');
    assert.deepEqual(originals.BucketName, bucketName('originals', 'us-east-1'));
    assert.equal(originals.VersioningConfiguration.Status, 'Enabled');
    assert.deepEqual(originals.PublicAccessBlockConfiguration, { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    assert.equal(originals.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm, 'AES256');
    assert.deepEqual(originals.LoggingConfiguration, { DestinationBucketName: { Ref: logicalIdOf(pipelineJson, 'Pipeline/AccessLogs') }, LogFilePrefix: 'originals/' });
    pipeline.hasResourceProperties('Custom::S3BucketNotifications', { NotificationConfiguration: { EventBridgeConfiguration: {} } });
    pipeline.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logicalIdOf(pipelineJson, 'Pipeline/Originals') },
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  it('replicates every upload and delete marker to both replicas, which are versioned', () => {
    const rules = at(pipelineJson, 'Pipeline/Originals').ReplicationConfiguration.Rules;
    assert.deepEqual(
      rules.map((r: any) => [r.Id, r.DeleteMarkerReplication.Status, r.Filter.Prefix]),
      [
        ['to-eu-west-1', 'Enabled', ''],
        ['to-ap-northeast-1', 'Enabled', ''],
      ],
    );
    assert.match(JSON.stringify(rules[1].Destination.Bucket), /pictor-originals-.*-ap-northeast-1/);
    for (const [i, region] of ['eu-west-1', 'ap-northeast-1'].entries()) {
      replicas[i]!.hasResourceProperties('AWS::S3::Bucket', { BucketName: bucketName('originals', region), VersioningConfiguration: { Status: 'Enabled' } });
    }
  });

  it('expires what was staged for versions that were never published, and incomplete uploads', () => {
    const rules = at(pipelineJson, 'Pipeline/Variants').LifecycleConfiguration.Rules;
    assert.deepEqual(rules.slice(0, 2), [
      { Id: 'abort-incomplete-uploads', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' },
      { Id: 'expire-unpublished-staging', ExpirationInDays: 7, Prefix: '_staging/', Status: 'Enabled' },
    ]);
    // What earlier deployments left tagged in place still expires.
    assert.deepEqual(rules[2].TagFilters, [{ Key: 'pictor-state', Value: 'unpublished' }]);
    const snapshots = at(pipelineJson, 'Pipeline/Originals').LifecycleConfiguration.Rules.find((r: any) => r.Id === 'expire-unpublished-snapshots');
    assert.deepEqual([snapshots.Prefix, snapshots.TagFilters], ['_versions/', [{ Key: 'pictor-state', Value: 'unpublished' }]]);
  });

  it('locks the audit records with Object Lock for 7 years, on a versioned bucket', () => {
    const audit = at(pipelineJson, 'Pipeline/Audit');
    assert.equal(audit.ObjectLockEnabled, true);
    assert.equal(audit.VersioningConfiguration.Status, 'Enabled');
    assert.deepEqual(audit.ObjectLockConfiguration.Rule.DefaultRetention, { Mode: 'GOVERNANCE', Days: 2555 });
  });

  it('records writes to the originals and every access to the audit records in CloudTrail', () => {
    const trail = Object.values(pipeline.findResources('AWS::CloudTrail::Trail'))[0]!.Properties;
    const selected = trail.EventSelectors.map((s: any) => [s.ReadWriteType, s.IncludeManagementEvents, s.DataResources[0].Type, JSON.stringify(s.DataResources[0].Values)]);
    const objectsOf = (path: string) => JSON.stringify([{ 'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalIdOf(pipelineJson, path), 'Arn'] }, '/']] }]);
    assert.deepEqual(selected, [
      ['WriteOnly', false, 'AWS::S3::Object', objectsOf('Pipeline/Originals')],
      ['All', false, 'AWS::S3::Object', objectsOf('Pipeline/Audit')],
    ]);
    assert.deepEqual(trail.IsMultiRegionTrail, false);
  });

  it('keeps the version map with point-in-time recovery, and idempotency records with a TTL', () => {
    assert.equal(at(pipelineJson, 'Pipeline/Versions').Replicas[0].PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled, true);
    assert.deepEqual(at(pipelineJson, 'Pipeline/Idempotency').TimeToLiveSpecification, { AttributeName: 'expiration', Enabled: true });
  });
});

describe('ImageDelivery: edge', () => {
  let distribution: any;
  before(() => {
    distribution = Object.values(edge.findResources('AWS::CloudFront::Distribution'))[0]!.Properties.DistributionConfig;
  });

  it('serves HTTPS only, over HTTP/2 and HTTP/3, behind WAF, with standard logs', () => {
    assert.equal(distribution.DefaultCacheBehavior.ViewerProtocolPolicy, 'https-only');
    assert.equal(distribution.HttpVersion, 'http2and3');
    assert.deepEqual(distribution.WebACLId, { 'Fn::GetAtt': [Object.keys(edge.findResources('AWS::WAFv2::WebACL'))[0], 'Arn'] });
    assert.equal(distribution.Logging.Prefix, 'cloudfront/');
    assert.deepEqual(distribution.DefaultCacheBehavior.AllowedMethods, ['GET', 'HEAD']);
  });

  it('enforces TLS 1.2 or later when it has a domain and certificate', () => {
    const stack = edgeStack((scope) => ({ domain: { names: ['img.example.com'], certificate: acm.Certificate.fromCertificateArn(scope, 'C', 'arn:aws:acm:us-east-1:123456789012:certificate/abc') } }));
    Template.fromStack(stack).hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: { Aliases: ['img.example.com'], ViewerCertificate: { MinimumProtocolVersion: 'TLSv1.2_2021', SslSupportMethod: 'sni-only' } },
    });
    assert.throws(() => new ImageEdge(new Stack(new App(), 'W', { env: { region: 'eu-west-1' } }), 'Edge', {} as never), /must be in a us-east-1 stack/);
  });

  /** The origin group's members, primary first, as the distribution defines them. */
  const groupOrigins = () => distribution.OriginGroups.Items[0].Members.Items.map((m: any) => distribution.Origins.find((o: any) => o.Id === m.OriginId));

  it('reads the variants buckets through one Origin Access Control, SigV4-signed always, and no origin access identity anywhere', () => {
    const controls = Object.entries(edge.findResources('AWS::CloudFront::OriginAccessControl'));
    assert.equal(controls.length, 1);
    const [controlId, control] = controls[0]!;
    assert.deepEqual(
      [control.Properties.OriginAccessControlConfig.OriginAccessControlOriginType, control.Properties.OriginAccessControlConfig.SigningProtocol, control.Properties.OriginAccessControlConfig.SigningBehavior],
      ['s3', 'sigv4', 'always'],
    );
    assert.equal(distribution.Origins.length, 2);
    for (const origin of distribution.Origins) {
      assert.deepEqual(origin.OriginAccessControlId, { 'Fn::GetAtt': [controlId, 'Id'] }, origin.Id);
      // An S3 origin with OAC still carries S3OriginConfig, its identity empty.
      assert.equal(origin.S3OriginConfig.OriginAccessIdentity, '', origin.Id);
      assert.equal(origin.CustomOriginConfig, undefined, origin.Id);
    }
    assert.equal(templates.length, 4);
    for (const template of templates) {
      const types = Object.values(template.Resources).map((r) => r.Type);
      assert.ok(!types.includes('AWS::CloudFront::CloudFrontOriginAccessIdentity'), types.join(', '));
    }
  });

  it("fails over from the primary region's variants to the first replica region's on 500, 502, 503 and 504, each origin quick to give up and behind Origin Shield in its own region", () => {
    const [group] = distribution.OriginGroups.Items;
    assert.equal(distribution.OriginGroups.Quantity, 1);
    assert.deepEqual(group.FailoverCriteria.StatusCodes, { Items: [500, 502, 503, 504], Quantity: 4 });
    assert.equal(group.Members.Quantity, 2);
    const origins = groupOrigins();
    assert.deepEqual(
      origins.map((o: any) => [o.DomainName, o.OriginShield]),
      [
        [s3Domain('variants', 'us-east-1'), { Enabled: true, OriginShieldRegion: 'us-east-1' }],
        [s3Domain('variants', 'eu-west-1'), { Enabled: true, OriginShieldRegion: 'eu-west-1' }],
      ],
    );
    for (const origin of origins) {
      // One 2 s connection and 4 s for a response, not CloudFront's 3 x 10 s and 30 s, before the replica answers.
      assert.deepEqual([origin.ConnectionAttempts, origin.ConnectionTimeout, origin.S3OriginConfig.OriginReadTimeout], [1, 2, 4], origin.Id);
    }
    assert.deepEqual([ORIGIN_CONNECTION_ATTEMPTS, ORIGIN_CONNECTION_TIMEOUT.toSeconds(), ORIGIN_RESPONSE_TIMEOUT.toSeconds()], [1, 2, 4]);
  });

  it("tells each origin's renders where every copy of the originals is, its own region's first", () => {
    const listed = groupOrigins().map((origin: any) => {
      assert.deepEqual(origin.OriginCustomHeaders.map((h: any) => h.HeaderName), [ORIGINALS_ORIGIN_HEADER, TENANT_STORE_ORIGIN_HEADER], origin.Id);
      return rendered(origin.OriginCustomHeaders[0].HeaderValue).split(',');
    });
    assert.equal(ORIGINALS_ORIGIN_HEADER, 'x-pictor-originals');
    const domain = (region: string) => `pictor-originals-<AWS::AccountId>-${region}.s3.${region}.amazonaws.com`;
    assert.deepEqual(listed, [
      ['us-east-1', 'eu-west-1', 'ap-northeast-1'].map(domain),
      ['eu-west-1', 'us-east-1', 'ap-northeast-1'].map(domain),
    ]);
    for (const copies of listed) assert.deepEqual([...copies].sort(), DEFAULT_REGIONS.map(domain).sort());
  });

  it('orders the copies of the originals nearest first, the rest as given', () => {
    const copies = DEFAULT_REGIONS.map((region) => ({ bucketName: `originals-${region}`, region }));
    const order = (region: string) => nearestFirst(copies, region).map((c) => c.region);
    assert.deepEqual(order('us-east-1'), ['us-east-1', 'eu-west-1', 'ap-northeast-1']);
    assert.deepEqual(order('ap-northeast-1'), ['ap-northeast-1', 'us-east-1', 'eu-west-1']);
    assert.deepEqual(order('sa-east-1'), DEFAULT_REGIONS, 'a region without a copy changes nothing');
  });

  it('keys the cache on the canonical parameters only: no cookie, no header, and the origin sees nothing more', () => {
    const id = distribution.DefaultCacheBehavior.CachePolicyId.Ref;
    const config = edge.toJSON().Resources[id].Properties.CachePolicyConfig;
    assert.deepEqual(config.ParametersInCacheKeyAndForwardedToOrigin, {
      CookiesConfig: { CookieBehavior: 'none' },
      EnableAcceptEncodingBrotli: false,
      EnableAcceptEncodingGzip: false,
      HeadersConfig: { HeaderBehavior: 'none' },
      QueryStringsConfig: { QueryStringBehavior: 'whitelist', QueryStrings: ['fit', 'fmt', 'h', 'q', 'w'] },
    });
    const originPolicy = edge.toJSON().Resources[distribution.DefaultCacheBehavior.OriginRequestPolicyId.Ref].Properties.OriginRequestPolicyConfig;
    assert.deepEqual([originPolicy.CookiesConfig, originPolicy.HeadersConfig, originPolicy.QueryStringsConfig], [{ CookieBehavior: 'none' }, { HeaderBehavior: 'none' }, { QueryStringBehavior: 'none' }]);
  });

  it('caps takedown-eligible tenants at 60 s in a behaviour of their own', () => {
    const [behavior] = distribution.CacheBehaviors;
    assert.equal(behavior.PathPattern, '/img/ugc/*');
    assert.equal(edge.toJSON().Resources[behavior.CachePolicyId.Ref].Properties.CachePolicyConfig.MaxTTL, 60);
    assert.deepEqual(behavior.FunctionAssociations, distribution.DefaultCacheBehavior.FunctionAssociations);
  });

  it('puts the security headers on every response, and tells viewers of private tenants that no shared cache may keep one', () => {
    const policyOf = (behavior: any) => edge.toJSON().Resources[behavior.ResponseHeadersPolicyId.Ref].Properties.ResponseHeadersPolicyConfig;
    const standard = policyOf(distribution.DefaultCacheBehavior);
    assert.deepEqual(standard.SecurityHeadersConfig, {
      ContentSecurityPolicy: { ContentSecurityPolicy: SECURITY_HEADERS['content-security-policy'], Override: true },
      ContentTypeOptions: { Override: true },
      StrictTransportSecurity: { AccessControlMaxAgeSec: HSTS_MAX_AGE, IncludeSubdomains: false, Override: true },
    });
    assert.equal(standard.CustomHeadersConfig, undefined);
    // ugc requires signed URLs: its behaviour's viewers get a private Cache-Control, CloudFront's cache the origin's.
    const ugc = policyOf(distribution.CacheBehaviors.find((b: any) => b.PathPattern === '/img/ugc/*'));
    assert.deepEqual(ugc.SecurityHeadersConfig, standard.SecurityHeadersConfig);
    assert.deepEqual(ugc.CustomHeadersConfig.Items, [{ Header: 'Cache-Control', Value: PRIVATE_CACHE_CONTROL, Override: true }]);
    assert.ok(!distribution.CacheBehaviors.some((b: any) => b.PathPattern === '/img/shop/*'), 'an open tenant needs no behaviour of its own');
  });

  it('creates the tenant stores empty, under names no policy or key changes: the registry fills them through their API', () => {
    const stores = (tenants: typeof TENANTS) => Object.values(Template.fromStack(edgeStack(() => ({ tenants }))).findResources('AWS::CloudFront::KeyValueStore')).map((r) => r.Properties);
    const rotated = parseConfig({ tenants: { ...TENANTS.tenants, ugc: { signing: { required: true, keys: { k1: SECRET, k2: SECRET + '-next' } } } } });
    assert.equal(stores(TENANTS).length, 2);
    for (const store of stores(TENANTS)) assert.equal(store.ImportSource, undefined, 'no import file in the assets bucket');
    assert.deepEqual(stores(rotated).map((s) => s.Name), stores(TENANTS).map((s) => s.Name), 'a rotation is no new store');
    for (const store of stores(TENANTS)) assert.ok(store.Name.length <= 64, store.Name);
  });

  it('runs the very viewer-function bundles the tests run, both reading the tenant store that holds policies and keys', () => {
    const functionId = (path: string) => logicalIdOf(edgeJson, path);
    const store = [{ KeyValueStoreARN: { 'Fn::GetAtt': [logicalIdOf(edgeJson, 'Edge/TenantStore'), 'Arn'] } }];
    for (const [path, code] of [['Edge/ViewerRequest', buildViewerFunction().code], ['Edge/ViewerResponse', buildViewerResponseFunction().code]] as const) {
      const fn = edgeJson.Resources[functionId(path)]!.Properties!;
      assert.equal(fn.FunctionConfig.Runtime, 'cloudfront-js-2.0', path);
      assert.equal(fn.FunctionCode, code, path);
      assert.deepEqual(fn.FunctionConfig.KeyValueStoreAssociations, store, path);
    }
    // Every behaviour, the default and each tenant's own, runs both: a tenant put at run time may land in any.
    const expected = [
      { EventType: 'viewer-request', FunctionARN: { 'Fn::GetAtt': [functionId('Edge/ViewerRequest'), 'FunctionARN'] } },
      { EventType: 'viewer-response', FunctionARN: { 'Fn::GetAtt': [functionId('Edge/ViewerResponse'), 'FunctionARN'] } },
    ];
    const behaviors = [distribution.DefaultCacheBehavior, ...distribution.CacheBehaviors];
    assert.ok(behaviors.length > 1, 'the fixture has tenants with behaviours of their own');
    for (const behavior of behaviors) assert.deepEqual(behavior.FunctionAssociations, expected, behavior.PathPattern ?? 'default');
    // The viewer's store (policies and keys) and the origin's and pipeline's (policies and configurations).
    edge.resourceCountIs('AWS::CloudFront::KeyValueStore', 2);
  });

  it('runs Lambda@Edge on nodejs22.x with memory for transforms, no tenant in its bundle and sharp for linux-x64 beside it', () => {
    const id = logicalIdOf(edgeJson, 'Edge/OriginRequest');
    const fn = edge.toJSON().Resources[id];
    // Besides it, only CDK's writer of the distribution's id for the failover region's stack.
    const others = Object.entries(edgeJson.Resources).filter(([other, r]) => r.Type === 'AWS::Lambda::Function' && other !== id);
    // And CDK's LogRetention provider, which sets the retention of its regional log groups at deploy time.
    assert.deepEqual(others.map(([, r]) => String(r.Metadata?.['aws:cdk:path'])).sort(), [
      'Pictor-edge/Custom::CrossRegionExportWriterCustomResourceProvider/Handler',
      'Pictor-edge/LogRetentionaae0aa3c5b4d4f87b02d85b201efdd8a/Resource',
    ]);
    assert.deepEqual([fn.Properties.Runtime, fn.Properties.MemorySize, fn.Properties.Timeout, fn.Properties.Environment], ['nodejs22.x', 3008, 30, undefined]);
    assert.equal(distribution.DefaultCacheBehavior.LambdaFunctionAssociations[0].EventType, 'origin-request');
    const asset = join(outdir, fn.Metadata['aws:asset:path']);
    assert.ok(existsSync(join(asset, 'node_modules', '@img', 'sharp-linux-x64')), `sharp's linux-x64 binary in ${asset}`);
    const bundle = readFileSync(join(asset, 'index.mjs'), 'utf8');
    // Policies are read from the tenant store at run time, whose ARN each origin's header carries.
    assert.ok(!bundle.includes('ugc'), 'no tenant in the bundle');
    assert.ok(!bundle.includes(SECRET), 'signing keys stay out of it');
    for (const origin of distribution.Origins) {
      const header = origin.OriginCustomHeaders.find((h: any) => h.HeaderName === TENANT_STORE_ORIGIN_HEADER);
      assert.deepEqual(header.HeaderValue, { 'Fn::GetAtt': [logicalIdOf(edgeJson, 'Edge/TenantConfigStore'), 'Arn'] }, origin.Id);
    }
    // GetKey on the configuration store only: the viewer's store holds the signing keys.
    const statements = edge.toJSON().Resources[fn.Properties.Role['Fn::GetAtt'][0]].Properties.Policies[0].PolicyDocument.Statement;
    const kvs = statements.filter((s: any) => JSON.stringify(s.Action).includes('keyvaluestore'));
    assert.deepEqual(kvs.map((s: any) => [s.Action, s.Resource]), [['cloudfront-keyvaluestore:GetKey', { 'Fn::GetAtt': [logicalIdOf(edgeJson, 'Edge/TenantConfigStore'), 'Arn'] }]]);
    const trust = edge.toJSON().Resources[fn.Properties.Role['Fn::GetAtt'][0]].Properties.AssumeRolePolicyDocument.Statement.map((s: any) => s.Principal.Service);
    assert.deepEqual(trust.sort(), ['edgelambda.amazonaws.com', 'lambda.amazonaws.com'], id);
  });

  it('blocks per-IP floods and runs the AWS managed rule groups; referers are the viewer function\'s, so WAF holds no rule or pattern set per tenant', () => {
    const acl = Object.values(edge.findResources('AWS::WAFv2::WebACL'))[0]!.Properties;
    assert.equal(acl.Scope, 'CLOUDFRONT');
    const rules = Object.fromEntries(acl.Rules.map((r: any) => [r.Name, r]));
    assert.deepEqual(Object.keys(rules), ['AWSManagedRulesAmazonIpReputationList', 'AWSManagedRulesCommonRuleSet', 'AWSManagedRulesKnownBadInputsRuleSet', 'RatePerIp']);
    assert.deepEqual(rules.RatePerIp.Statement.RateBasedStatement, { AggregateKeyType: 'IP', EvaluationWindowSec: 300, Limit: 1200 });
    edge.resourceCountIs('AWS::WAFv2::RegexPatternSet', 0);
  });

  it('alarms on the hit ratio, the 5xx rate, and Lambda@Edge errors and throttles', () => {
    const alarms = Object.values(edge.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);
    const byMetric = Object.fromEntries(alarms.map((a) => [a.MetricName, [a.ComparisonOperator, a.Threshold, a.Dimensions.find((d: any) => d.Name === 'Region').Value]]));
    assert.deepEqual(byMetric, {
      CacheHitRate: ['LessThanThreshold', 90, 'Global'],
      '5xxErrorRate': ['GreaterThanThreshold', 1, 'Global'],
      LambdaExecutionError: ['GreaterThanOrEqualToThreshold', 10, 'Global'],
      LambdaLimitExceededError: ['GreaterThanOrEqualToThreshold', 1, 'Global'],
    });
    // Its own topic, and the subscriber's topic in us-east-1.
    for (const alarm of alarms) assert.deepEqual(alarm.AlarmActions.map(rendered).sort(), [`<${logicalIdOf(edgeJson, 'Alarms/Notify/Topic')}>`, PAGER_TOPIC].sort());
    edge.resourceCountIs('AWS::CloudFront::MonitoringSubscription', 1);
  });
});

describe('ImageDelivery: pipeline', () => {
  it('bundles every task with the local esbuild into its own asset, sharp only beside the tasks that render', () => {
    const functions = Object.values(pipeline.findResources('AWS::Lambda::Function')).filter((f) => f.Properties.Environment?.Variables?.PICTOR_TASK);
    assert.deepEqual(functions.map((f) => f.Properties.Environment.Variables.PICTOR_TASK).sort(), [...TASKS].sort());
    for (const fn of functions) {
      const asset = join(outdir, fn.Metadata['aws:asset:path']);
      const task = fn.Properties.Environment.Variables.PICTOR_TASK;
      assert.ok(existsSync(join(asset, 'index.mjs')), task);
      if (task === 'render-variants') assert.ok(existsSync(join(asset, 'node_modules', '@img', 'sharp-linux-x64')), task);
      // No source map unless the app asks (-c pictor:sourceMaps=true), and no flag to read one.
      if (task === 'tally-rerender') assert.deepEqual(readdirSync(asset).sort(), ['index.mjs'], task);
      assert.equal(fn.Properties.Environment.Variables.NODE_OPTIONS, undefined, task);
      assert.deepEqual([fn.Properties.Runtime, fn.Properties.Handler, fn.Properties.TracingConfig.Mode], ['nodejs22.x', 'index.handler', 'Active'], task);
      assert.ok(fn.Properties.DeadLetterConfig.TargetArn, `${task}: a DLQ for asynchronous invocations`);
      // Tenants are read from the tenant store at run time: none in an environment or a bundle, and no key.
      assert.equal(fn.Properties.Environment.Variables.PICTOR_TENANTS, undefined, task);
      assert.ok(fn.Properties.Environment.Variables.PICTOR_TENANT_STORE_ARN, task);
      const bundle = readFileSync(join(asset, 'index.mjs'), 'utf8');
      assert.ok(!bundle.includes('PICTOR_TENANTS"] ??='), task);
      assert.ok(!bundle.includes(SECRET), `${task}: signing keys`);
    }
  });

  it("bundles the control API's handler into its own asset, without sharp, and names it the API's function, not a task", () => {
    const fn = at(pipelineJson, 'ControlApi/Function');
    const asset = join(outdir, pipelineJson.Resources[logicalIdOf(pipelineJson, 'ControlApi/Function')]!.Metadata!['aws:asset:path']);
    assert.deepEqual(readdirSync(asset), ['index.mjs']);
    assert.match(readFileSync(join(asset, 'index.mjs'), 'utf8'), /export\s*\{[^}]*\bhandler\b/);
    assert.equal(fn.Environment.Variables.PICTOR_FUNCTION, 'control-api');
    assert.equal(fn.Environment.Variables.PICTOR_TASK, undefined);
    assert.deepEqual([fn.Runtime, fn.Handler], ['nodejs22.x', 'index.handler']);
  });

  it('routes events to the three state machines, with retries and a DLQ on every rule', () => {
    pipeline.resourceCountIs('AWS::StepFunctions::StateMachine', 3);
    const rules = Object.values(pipeline.findResources('AWS::Events::Rule')).map((r) => r.Properties);
    assert.equal(rules.length, 3);
    for (const rule of rules) {
      const [target] = rule.Targets;
      assert.match(target.Arn.Ref, /StateMachine/);
      assert.deepEqual(target.RetryPolicy, { MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 185 });
      assert.deepEqual(target.DeadLetterConfig.Arn, { 'Fn::GetAtt': [logicalIdOf(pipelineJson, 'Pipeline/DeadLetters'), 'Arn'] });
    }
  });

  it("alarms on failed executions and on every task's errors and throttles, and draws the dashboard", () => {
    const alarms = Object.values(pipeline.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);
    assert.equal(alarms.filter((a) => a.MetricName === 'ExecutionsFailed').length, 3);
    assert.equal(alarms.filter((a) => a.MetricName === 'Errors').length, TASKS.length);
    assert.equal(alarms.filter((a) => a.MetricName === 'Throttles').length, TASKS.length);
    const body = JSON.stringify(Object.values(pipeline.findResources('AWS::CloudWatch::Dashboard'))[0]!.Properties.DashboardBody);
    for (const widget of ['Cache-hit ratio', 'Edge transforms', 'Upload renders', 'Invalidations requested', 'Estimated cost']) assert.ok(body.includes(widget), widget);
  });

  it('confines the transform roles: Lambda@Edge reads only published originals, in every copy, and lists nothing; the renderer writes only to the staging area', () => {
    const roleId = logicalIdOf(edgeJson, 'Edge/OriginRequestRole');
    const edgeRole = edge.toJSON().Resources[roleId].Properties.Policies[0].PolicyDocument.Statement;
    assert.deepEqual(edgeRole.map((s: any) => [s.Effect, s.Action]), [
      ['Allow', 's3:GetObject'],
      ['Allow', ['s3:GetObject', 's3:PutObject', 's3:DeleteObject']],
      ['Deny', 's3:*'],
      ['Allow', 'cloudfront-keyvaluestore:GetKey'],
    ]);
    const objects = (role: string, region: string, pattern: string) => `arn:<AWS::Partition>:s3:::pictor-${role}-<AWS::AccountId>-${region}/${pattern}`;
    // Snapshots and pointers in the primary and every replica, and no upload anywhere.
    assert.deepEqual(resourcesOf(edgeRole[0]), DEFAULT_REGIONS.flatMap((region) => [objects('originals', region, '_versions/*'), objects('originals', region, '_published/*')]));
    // Both origins' variants, never what is staged in either.
    assert.deepEqual(resourcesOf(edgeRole[1]), ['us-east-1', 'eu-west-1'].map((region) => objects('variants', region, '*')));
    assert.deepEqual(resourcesOf(edgeRole[2]), ['us-east-1', 'eu-west-1'].map((region) => objects('variants', region, '_staging/*')));
    assert.doesNotMatch(JSON.stringify(edgeRole), /s3:List/);
    const render = pipeline.toJSON().Resources[logicalIdOf(pipelineJson, 'Pipeline/RenderVariantsRole/DefaultPolicy')].Properties.PolicyDocument.Statement;
    const s3 = render.filter((s: any) => JSON.stringify(s.Action).includes('s3:'));
    assert.deepEqual(s3.map((s: any) => s.Action), ['s3:GetObject', 's3:PutObject']);
    assert.match(JSON.stringify(s3[1].Resource), /\/_staging\/\*/);
  });

  it("gives each tenant a role that reaches only that tenant's prefix", () => {
    const policy = pipeline.toJSON().Resources[logicalIdOf(pipelineJson, 'Tenant-shop/DefaultPolicy')].Properties.PolicyDocument.Statement;
    const text = JSON.stringify(policy);
    assert.match(text, /\/shop\/\*/);
    assert.doesNotMatch(text, /ugc/);
    assert.deepEqual(policy[2].Condition, { StringLike: { 's3:prefix': ['shop/*'] } });
    // Uploads only by the control API's presigned POST (its limits hold), erasure only by a takedown.
    assert.doesNotMatch(text, /s3:PutObject|s3:DeleteObject/);
  });

  it('lets only this distribution read either origin\'s variants, through CloudFront\'s service principal, and never what is staged', () => {
    const distributionId = Object.keys(edge.findResources('AWS::CloudFront::Distribution'))[0]!;
    const policies: [string, CfnTemplate, string][] = [
      ['pipeline', pipelineJson, 'Pipeline/Variants/Policy'],
      ['replica-eu-west-1', replicas[0]!.toJSON() as CfnTemplate, 'Variants/Policy'],
    ];
    for (const [stack, template, path] of policies) {
      const policy = template.Resources[logicalIdOf(template, path)]!.Properties!;
      const bucket = logicalIdOf(template, path.replace(/\/Policy$/, ''));
      assert.deepEqual(policy.Bucket, { Ref: bucket }, stack);
      const statements = policy.PolicyDocument.Statement;
      const allows = statements.filter((s: any) => s.Effect === 'Allow');
      assert.equal(allows.length, 1, `${stack}: CloudFront's read is the one grant`);
      const [read] = allows;
      assert.deepEqual([read.Principal, read.Action, resourcesOf(read)], [{ Service: 'cloudfront.amazonaws.com' }, 's3:GetObject', [`<${bucket}.Arn>/*`]], stack);
      assert.deepEqual(Object.keys(read.Condition), ['StringEquals'], stack);
      assert.deepEqual(Object.keys(read.Condition.StringEquals), ['AWS:SourceArn'], stack);
      // The edge stack's distribution, imported (same region) or read from CDK's cross-region export (the replica).
      const sourceArn = rendered(read.Condition.StringEquals['AWS:SourceArn']);
      assert.match(sourceArn, /^arn:<AWS::Partition>:cloudfront::<AWS::AccountId>:distribution\/<[^>]+>$/, stack);
      assert.ok(sourceArn.includes(`Ref${distributionId}`), `${stack}: ${sourceArn} names ${distributionId}`);
      const denies = statements.filter((s: any) => s.Effect === 'Deny');
      assert.ok(
        denies.some((s: any) => s.Principal?.Service === 'cloudfront.amazonaws.com' && s.Action === 's3:GetObject' && resourcesOf(s).join() === `<${bucket}.Arn>/_staging/*`),
        `${stack}: CloudFront never reads the staging area`,
      );
      assert.ok(denies.some((s: any) => s.Condition?.Bool?.['aws:SecureTransport'] === 'false'), `${stack}: TLS only`);
      assert.doesNotMatch(JSON.stringify(statements), /CanonicalUser/, stack);
    }
  });

  it('keeps the failover variants beside the first replica, private, encrypted, logged and expiring like the primary variants; the other replicas hold none', () => {
    const replicaJson = replicas[0]!.toJSON() as CfnTemplate;
    const variants = at(replicaJson, 'Variants');
    assert.deepEqual(variants.BucketName, bucketName('variants', 'eu-west-1'));
    assert.deepEqual(variants.PublicAccessBlockConfiguration, { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    assert.equal(variants.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm, 'AES256');
    assert.deepEqual(variants.OwnershipControls, { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
    assert.deepEqual(variants.LoggingConfiguration, { DestinationBucketName: { Ref: logicalIdOf(replicaJson, 'AccessLogs') }, LogFilePrefix: 'variants/' });
    assert.deepEqual(variants.LifecycleConfiguration, at(pipelineJson, 'Pipeline/Variants').LifecycleConfiguration);
    const logDelivery = at(replicaJson, 'AccessLogs/Policy').PolicyDocument.Statement.filter((s: any) => s.Principal?.Service === 'logging.s3.amazonaws.com');
    assert.ok(
      logDelivery.some((s: any) => s.Condition.ArnLike['aws:SourceArn']['Fn::GetAtt'][0] === logicalIdOf(replicaJson, 'Variants') && resourcesOf(s).join().endsWith('/variants/*')),
      'S3 may deliver the variants bucket\'s access logs',
    );
    replicas[0]!.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logicalIdOf(replicaJson, 'Variants') },
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    assert.equal(delivery.failoverVariants.stack, delivery.replicaStacks[0]);
    const second = replicas[1]!.toJSON() as CfnTemplate;
    const buckets = Object.values(second.Resources).filter((r) => r.Type === 'AWS::S3::Bucket');
    assert.deepEqual(buckets.map((b) => JSON.stringify(b.Properties!.BucketName)).sort(), [bucketName('access-logs', 'ap-northeast-1'), bucketName('originals', 'ap-northeast-1')].map((n) => JSON.stringify(n)).sort());
    assert.doesNotMatch(JSON.stringify(second), /pictor-variants-|cloudfront\.amazonaws\.com/);
  });

  it('tells every task where the failover variants are, and lets publishing and takedowns reach them', () => {
    const functions = Object.values(pipeline.findResources('AWS::Lambda::Function')).filter((f) => f.Properties.Environment?.Variables?.PICTOR_TASK);
    assert.equal(functions.length, TASKS.length);
    for (const fn of functions) {
      const replicasOf = JSON.parse(rendered(fn.Properties.Environment.Variables.PICTOR_VARIANT_REPLICAS));
      assert.deepEqual(replicasOf, [{ bucket: 'pictor-variants-<AWS::AccountId>-eu-west-1', region: 'eu-west-1' }], fn.Properties.Environment.Variables.PICTOR_TASK);
    }
    const failoverBucket = 'arn:<AWS::Partition>:s3:::pictor-variants-<AWS::AccountId>-eu-west-1';
    const actionsOn = (task: string, resource = `${failoverBucket}/*`) => {
      const statements = pipeline.toJSON().Resources[logicalIdOf(pipelineJson, `Pipeline/${task}Role/DefaultPolicy`)].Properties.PolicyDocument.Statement;
      return statements.filter((s: any) => s.Effect === 'Allow' && resourcesOf(s).includes(resource)).flatMap((s: any) => [s.Action].flat()).sort();
    };
    // Publishing copies into place and empties `latest` there; it reads only the primary's staging.
    assert.deepEqual(actionsOn('PublishVersion'), ['s3:DeleteObject', 's3:PutObject']);
    assert.deepEqual(actionsOn('PublishVersion', failoverBucket), ['s3:ListBucket']);
    // The inventory lists every version there and touches no object.
    assert.deepEqual(actionsOn('InventoryImage'), []);
    assert.deepEqual(actionsOn('InventoryImage', failoverBucket), ['s3:ListBucketVersions']);
    assert.deepEqual(actionsOn('EraseObjects'), ['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:GetObject']);
    assert.deepEqual(actionsOn('RenderVariants'), [], 'the renderer stages in the primary only');
  });
});

describe('ImageDelivery: the state machines the twin runs', () => {
  let twin: Twin;
  let directory: string;
  before(async () => {
    directory = mkdtempSync(join(tmpdir(), 'pictor-asl-'));
    twin = await startTwin({ config: TENANTS, dataDir: directory, logLevel: 'SILENT' });
  });
  after(async () => {
    await twin.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('are the deployed definitions, tokens resolved to the same names', () => {
    const deployed = stateMachineDefinitions(pipelineJson, localNames(pipelineJson));
    const running = twin.pipeline!.stepFunctions.definitions;
    assert.deepEqual([...running.keys()].sort(), [...deployed.keys()].sort());
    assert.equal(deployed.size, 3);
    for (const [id, definition] of deployed) assert.deepEqual(running.get(id), definition, id);
  });
});

describe('ImageDelivery: operating it', () => {
  it('makes each stack a child of the app, so that `cdk synth <name>` selects it by the name CloudFormation shows', () => {
    const stacks = [delivery.edgeStack, ...delivery.replicaStacks, delivery.pipelineStack];
    assert.deepEqual(stacks.map((s) => s.node.path), ['Pictor-edge', 'Pictor-replica-eu-west-1', 'Pictor-replica-ap-northeast-1', 'Pictor-pipeline']);
    for (const stack of stacks) assert.equal(stack.node.path, stack.stackName);
  });

  it('outputs what an operator needs: the distribution, the dashboard, the buckets, tables, state machines and alarm topics', () => {
    const outputs = (template: CfnTemplate) => (template as CfnTemplate & { Outputs: Record<string, { Value: unknown }> }).Outputs;
    const edgeOutputs = outputs(edgeJson);
    const distribution = logicalIdOf(edgeJson, 'Edge/Distribution');
    assert.deepEqual(edgeOutputs.DistributionDomainName!.Value, { 'Fn::GetAtt': [distribution, 'DomainName'] });
    assert.deepEqual(edgeOutputs.DistributionId!.Value, { Ref: distribution });
    assert.deepEqual(edgeOutputs.KeyValueStoreArn!.Value, { 'Fn::GetAtt': [logicalIdOf(edgeJson, 'Edge/TenantStore'), 'Arn'] });
    assert.deepEqual(edgeOutputs.TenantConfigStoreArn!.Value, { 'Fn::GetAtt': [logicalIdOf(edgeJson, 'Edge/TenantConfigStore'), 'Arn'] });
    assert.deepEqual(edgeOutputs.AlarmTopicArn!.Value, { Ref: logicalIdOf(edgeJson, 'Alarms/Notify/Topic') });
    const pipelineOutputs = outputs(pipelineJson);
    for (const [output, path] of [
      ['OriginalsBucket', 'Pipeline/Originals'],
      ['VariantsBucket', 'Pipeline/Variants'],
      ['AuditBucket', 'Pipeline/Audit'],
      ['ReportsBucket', 'Pipeline/Reports'],
      ['VersionsTable', 'Pipeline/Versions'],
      ['IdempotencyTable', 'Pipeline/Idempotency'],
      ['RenderOnUploadArn', 'Pipeline/RenderOnUpload/StateMachine'],
      ['TakedownBatchArn', 'Pipeline/TakedownBatch/StateMachine'],
      ['CatalogueRerenderArn', 'Pipeline/CatalogueRerender/StateMachine'],
      ['AlarmTopicArn', 'Observability/Notify/Topic'],
    ] as const) {
      assert.match(JSON.stringify(pipelineOutputs[output]?.Value), new RegExp(`"${logicalIdOf(pipelineJson, path)}"`), output);
    }
    const dashboard = rendered(pipelineOutputs.DashboardUrl!.Value);
    assert.equal(dashboard, `https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#dashboards/dashboard/<${logicalIdOf(pipelineJson, 'Observability/Dashboard')}>`);
    assert.ok(Object.keys(outputs(replicas[0]!.toJSON() as CfnTemplate)).includes('FailoverVariantsBucket'));
  });

  it("subscribes the operator's email to both alarm topics, and sends the pipeline's alarms to a subscriber topic in its region", () => {
    for (const [template, topic] of [[edgeJson, 'Alarms/Notify/Topic'], [pipelineJson, 'Observability/Notify/Topic']] as const) {
      const subscriptions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::SNS::Subscription').map((r) => r.Properties!);
      assert.deepEqual(subscriptions.map((p) => [p.Protocol, p.Endpoint, p.TopicArn]), [['email', OPS_EMAIL, { Ref: logicalIdOf(template, topic) }]], topic);
    }
    const alarms = Object.values(pipeline.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);
    for (const alarm of alarms) assert.ok(alarm.AlarmActions.map(rendered).includes(PAGER_TOPIC), 'the primary region is us-east-1 here');
  });

  it("gives the origin-request function's log group a retention in every region Lambda@Edge may run it", () => {
    const retentions = Object.values(edgeJson.Resources).filter((r) => r.Type === 'Custom::LogRetention').map((r) => r.Properties!);
    assert.deepEqual(retentions.map((p) => p.LogGroupRegion), [...EDGE_LOG_REGIONS]);
    const fn = logicalIdOf(edgeJson, 'Edge/OriginRequest');
    for (const p of retentions) {
      assert.equal(rendered(p.LogGroupName), `/aws/lambda/us-east-1.<${fn}>`);
      assert.equal(p.RetentionInDays, 90);
    }
    // Its role reaches those groups, and no log group of any other function.
    const role = logicalIdOf(edgeJson, 'OriginRequestLogs/Role');
    const policy = Object.values(edgeJson.Resources).find((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties!.Roles) === JSON.stringify([{ Ref: role }]))!;
    const named = policy.Properties!.PolicyDocument.Statement.filter((s: any) => s.Resource !== '*').flatMap(resourcesOf);
    assert.deepEqual(named, EDGE_LOG_REGIONS.map((region) => `arn:<AWS::Partition>:logs:${region}:<AWS::AccountId>:log-group:/aws/lambda/us-east-1.<${fn}>:*`));
  });
});
