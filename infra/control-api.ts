import { fileURLToPath } from 'node:url';
import { ArnFormat, CfnOutput, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as route53Targets from 'aws-cdk-lib/aws-route53-targets';
import { Construct } from 'constructs';
import type { PipelineStack } from './pipeline-stack.ts';
import { API_ROUTES, routeKey, type RouteDeclaration, type RouteName } from '../control-api/contract.ts';
import { PictorError } from '../core/errors.ts';
import { SYSTEM_PREFIX } from '../core/object-keys.ts';
import { MODULE_EXTENSION } from '../edge-fallback/viewer-request/build.ts';
import type { PictorDetailType } from '../events/schemas/pictor-events.ts';
import { PIPELINE_ENVIRONMENT } from '../tasks/registry.ts';
import { bundledCode, sourceMapsWanted } from './lambda-code.ts';
import { acknowledge, acknowledgeWildcardsOnceResolved, policyResources } from './nag.ts';
import { TASK_LOG_RETENTION, type Pipeline } from './pipeline.ts';

/** The control API's function, as `taskCode` names it and as its PICTOR_FUNCTION says. */
export const CONTROL_API_FUNCTION = 'control-api';

/** The handler module the API's function runs (exporting `handler`), resolved only when it is bundled. */
export function controlApiEntry(): string {
  return fileURLToPath(new URL(`../control-api/handler${MODULE_EXTENSION}`, import.meta.url));
}

/** The detail-types the API sends, with the authenticated caller as the requester. */
export const CONTROL_API_SENDS = ['Takedown Requested', 'Rerender Requested'] as const satisfies readonly PictorDetailType[];

/**
 * The default stage's throttle, for every route together: far below HTTP APIs' account
 * quota of 10,000 requests per second (burst 5,000) per region, so that a runaway client
 * of the control plane cannot starve the account's other APIs.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-throttling.html
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html#http-api-quotas
 */
export const CONTROL_API_THROTTLE = { rateLimit: 100, burstLimit: 200 } as const;

/**
 * How long the function may run: API Gateway ends an HTTP API's integration at 30 s.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html
 */
const FUNCTION_TIMEOUT = Duration.seconds(29);

/** What ImageDelivery takes for the control API (ImageDeliveryProps.controlApi). */
export interface ControlApiOptions {
  /**
   * More regions for the API, beside the pipeline's: each gets a stack `{id}-api-{region}`
   * with the same API, its function reaching the pipeline region's storage, state
   * machines, event bus and secrets.
   * @default none: the API in the pipeline's region only
   */
  readonly regions?: readonly string[];
  /**
   * Who may assume the ApiAdmin role, which may call every route (tenants, keys,
   * every tenant's images and jobs).
   * @default this account's principals with IAM permission to assume it
   */
  readonly adminPrincipal?: iam.IPrincipal;
  /**
   * Role or user ARNs the handler also treats as admins. Their own identity
   * policies must allow them `execute-api:Invoke` on the API.
   * @default none
   */
  readonly admins?: readonly string[];
  /**
   * One name for the API in every region: a regional custom domain in each, and
   * Route 53 latency-based alias records with health checks.
   * @default none: each region's execute-api URL
   */
  readonly domain?: ControlApiDomains;
  /**
   * Web origins whose pages may upload straight to S3 with a presigned POST and call
   * the API from the browser, such as `https://app.example.com`: a CORS rule on the
   * originals bucket for POST, and the API's CORS configuration. A browser sends the
   * POST either way but reads the answer only when the bucket's CORS allows its origin.
   * https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html
   * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-cors.html
   * @default none: browsers upload through your backend, which calls the API
   */
  readonly browserOrigins?: readonly string[];
}

/** The API's domain across its regions. */
export interface ControlApiDomains {
  /** Such as api.images.example.com. */
  readonly name: string;
  /** The Route 53 hosted zone that holds `name`, such as Z0123456789ABCDEFGHIJ. */
  readonly hostedZoneId: string;
  /** That zone's name, such as images.example.com. */
  readonly zoneName: string;
  /** An ACM certificate for `name` per API region, by region: a regional domain's certificate sits in its own region. */
  readonly certificateArns: Readonly<Record<string, string>>;
}

/** A regional custom domain for the API, in one region. */
export interface ControlApiDomain {
  /** The API's name, such as api.images.example.com: one latency record per region, all under it. */
  readonly name: string;
  /** The hosted zone that holds `name`. */
  readonly hostedZoneId: string;
  readonly zoneName: string;
  /** An ACM certificate for `name` in this region (a regional custom domain's certificate lives in its region). */
  readonly certificateArn: string;
}

export interface ControlApiProps {
  /** What the API reaches: the pipeline, in its own region (this stack's or another). */
  readonly pipeline: Pipeline;
  /** Each tenant's role, which may invoke only that tenant's `tenant` routes. */
  readonly tenantRoles: Readonly<Record<string, iam.IRole>>;
  /** The API admin role, which may invoke every route. */
  readonly adminRole: iam.IRole;
  /**
   * More admins, by role or user ARN: the handler treats them as admins; their own
   * identity policies must allow `execute-api:Invoke`.
   * @default none
   */
  readonly admins?: readonly string[];
  /**
   * The function's deployment package.
   * @default control-api/handler.ts bundled at synth time by the local esbuild
   */
  readonly code?: lambda.Code;
  /**
   * The function role's name. A role in another region's stack needs one, so that the
   * pipeline's event bus policy can name it by ARN before it exists.
   * @default a name CloudFormation generates
   */
  readonly roleName?: string;
  /**
   * A regional custom domain, with a health check and a latency-based alias record.
   * @default none: the execute-api URL
   */
  readonly domain?: ControlApiDomain;
  /** Web origins allowed to call the API from a browser (ControlApiOptions.browserOrigins). @default none */
  readonly browserOrigins?: readonly string[];
}

/**
 * The control-plane API in one region: an HTTP API with a route per API_ROUTES
 * entry, each signed with SigV4 (IAM authorization) but the public health check,
 * all integrated with one Lambda (payload format 2.0) that runs control-api/handler.ts.
 * Who may call a route is IAM's answer: each tenant's role may invoke its own
 * tenant's routes, the admin role every route.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-access-control-iam.html
 */
export class ControlApi extends Construct {
  readonly api: apigwv2.HttpApi;
  readonly stage: apigwv2.HttpStage;
  readonly function: lambda.Function;
  readonly role: iam.Role;
  readonly accessLogs: logs.LogGroup;
  /** The API's base URL, https://{apiId}.execute-api.{region}.amazonaws.com */
  readonly url: string;
  readonly domainName?: apigwv2.DomainName;
  readonly healthCheck?: route53.HealthCheck;
  readonly record?: route53.ARecord;

  constructor(scope: Construct, id: string, props: ControlApiProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const pipeline = props.pipeline;

    const logGroup = new logs.LogGroup(this, 'FunctionLogs', { retention: TASK_LOG_RETENTION, removalPolicy: RemovalPolicy.RETAIN });
    // Its own log group only, in place of AWSLambdaBasicExecutionRole (see taskRole in infra/pipeline.ts).
    this.role = new iam.Role(this, 'Role', {
      roleName: props.roleName,
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: "Pictor control API: its own log group, and the calls control-api/handler.ts makes",
      inlinePolicies: {
        logs: new iam.PolicyDocument({
          statements: [new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] })],
        }),
      },
    });

    const stateMachines = {
      RenderOnUpload: pipeline.renderOnUpload.stateMachine,
      CatalogueRerender: pipeline.catalogueRerender.stateMachine,
      TakedownBatch: pipeline.takedownBatch.stateMachine,
    };
    const sourceMap = sourceMapsWanted(this);
    this.function = new lambda.Function(this, 'Function', {
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.X86_64,
      handler: 'index.handler',
      code: props.code ?? bundledCode(controlApiEntry(), { sourceMap }),
      memorySize: 512,
      timeout: FUNCTION_TIMEOUT,
      description: 'Pictor control API: uploads, status, takedowns, re-renders, tenants and keys',
      environment: {
        ...Object.fromEntries(PIPELINE_ENVIRONMENT.map((name) => [name, pipeline.environment[name]])),
        PICTOR_EDGE_URL: pipeline.environment.PICTOR_EDGE_URL,
        PICTOR_SIGNING_SECRETS_PREFIX: pipeline.environment.PICTOR_SIGNING_SECRETS_PREFIX,
        // Not PICTOR_TASK: the twin runs PICTOR_TASK functions as the pipeline's tasks.
        PICTOR_FUNCTION: CONTROL_API_FUNCTION,
        // Where the pipeline is: in another region's stack, the function's own AWS_REGION is not it.
        PICTOR_PIPELINE_REGION: Stack.of(pipeline).region,
        ...(pipeline.viewerStoreArn ? { PICTOR_VIEWER_STORE_ARN: pipeline.viewerStoreArn } : {}),
        PICTOR_STATE_MACHINES: stack.toJsonString(Object.fromEntries(Object.entries(stateMachines).map(([name, sm]) => [name, sm.stateMachineArn]))),
        PICTOR_API_TENANT_ROLES: stack.toJsonString(Object.fromEntries(Object.entries(props.tenantRoles).map(([tenant, role]) => [role.roleArn, tenant]))),
        PICTOR_API_ADMINS: stack.toJsonString([props.adminRole.roleArn, ...(props.admins ?? [])]),
        ...(sourceMap ? { NODE_OPTIONS: '--enable-source-maps' } : {}),
      },
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      role: this.role,
    });
    acknowledge(this.function, {
      'AwsSolutions-L1': 'Pinned to nodejs22.x, which the bundles target (esbuild node22) and are tested on; a runtime upgrade is a tested change of its own.',
    });
    this.grantCalls(pipeline, stateMachines);

    // One integration for every route: the handler dispatches on the route key.
    const integration = new HttpLambdaIntegration('Handler', this.function, {
      payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0,
      // One permission for the API (any stage, method and path), not one per route: the function's policy stays small.
      scopePermissionToRoute: false,
    });
    this.api = new apigwv2.HttpApi(this, 'Api', {
      description: 'Pictor control API: uploads, status, takedowns, re-renders, tenants and keys (SigV4)',
      // The default stage is made below, with access logs and a throttle.
      createDefaultStage: false,
      // A page signs its calls with SigV4: the headers a signed request carries.
      ...(props.browserOrigins?.length
        ? {
            corsPreflight: {
              allowOrigins: [...props.browserOrigins],
              allowMethods: [apigwv2.CorsHttpMethod.GET, apigwv2.CorsHttpMethod.POST, apigwv2.CorsHttpMethod.PUT, apigwv2.CorsHttpMethod.DELETE],
              allowHeaders: ['authorization', 'content-type', 'x-amz-date', 'x-amz-security-token', 'x-amz-content-sha256'],
              maxAge: Duration.hours(1),
            },
          }
        : {}),
    });
    const authorizer = new HttpIamAuthorizer();
    for (const [name, route] of Object.entries(API_ROUTES) as [RouteName, RouteDeclaration][]) {
      const created = new apigwv2.HttpRoute(this, `Route-${name}`, {
        httpApi: this.api,
        routeKey: apigwv2.HttpRouteKey.with(route.path, apigwv2.HttpMethod[route.method]),
        integration,
        authorizer: route.access === 'public' ? new apigwv2.HttpNoneAuthorizer() : authorizer,
      });
      if (route.access === 'public') {
        acknowledge(created, { 'AwsSolutions-APIG4': `${routeKey(route)} answers unsigned: Route 53 health checks, which cannot sign, probe it; it reveals nothing but that the region answers.` });
      }
    }

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: TASK_LOG_RETENTION, removalPolicy: RemovalPolicy.RETAIN });
    // Every request once, with who called: the signed caller's ARN (empty for the health check).
    // https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging-variables.html
    this.stage = new apigwv2.HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: CONTROL_API_THROTTLE,
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogs),
        format: apigw.AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            caller: '$context.identity.userArn',
            accountId: '$context.identity.accountId',
            sourceIp: '$context.identity.sourceIp',
            requestTime: '$context.requestTime',
            routeKey: '$context.routeKey',
            path: '$context.path',
            status: '$context.status',
            responseLength: '$context.responseLength',
            integrationError: '$context.integrationErrorMessage',
            latencyMs: '$context.responseLatency',
          }),
        ),
      },
    });
    this.url = `https://${this.api.apiId}.execute-api.${stack.region}.${stack.urlSuffix}`;

    // IAM decides who may call what: each tenant's role its own tenant's routes, the admin role all.
    for (const [tenant, role] of Object.entries(props.tenantRoles)) {
      const policy = new iam.Policy(this, `Invoke-${tenant}`, {
        roles: [role],
        statements: [new iam.PolicyStatement({ actions: ['execute-api:Invoke'], resources: this.tenantRouteArns(tenant) })],
      });
      acknowledgeWildcardsOnceResolved(policy, () => policyResources(policy, policy.document), "The tenant's own routes, in any stage, with the ids in their paths (images, jobs) chosen at run time.");
    }
    const admin = new iam.Policy(this, 'Invoke-admin', {
      roles: [props.adminRole],
      statements: [new iam.PolicyStatement({ actions: ['execute-api:Invoke'], resources: Object.values(API_ROUTES).map((route) => this.routeArn(route)) })],
    });
    acknowledgeWildcardsOnceResolved(admin, () => policyResources(admin, admin.document), 'Every route of this API, in any stage, with the ids in their paths chosen at run time.');

    if (props.domain) {
      const added = this.addDomain(props.domain);
      this.domainName = added.domainName;
      this.healthCheck = added.healthCheck;
      this.record = added.record;
    }
  }

  /**
   * The execute-api ARN a route's requests are authorized against, `{apiId}/{stage}/{METHOD}/{path}`,
   * every stage, its `{param}`s `*` except those `fixed` gives.
   * https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-control-access-using-iam-policies-to-invoke-api.html
   */
  routeArn(route: RouteDeclaration, fixed: Readonly<Record<string, string>> = {}): string {
    const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) => fixed[name] ?? '*');
    return Stack.of(this).formatArn({ service: 'execute-api', resource: this.api.apiId, resourceName: `*/${route.method}${path}` });
  }

  /** The ARNs of one tenant's `tenant` routes. */
  tenantRouteArns(tenant: string): string[] {
    return Object.values(API_ROUTES as Record<string, RouteDeclaration>)
      .filter((route) => route.access === 'tenant')
      .map((route) => this.routeArn(route, { tenant }));
  }

  /** Exactly the calls control-api/handler.ts makes, each on what it names. */
  private grantCalls(pipeline: Pipeline, stateMachines: Record<string, { stateMachineArn: string; stateMachineName: string }>): void {
    const at = Stack.of(pipeline);
    const arn = (service: string, resource: string, resourceName: string) => at.formatArn({ service, resource, resourceName, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    const statements: iam.PolicyStatement[] = [
      // The presigned POST is signed with these credentials: S3 lets it store only what this role may.
      // https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html
      // An image's status HEADs its original (when it was last written), which needs GetObject, and
      // ListBucket so that a missing one answers 404, not 403. https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html
      new iam.PolicyStatement({ actions: ['s3:PutObject', 's3:GetObject'], resources: [pipeline.originals.arnForObjects('*')] }),
      // Never the pipeline's own keys, whatever the key a POST names.
      new iam.PolicyStatement({ effect: iam.Effect.DENY, actions: ['s3:PutObject', 's3:GetObject'], resources: [pipeline.originals.arnForObjects(`${SYSTEM_PREFIX}*`)] }),
      // An image's status lists its version's variants.
      new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [pipeline.originals.bucketArn, pipeline.variants.bucketArn] }),
      new iam.PolicyStatement({ actions: ['dynamodb:GetItem'], resources: [pipeline.versions.tableArn, pipeline.tombstones.tableArn] }),
      new iam.PolicyStatement({ actions: ['states:ListExecutions'], resources: Object.values(stateMachines).map((sm) => sm.stateMachineArn) }),
      // An execution's ARN is execution:{machine}:{name}; a Distributed Map's child runs are execution:{machine}/{label}:{name},
      // and its map runs mapRun:{machine}/{label}:{id}. https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsstepfunctions.html
      new iam.PolicyStatement({
        actions: ['states:DescribeExecution', 'states:ListMapRuns'],
        resources: Object.values(stateMachines).flatMap((sm) => [arn('states', 'execution', `${sm.stateMachineName}:*`), arn('states', 'execution', `${sm.stateMachineName}/*`)]),
      }),
      new iam.PolicyStatement({
        actions: ['states:DescribeMapRun'],
        resources: Object.values(stateMachines).map((sm) => arn('states', 'mapRun', `${sm.stateMachineName}/*`)),
      }),
      // The tenant registry (tenant-store/registry.ts): both stores through the KeyValueStore API; the
      // tenant's uploads and signing policy from the configuration store.
      // https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudfrontkeyvaluestore.html
      new iam.PolicyStatement({
        actions: ['cloudfront-keyvaluestore:DescribeKeyValueStore', 'cloudfront-keyvaluestore:ListKeys', 'cloudfront-keyvaluestore:UpdateKeys', 'cloudfront-keyvaluestore:GetKey'],
        resources: [pipeline.environment.PICTOR_TENANT_STORE_ARN, ...(pipeline.viewerStoreArn ? [pipeline.viewerStoreArn] : [])],
      }),
      // The signing keys (tenant-store/signing-secrets.ts), one secret per tenant under the prefix; a secret's
      // ARN ends in a hyphen and six random characters. https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_examples.html
      new iam.PolicyStatement({
        actions: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:CreateSecret', 'secretsmanager:DeleteSecret'],
        resources: [arn('secretsmanager', 'secret', `${pipeline.signingSecretPrefix}*`)],
      }),
      // ListSecrets names no resource. https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecretsmanager.html
      new iam.PolicyStatement({ actions: ['secretsmanager:ListSecrets'], resources: ['*'] }),
    ];
    for (const statement of statements) this.role.addToPrincipalPolicy(statement);
    if (Stack.of(this) === at) {
      pipeline.events.grantSend(this.role, ...CONTROL_API_SENDS);
    } else {
      // The bus's stack names this role by ARN (its name is fixed), so it need not import it; and only
      // in its Deny statements' exceptions, never as an Allow's Principal: that stack deploys before
      // this one creates the role, and a resource policy refuses a principal that does not exist.
      this.role.addToPrincipalPolicy(pipeline.events.sendStatement(CONTROL_API_SENDS));
      pipeline.events.admitSenders([this.roleArnByName()], ...CONTROL_API_SENDS);
    }
    const policy = this.role.node.tryFindChild('DefaultPolicy') as iam.Policy | undefined;
    if (policy) {
      acknowledge(policy, {
        'AwsSolutions-IAM5[Resource::*]': 'X-Ray tracing (xray:PutTraceSegments, xray:PutTelemetryRecords) and secretsmanager:ListSecrets accept no narrower resource.',
      });
      acknowledgeWildcardsOnceResolved(
        policy,
        () => policyResources(policy, policy.document).filter((resource) => resource !== '*'),
        "Originals are uploaded under keys derived per tenant and image at run time (never the system prefix, denied); executions and map runs are named at run time; signing-key secrets are one per tenant, tenants added at run time.",
      );
    }
  }

  /** This function's role's ARN, from its fixed name. */
  private roleArnByName(): string {
    const name = this.role.node.defaultChild as iam.CfnRole;
    if (typeof name.roleName !== 'string' || Token.isUnresolved(name.roleName)) {
      throw new PictorError('InvalidConfig', 'ControlApi: a ControlApi outside the pipeline\'s stack needs a fixed roleName, which the event bus policy names.');
    }
    return Stack.of(this).formatArn({ service: 'iam', region: '', resource: 'role', resourceName: name.roleName });
  }

  /**
   * A regional custom domain (its certificate in this region), its API mapping, a
   * health check of this region's execute-api endpoint, and a latency-based alias
   * record for the domain, named by the region: Route 53 answers each query with the
   * healthy region of lowest latency to the resolver.
   * https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-regional-api-custom-domain-create.html
   * https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/resource-record-sets-values-latency-alias.html
   * https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/health-checks-how-route-53-chooses-records.html
   */
  private addDomain(domain: ControlApiDomain): { domainName: apigwv2.DomainName; healthCheck: route53.HealthCheck; record: route53.ARecord } {
    const stack = Stack.of(this);
    const domainName = new apigwv2.DomainName(this, 'Domain', {
      domainName: domain.name,
      certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', domain.certificateArn),
      endpointType: apigwv2.EndpointType.REGIONAL,
      securityPolicy: apigwv2.SecurityPolicy.TLS_1_2,
    });
    new apigwv2.ApiMapping(this, 'Mapping', { api: this.api, domainName, stage: this.stage });
    // The execute-api endpoint, not the domain: the domain's name resolves to whichever region is
    // nearest the checker, and the health check must answer for this region alone. /v1/health is
    // unsigned, since health checkers cannot sign. https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/health-checks-creating-values.html
    const healthCheck = new route53.HealthCheck(this, 'HealthCheck', {
      type: route53.HealthCheckType.HTTPS,
      fqdn: `${this.api.apiId}.execute-api.${stack.region}.${stack.urlSuffix}`,
      port: 443,
      resourcePath: API_ROUTES.health.path,
      enableSNI: true,
      failureThreshold: 3,
      requestInterval: Duration.seconds(30),
    });
    const zone = route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', { hostedZoneId: domain.hostedZoneId, zoneName: domain.zoneName });
    const record = new route53.ARecord(this, 'LatencyRecord', {
      zone,
      recordName: domain.name,
      target: route53.RecordTarget.fromAlias(new route53Targets.ApiGatewayv2DomainProperties(domainName.regionalDomainName, domainName.regionalHostedZoneId)),
      region: stack.region,
      setIdentifier: stack.region,
      healthCheck,
    });
    return { domainName, healthCheck, record };
  }
}


