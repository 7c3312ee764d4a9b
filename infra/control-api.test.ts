import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { App, Validations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { API_ROUTES, routeKey, type RouteDeclaration } from '../control-api/contract.ts';
import { parseConfig } from '../core/tenant-config.ts';
import { PICTOR_EVENTS, PICTOR_SOURCE } from '../events/schemas/pictor-events.ts';
import { authorize, type PolicyStatement } from '../local/iam/policy.ts';
import { logicalIdOf, resolveTokens, type CfnTemplate } from '../local/pipeline/template.ts';
import { PIPELINE_ENVIRONMENT } from '../tasks/registry.ts';
import { addControlApiRegions, CONTROL_API_FUNCTION } from './control-api.ts';
import { ImageDelivery, type ImageDeliveryProps } from './image-delivery.ts';
import { PipelineStack } from './pipeline-stack.ts';

const ACCOUNT = '123456789012';
const TENANTS = parseConfig({ tenants: { shop: {}, ugc: {} } });
const DOMAIN = {
  name: 'api.images.example.com',
  hostedZoneId: 'Z0123456789ABCDEFGHIJ',
  zoneName: 'images.example.com',
  certificateArns: {
    'us-east-1': `arn:aws:acm:us-east-1:${ACCOUNT}:certificate/11111111-2222-3333-4444-555555555555`,
    'eu-west-1': `arn:aws:acm:eu-west-1:${ACCOUNT}:certificate/66666666-7777-8888-9999-000000000000`,
  },
};
const ALSO_ADMIN = `arn:aws:iam::${ACCOUNT}:role/platform-admin`;
const APP = 'https://app.example.com';

let pipeline: CfnTemplate;
let regional: CfnTemplate;
let warnings: string[];

/** One synthesis: the pipeline's stack and one more API region, both with a domain, under cdk-nag; stand-in code. */
before(() => {
  const app = new App({ context: { 'aws:cdk:enable-path-metadata': true }, builtinCloudFormationValidation: false });
  const code = () => lambda.Code.fromInline('// stand-in');
  const stack = new PipelineStack(app, 'Pictor-pipeline', {
    env: { account: ACCOUNT, region: 'us-east-1' },
    crossRegionReferences: true,
    tenants: TENANTS,
    edge: {
      distributionId: 'E123',
      url: 'https://d111.cloudfront.net',
      tenantStoreArn: `arn:aws:cloudfront::${ACCOUNT}:key-value-store/TenantConfigStore`,
      viewerStoreArn: `arn:aws:cloudfront::${ACCOUNT}:key-value-store/TenantStore`,
    },
    taskCode: code,
    originRequest: { functionName: 'origin-request', memoryMb: 3008 },
    controlApi: { admins: [ALSO_ADMIN], domain: { ...DOMAIN, certificateArn: DOMAIN.certificateArns['us-east-1'] }, browserOrigins: [APP] },
  });
  const [other] = addControlApiRegions(app, { id: 'Pictor', regions: ['eu-west-1'], account: ACCOUNT, pipelineStack: stack, admins: [ALSO_ADMIN], domain: DOMAIN, code: code() });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  // Throws on any cdk-nag finding that no acknowledgement explains.
  const assembly = app.synth();
  pipeline = assembly.getStackByName(stack.stackName).template as CfnTemplate;
  regional = assembly.getStackByName(other!.stackName).template as CfnTemplate;
  warnings = assembly.stacks.flatMap((s) => s.messages.filter((m) => m.level === 'warning').map((m) => `${s.stackName} ${m.id}: ${String(m.entry.data)}`));
});

const ofType = (template: CfnTemplate, type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);
const resolved = (value: unknown) => resolveTokens(value, pipeline, {});
const routes = Object.values(API_ROUTES) as RouteDeclaration[];

/** A request's execute-api ARN in the pipeline's API, its path's parameters filled in. */
function requestArn(route: RouteDeclaration, tenant: string): string {
  const apiId = ofType(pipeline, 'AWS::ApiGatewayV2::Api')[0]![0];
  const path = route.path.replace('{tenant}', tenant).replace(/\{\w+\}/g, 'x1');
  return `arn:aws:execute-api:us-east-1:${ACCOUNT}:${apiId}/$default/${route.method}${path}`;
}

/** Every statement of every policy a role has, inline or attached, tokens resolved. */
function statementsOf(roleId: string): PolicyStatement[] {
  const inline = (pipeline.Resources[roleId]!.Properties!.Policies ?? []).flatMap((p: any) => p.PolicyDocument.Statement);
  const attached = ofType(pipeline, 'AWS::IAM::Policy')
    .filter(([, r]) => (r.Properties!.Roles as any[]).some((ref) => ref.Ref === roleId))
    .flatMap(([, r]) => r.Properties!.PolicyDocument.Statement);
  return resolved([...inline, ...attached]) as PolicyStatement[];
}

const roleOf = (constructPath: string) => logicalIdOf(pipeline, constructPath);
const principal = (roleId: string) => ({ arn: `arn:aws:iam::${ACCOUNT}:role/${roleId}`, account: ACCOUNT });
const mayInvoke = (roleId: string, route: RouteDeclaration, tenant: string) =>
  authorize({ principal: principal(roleId), action: 'execute-api:Invoke', resource: requestArn(route, tenant) }, { identity: statementsOf(roleId) }).effect === 'Allow';

describe('ControlApi: the HTTP API', () => {
  it('has one route per API_ROUTES entry, each signed with SigV4 (AWS_IAM) but the public health check', () => {
    const declared = ofType(pipeline, 'AWS::ApiGatewayV2::Route').map(([, r]) => [r.Properties!.RouteKey, r.Properties!.AuthorizationType]);
    assert.equal(ofType(pipeline, 'AWS::ApiGatewayV2::Api').length, 1);
    assert.equal(ofType(pipeline, 'AWS::ApiGatewayV2::Api')[0]![1].Properties!.ProtocolType, 'HTTP');
    assert.deepEqual(declared.sort(), routes.map((r) => [routeKey(r), r.access === 'public' ? 'NONE' : 'AWS_IAM']).sort());
    assert.deepEqual(ofType(regional, 'AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties!.RouteKey).sort(), routes.map(routeKey).sort());
  });

  it("integrates every route with one Lambda proxy integration of payload format 2.0, to the API's function", () => {
    const integrations = ofType(pipeline, 'AWS::ApiGatewayV2::Integration');
    assert.equal(integrations.length, 1);
    const [id, integration] = integrations[0]!;
    assert.equal(integration.Properties!.IntegrationType, 'AWS_PROXY');
    assert.equal(integration.Properties!.PayloadFormatVersion, '2.0');
    assert.deepEqual(integration.Properties!.IntegrationUri, { 'Fn::GetAtt': [logicalIdOf(pipeline, 'ControlApi/Function'), 'Arn'] });
    for (const [, route] of ofType(pipeline, 'AWS::ApiGatewayV2::Route')) assert.deepEqual(route.Properties!.Target, { 'Fn::Join': ['', ['integrations/', { Ref: id }]] });
  });

  it('logs every request with its caller, route and status, kept for a while, and throttles the default stage', () => {
    const [[, stage]] = ofType(pipeline, 'AWS::ApiGatewayV2::Stage') as [[string, any]];
    assert.equal(stage.Properties.StageName, '$default');
    const format = JSON.parse(stage.Properties.AccessLogSettings.Format);
    assert.deepEqual([format.caller, format.routeKey, format.status, format.requestId], ['$context.identity.userArn', '$context.routeKey', '$context.status', '$context.requestId']);
    const logGroup = pipeline.Resources[stage.Properties.AccessLogSettings.DestinationArn['Fn::GetAtt'][0]]!;
    assert.ok(logGroup.Properties!.RetentionInDays > 0);
    assert.ok(stage.Properties.DefaultRouteSettings.ThrottlingRateLimit > 0 && stage.Properties.DefaultRouteSettings.ThrottlingBurstLimit > 0);
  });

  it("gives the function the tasks' pipeline environment, the API's own variables, and no PICTOR_TASK", () => {
    const variables = pipeline.Resources[logicalIdOf(pipeline, 'ControlApi/Function')]!.Properties!.Environment.Variables;
    const task = Object.values(pipeline.Resources).find((r) => r.Type === 'AWS::Lambda::Function' && r.Properties?.Environment?.Variables?.PICTOR_TASK === 'probe-original')!;
    for (const name of PIPELINE_ENVIRONMENT) assert.deepEqual(variables[name], task.Properties!.Environment.Variables[name], name);
    assert.equal(variables.PICTOR_TASK, undefined);
    assert.equal(variables.PICTOR_FUNCTION, CONTROL_API_FUNCTION);
    assert.equal(variables.PICTOR_VIEWER_STORE_ARN, `arn:aws:cloudfront::${ACCOUNT}:key-value-store/TenantStore`);
    assert.equal(variables.PICTOR_SIGNING_SECRETS_PREFIX, 'pictor/signing-keys/');
    assert.equal(variables.PICTOR_EDGE_URL, 'https://d111.cloudfront.net');
    // The other region's function reaches the pipeline's region, not its own.
    const remote = ofType(regional, 'AWS::Lambda::Function').find(([, r]) => r.Properties!.Environment?.Variables?.PICTOR_FUNCTION)![1];
    assert.deepEqual([variables.PICTOR_PIPELINE_REGION, remote.Properties!.Environment.Variables.PICTOR_PIPELINE_REGION], ['us-east-1', 'us-east-1']);
    const machines = JSON.parse(resolved(variables.PICTOR_STATE_MACHINES));
    assert.deepEqual(Object.keys(machines).sort(), ['CatalogueRerender', 'RenderOnUpload', 'TakedownBatch']);
    for (const [name, arn] of Object.entries(machines)) assert.match(String(arn), new RegExp(`:stateMachine:Pipeline${name}StateMachine`), name);
    const tenantRoles = JSON.parse(resolved(variables.PICTOR_API_TENANT_ROLES));
    assert.deepEqual(Object.values(tenantRoles).sort(), ['shop', 'ugc']);
    assert.deepEqual(Object.keys(tenantRoles).map((arn) => arn.split(':role/')[1]).sort(), [roleOf('Tenant-shop'), roleOf('Tenant-ugc')].sort());
    const admins = JSON.parse(resolved(variables.PICTOR_API_ADMINS)) as string[];
    assert.deepEqual([admins[0]!.split(':role/')[1], admins[1]], [roleOf('ApiAdmin'), ALSO_ADMIN]);
  });

  it('outputs the API URL, the admin role and each tenant role', () => {
    const outputs = Object.keys((pipeline as any).Outputs);
    for (const name of ['ControlApiUrl', 'ApiAdminRoleArn', 'TenantRoleShop', 'TenantRoleUgc']) assert.ok(outputs.includes(name), name);
    assert.ok(Object.keys((regional as any).Outputs).includes('ControlApiUrl'));
  });

  it('leaves no cdk-nag finding or CDK warning unacknowledged', () => {
    assert.deepEqual(warnings, []);
  });
});

describe('ControlApi: who may call what, in IAM', () => {
  it("lets a tenant's role invoke its own tenant's routes, and neither another tenant's nor an admin route", () => {
    const shop = roleOf('Tenant-shop');
    for (const route of routes.filter((r) => r.access === 'tenant')) {
      assert.ok(mayInvoke(shop, route, 'shop'), `shop: ${routeKey(route)}`);
      assert.ok(!mayInvoke(shop, route, 'ugc'), `shop on ugc: ${routeKey(route)}`);
      // A tenant whose id begins with another's gets nothing of it.
      assert.ok(!mayInvoke(shop, route, 'shopping'), `shop on shopping: ${routeKey(route)}`);
    }
    for (const route of routes.filter((r) => r.access === 'admin')) assert.ok(!mayInvoke(shop, route, 'shop'), `shop: ${routeKey(route)}`);
  });

  it('lets the ApiAdmin role invoke every route, for any tenant', () => {
    const admin = roleOf('ApiAdmin');
    for (const route of routes) for (const tenant of ['shop', 'ugc']) assert.ok(mayInvoke(admin, route, tenant), `${tenant}: ${routeKey(route)}`);
  });

  it("grants the tenants' roles and the admin role Invoke on the other region's API too", () => {
    const invokes = ofType(regional, 'AWS::IAM::Policy').filter(([, r]) => JSON.stringify(r.Properties!.PolicyDocument).includes('execute-api:Invoke'));
    assert.equal(invokes.length, 3);
  });
});

describe("ControlApi: the function's role", () => {
  const role = () => roleOf('ControlApi/Role');
  const may = (action: string, resource: string, context: Record<string, string> = {}) =>
    authorize({ principal: principal(role()), action, resource, context }, { identity: statementsOf(role()) }).effect === 'Allow';
  const arnOf = (constructPath: string) => resolved({ 'Fn::GetAtt': [logicalIdOf(pipeline, constructPath), 'Arn'] }) as string;

  it('may sign uploads of originals and HEAD them, never under the system prefix', () => {
    const originals = arnOf('Pipeline/Originals');
    assert.ok(may('s3:PutObject', `${originals}/shop/cat`));
    assert.ok(may('s3:GetObject', `${originals}/shop/cat`));
    assert.ok(may('s3:ListBucket', originals), 'a missing original answers 404, not 403');
    for (const action of ['s3:PutObject', 's3:GetObject']) assert.ok(!may(action, `${originals}/_staging/shop/cat`), action);
    assert.ok(!may('s3:PutObject', `${arnOf('Pipeline/Variants')}/shop/cat`));
    assert.ok(!may('s3:DeleteObject', `${originals}/shop/cat`));
  });

  it("reads the version map and tombstones, lists the variants, and writes neither table", () => {
    for (const table of ['Pipeline/Versions', 'Pipeline/Tombstones']) {
      assert.ok(may('dynamodb:GetItem', arnOf(table)), table);
      assert.ok(!may('dynamodb:PutItem', arnOf(table)) && !may('dynamodb:UpdateItem', arnOf(table)), table);
    }
    assert.ok(may('s3:ListBucket', arnOf('Pipeline/Variants')));
  });

  it('sends "Takedown Requested" and "Rerender Requested" to the bus, which admits it for those two and no other', () => {
    const [busId, bus] = ofType(pipeline, 'AWS::Events::EventBus')[0]!;
    const busArn = resolved({ 'Fn::GetAtt': [busId, 'Arn'] }) as string;
    const resource = resolved(bus.Properties!.Policy.Statement) as PolicyStatement[];
    const send = (detailType: string) =>
      authorize(
        { principal: principal(role()), action: 'events:PutEvents', resource: busArn, context: { 'events:source': PICTOR_SOURCE, 'events:detail-type': detailType } },
        { identity: statementsOf(role()), resource },
      ).effect === 'Allow';
    const admitted = Object.keys(PICTOR_EVENTS).filter(send);
    assert.deepEqual(admitted.sort(), ['Rerender Requested', 'Takedown Requested']);
  });

  it("admits the other region's API role to the bus by its fixed name, for the two requests alone, without naming it as an Allow's principal", () => {
    const [, bus] = ofType(pipeline, 'AWS::Events::EventBus')[0]!;
    // As the other region's stack names it, from the bus's fixed name.
    const busArn = `arn:aws:events:us-east-1:${ACCOUNT}:event-bus/${bus.Properties!.Name}`;
    const other = `arn:aws:iam::${ACCOUNT}:role/Pictor-api-eu-west-1`;
    const statements = resolved(bus.Properties!.Policy.Statement) as any[];
    // The pipeline's stack deploys before the role exists: no Principal may name it.
    assert.deepEqual(statements.filter((s) => JSON.stringify(s.Principal ?? '').includes('Pictor-api-eu-west-1')), []);
    const excepted = statements.filter((s) => s.Effect === 'Deny' && [s.Condition?.ArnNotEquals?.['aws:PrincipalArn'] ?? []].flat().includes(other));
    assert.deepEqual(excepted.map((s) => s.Condition.StringEquals['events:detail-type']).sort(), ['Rerender Requested', 'Takedown Requested']);

    const [regionalRoleId, regionalRole] = ofType(regional, 'AWS::IAM::Role').find(([, r]) => r.Properties!.RoleName === 'Pictor-api-eu-west-1') ?? [];
    assert.ok(regionalRole, 'the role has that name');
    const identity = resolveTokens(
      ofType(regional, 'AWS::IAM::Policy')
        .filter(([, r]) => (r.Properties!.Roles as any[]).some((ref) => ref.Ref === regionalRoleId))
        .flatMap(([, r]) => r.Properties!.PolicyDocument.Statement),
      regional,
      {},
    ) as PolicyStatement[];
    const send = (detailType: string) =>
      authorize(
        { principal: { arn: other, account: ACCOUNT }, action: 'events:PutEvents', resource: busArn, context: { 'events:source': PICTOR_SOURCE, 'events:detail-type': detailType } },
        { identity, resource: statements as PolicyStatement[] },
      ).effect === 'Allow';
    assert.deepEqual(Object.keys(PICTOR_EVENTS).filter(send).sort(), ['Rerender Requested', 'Takedown Requested']);
  });
});

describe('ControlApi: a domain across regions', () => {
  it('probes each region\'s execute-api endpoint on /v1/health over HTTPS', () => {
    const checks = [...ofType(pipeline, 'AWS::Route53::HealthCheck'), ...ofType(regional, 'AWS::Route53::HealthCheck')].map(([, r]) => r.Properties!.HealthCheckConfig);
    assert.equal(checks.length, 2);
    for (const [check, region] of [[checks[0], 'us-east-1'], [checks[1], 'eu-west-1']] as const) {
      assert.equal(check.Type, 'HTTPS');
      assert.equal(check.ResourcePath, API_ROUTES.health.path);
      assert.match(JSON.stringify(check.FullyQualifiedDomainName), new RegExp(`\\.execute-api\\.${region}\\.`));
    }
  });

  it('answers the domain with latency-based alias records, one per region, each with its health check', () => {
    const records = [[pipeline, 'us-east-1'], [regional, 'eu-west-1']].map(([template, region]) => {
      const [[, record]] = ofType(template as CfnTemplate, 'AWS::Route53::RecordSet') as [[string, any]];
      assert.equal(record.Properties.Region, region);
      assert.deepEqual(record.Properties.HealthCheckId, { Ref: ofType(template as CfnTemplate, 'AWS::Route53::HealthCheck')[0]![0] });
      assert.ok(record.Properties.AliasTarget, 'an alias to the regional domain');
      assert.equal(record.Properties.Type, 'A');
      return record.Properties;
    });
    assert.deepEqual(records.map((r) => r.Name), [`${DOMAIN.name}.`, `${DOMAIN.name}.`]);
    assert.deepEqual(records.map((r) => r.SetIdentifier), ['us-east-1', 'eu-west-1']);
    const domains = [...ofType(pipeline, 'AWS::ApiGatewayV2::DomainName'), ...ofType(regional, 'AWS::ApiGatewayV2::DomainName')].map(([, r]) => r.Properties!);
    assert.deepEqual(domains.map((d) => d.DomainNameConfigurations[0].EndpointType), ['REGIONAL', 'REGIONAL']);
    assert.deepEqual(domains.map((d) => d.DomainNameConfigurations[0].CertificateArn), [DOMAIN.certificateArns['us-east-1'], DOMAIN.certificateArns['eu-west-1']]);
    assert.equal(ofType(pipeline, 'AWS::ApiGatewayV2::ApiMapping').length, 1);
  });
});

describe('ImageDelivery: controlApi and tenantPrincipal props', () => {
  const make = (props: Partial<ImageDeliveryProps>) => () => new ImageDelivery(new App(), 'Pictor', { tenants: TENANTS, ...props });

  it('refuses bad regions, admins and domains, saying what to change', () => {
    assert.throws(make({ controlApi: { regions: ['eu-west'] } }), /controlApi\.regions: "eu-west" is not a region name/);
    assert.throws(make({ controlApi: { regions: ['us-east-1'] } }), /controlApi\.regions: us-east-1 is the pipeline's region/);
    assert.throws(make({ controlApi: { regions: ['eu-west-1', 'eu-west-1'] } }), /controlApi\.regions: name each region once/);
    assert.throws(make({ controlApi: { admins: ['alice'] } }), /controlApi\.admins: "alice" is not an IAM role or user ARN/);
    assert.throws(make({ controlApi: { regions: ['eu-west-1', 'ap-southeast-2'], domain: DOMAIN } }), /certificateArns: no certificate for ap-southeast-2, where the API runs/);
    assert.throws(make({ controlApi: { domain: DOMAIN } }), /certificateArns: eu-west-1 has no API/);
    assert.throws(
      make({ controlApi: { regions: ['eu-west-1'], domain: { ...DOMAIN, certificateArns: { ...DOMAIN.certificateArns, 'eu-west-1': DOMAIN.certificateArns['us-east-1'] } } } }),
      /certificateArns\.eu-west-1: ".*" is not an ACM certificate ARN in eu-west-1/,
    );
    assert.throws(make({ controlApi: { regions: ['eu-west-1'], domain: { ...DOMAIN, name: 'api.example.org' } } }), /domain\.name: api\.example\.org is not in the zone images\.example\.com/);
    assert.throws(make({ controlApi: { regions: ['eu-west-1'], domain: { ...DOMAIN, hostedZoneId: 'images.example.com' } } }), /hostedZoneId: "images\.example\.com" is not a hosted zone id/);
    assert.throws(make({ tenantPrincipal: 'arn:aws:iam::123456789012:root' as never }), /tenantPrincipal: give a function from a tenant id/);
    assert.throws(make({ controlApi: { browserOrigins: ['https://app.example.com/upload'] } }), /browserOrigins: "https:\/\/app\.example\.com\/upload" is not a web origin/);
    assert.throws(make({ controlApi: { browserOrigins: [] } }), /browserOrigins: leave it out for none/);
  });

  it("lets the browser origins given upload to the originals bucket by POST and call the API, and no other", () => {
    const originals = pipeline.Resources[logicalIdOf(pipeline, 'Pipeline/Originals')]!;
    assert.deepEqual(originals.Properties!.CorsConfiguration.CorsRules.map((r: { AllowedMethods: string[]; AllowedOrigins: string[] }) => [r.AllowedMethods, r.AllowedOrigins]), [[['POST'], [APP]]]);
    const [, api] = ofType(pipeline, 'AWS::ApiGatewayV2::Api')[0]!;
    assert.deepEqual(api.Properties!.CorsConfiguration.AllowOrigins, [APP]);
    assert.ok(['authorization', 'x-amz-date', 'x-amz-security-token'].every((h) => api.Properties!.CorsConfiguration.AllowHeaders.includes(h)));
    // The variants reach browsers through CloudFront alone.
    assert.equal(pipeline.Resources[logicalIdOf(pipeline, 'Pipeline/Variants')]!.Properties!.CorsConfiguration, undefined);
  });
});