/** Where ImageDelivery puts the API's extra regions. */
export interface ControlApiRegionsProps {
  /** The app's id: the stacks are `{id}-api-{region}`, the functions' roles `{id}-api-{region}`. */
  readonly id: string;
  readonly regions: readonly string[];
  /** @default the account the CDK CLI resolves */
  readonly account?: string;
  readonly pipelineStack: PipelineStack;
  readonly admins?: readonly string[];
  readonly domain?: ControlApiDomains;
  readonly browserOrigins?: readonly string[];
  /** @default control-api/handler.ts bundled */
  readonly code?: lambda.Code;
}

/**
 * The API in more regions, a stack each, beside the pipeline's. Their functions' roles
 * have fixed names, which the pipeline's event bus policy names: the pipeline's stack
 * imports nothing from theirs, and they import the pipeline's resources.
 */
export function addControlApiRegions(scope: Construct, props: ControlApiRegionsProps): Stack[] {
  const pipelineStack = props.pipelineStack;
  return props.regions.map((region) => {
    const name = `${props.id}-api-${region}`;
    const stack = new Stack(scope, name, {
      env: { account: props.account, region },
      stackName: name,
      crossRegionReferences: true,
      description: `Pictor: the control API in ${region}`,
    });
    const api = new ControlApi(stack, 'ControlApi', {
      pipeline: pipelineStack.pipeline,
      tenantRoles: pipelineStack.tenantRoles,
      adminRole: pipelineStack.apiAdminRole,
      admins: props.admins,
      code: props.code,
      roleName: name,
      domain: props.domain ? domainIn(props.domain, region) : undefined,
      browserOrigins: props.browserOrigins,
    });
    new CfnOutput(stack, 'ControlApiUrl', { value: api.url, description: `The control API (SigV4) in ${region}` });
    acknowledge(stack, {
      'Annotation::@aws-cdk/core:crossStackReferencesDefaultStrong': "Strong references are what this stack wants: the pipeline's resources it names must not be deleted under it.",
    });
    stack.addStackDependency(pipelineStack);
    return stack;
  });
}

/** The domain's settings in one region. */
export function domainIn(domain: ControlApiDomains, region: string): ControlApiDomain {
  const certificateArn = domain.certificateArns[region];
  if (!certificateArn) throw new PictorError('InvalidConfig', `controlApi.domain.certificateArns: no certificate for ${region}; add an ACM certificate of ${domain.name} in ${region}.`);
  return { name: domain.name, hostedZoneId: domain.hostedZoneId, zoneName: domain.zoneName, certificateArn };
}

const REGION = /^[a-z]{2}(-[a-z]+)+-[0-9]$/;
/** A role's or a user's ARN: what the handler compares a caller's identity with. */
const PRINCIPAL_ARN = /^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/[\w+=,.@\/-]+$/;
const HOSTED_ZONE_ID = /^Z[A-Z0-9]{1,31}$/;
const DOMAIN_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/** What is wrong with the `controlApi` prop, each saying what to change; empty when nothing is. */
export function controlApiProblems(options: ControlApiOptions | undefined, primaryRegion: string): string[] {
  if (!options) return [];
  const problems: string[] = [];
  const regions = options.regions ?? [];
  for (const region of regions) if (!REGION.test(region)) problems.push(`controlApi.regions: "${region}" is not a region name such as eu-west-1.`);
  if (regions.includes(primaryRegion)) problems.push(`controlApi.regions: ${primaryRegion} is the pipeline's region, which has the API already; name only the others.`);
  if (new Set(regions).size !== regions.length) problems.push('controlApi.regions: name each region once.');
  for (const arn of options.admins ?? []) {
    if (!Token.isUnresolved(arn) && !PRINCIPAL_ARN.test(arn)) problems.push(`controlApi.admins: "${arn}" is not an IAM role or user ARN such as arn:aws:iam::123456789012:role/platform-admin.`);
  }
  for (const origin of options.browserOrigins ?? []) {
    // An origin is scheme, host and port, no path; S3 and API Gateway take `*` alone for any.
    if (origin !== '*' && !/^https?:\/\/[^/\s?#]+$/.test(origin)) problems.push(`controlApi.browserOrigins: "${origin}" is not a web origin such as https://app.example.com (no path, no trailing slash).`);
  }
  if (options.browserOrigins?.length === 0) problems.push('controlApi.browserOrigins: leave it out for none; an empty list is no origin either.');
  const domain = options.domain;
  if (domain) {
    const name = domain.name.toLowerCase().replace(/\.$/, '');
    const zone = domain.zoneName.toLowerCase().replace(/\.$/, '');
    if (!DOMAIN_NAME.test(name)) problems.push(`controlApi.domain.name: "${domain.name}" is not a domain name such as api.images.example.com.`);
    else if (name !== zone && !name.endsWith(`.${zone}`)) problems.push(`controlApi.domain.name: ${domain.name} is not in the zone ${domain.zoneName}; name the hosted zone that holds it.`);
    if (!Token.isUnresolved(domain.hostedZoneId) && !HOSTED_ZONE_ID.test(domain.hostedZoneId)) {
      problems.push(`controlApi.domain.hostedZoneId: "${domain.hostedZoneId}" is not a hosted zone id such as Z0123456789ABCDEFGHIJ (aws route53 list-hosted-zones-by-name).`);
    }
    const apiRegions = [primaryRegion, ...regions];
    for (const region of apiRegions) {
      const arn = domain.certificateArns[region];
      if (arn === undefined) problems.push(`controlApi.domain.certificateArns: no certificate for ${region}, where the API runs; a regional custom domain needs an ACM certificate of ${domain.name} in its own region.`);
      else if (!Token.isUnresolved(arn) && !new RegExp(`^arn:aws[a-z-]*:acm:${region}:\\d{12}:certificate/[\\w-]+$`).test(arn)) {
        problems.push(`controlApi.domain.certificateArns.${region}: "${arn}" is not an ACM certificate ARN in ${region} (arn:aws:acm:${region}:<account>:certificate/<id>).`);
      }
    }
    for (const region of Object.keys(domain.certificateArns)) {
      if (!apiRegions.includes(region)) problems.push(`controlApi.domain.certificateArns: ${region} has no API; add it to controlApi.regions or leave its certificate out.`);
    }
  }
  return problems;
}
