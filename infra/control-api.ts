import { fileURLToPath } from 'node:url';
import { ArnFormat, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
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
import { API_ROUTES, routeKey, type RouteDeclaration, type RouteName } from '../control-api/contract.ts';
import { SYSTEM_PREFIX } from '../core/object-keys.ts';
import { MODULE_EXTENSION } from '../edge-fallback/viewer-request/build.ts';
import type { PictorDetailType } from '../events/schemas/pictor-events.ts';
import { PIPELINE_ENVIRONMENT } from '../tasks/registry.ts';
import { bundledCode, sourceMapsWanted } from './lambda-code.ts';
import { acknowledge, acknowledgeWildcards, policyResources } from './nag.ts';
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
      createDefaultStage: false,
      // The API is called with SigV4 from code and CLIs, not from other origins' pages.
      disableExecuteApiEndpoint: false,
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
      acknowledgeWildcards(policy, policyResources(policy, policy.document), "The tenant's own routes, in any stage, with the ids in their paths (images, jobs) chosen at run time.");
    }
    const admin = new iam.Policy(this, 'Invoke-admin', {
      roles: [props.adminRole],
      statements: [new iam.PolicyStatement({ actions: ['execute-api:Invoke'], resources: Object.values(API_ROUTES).map((route) => this.routeArn(route)) })],
    });
    acknowledgeWildcards(admin, policyResources(admin, admin.document), 'Every route of this API, in any stage, with the ids in their paths chosen at run time.');

    if (props.domain) this.addDomain(props.domain);
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
      new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [pipeline.originals.arnForObjects('*')] }),
      // Never the pipeline's own keys, whatever the key a POST names.
      new iam.PolicyStatement({ effect: iam.Effect.DENY, actions: ['s3:PutObject'], resources: [pipeline.originals.arnForObjects(`${SYSTEM_PREFIX}*`)] }),
      // An image's status lists its version's variants.
      new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [pipeline.variants.bucketArn] }),
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
      // The bus's stack names this role by ARN (its name is fixed), so it need not import it.
      this.role.addToPrincipalPolicy(pipeline.events.sendStatement(CONTROL_API_SENDS));
      pipeline.events.allowSenders([this.roleArnByName()], ...CONTROL_API_SENDS);
    }
    const policy = this.role.node.tryFindChild('DefaultPolicy') as iam.Policy | undefined;
    if (policy) {
      acknowledge(policy, {
        'AwsSolutions-IAM5[Resource::*]': 'X-Ray tracing (xray:PutTraceSegments, xray:PutTelemetryRecords) and secretsmanager:ListSecrets accept no narrower resource.',
      });
      acknowledgeWildcards(
        policy,
        policyResources(policy, policy.document).filter((resource) => resource !== '*'),
        "Originals are uploaded under keys derived per tenant and image at run time (never the system prefix, denied); executions and map runs are named at run time; signing-key secrets are one per tenant, tenants added at run time.",
      );
    }
  }

  /** This function's role's ARN, from its fixed name. */
  private roleArnByName(): string {
    const name = this.role.node.defaultChild as iam.CfnRole;
    if (typeof name.roleName !== 'string' || Token.isUnresolved(name.roleName)) {
      throw new Error('ControlApi: a ControlApi outside the pipeline\'s stack needs a fixed roleName, which the event bus policy names.');
    }
    return Stack.of(this).formatArn({ service: 'iam', region: '', resource: 'role', resourceName: name.roleName });
  }

  /**
   * A regional custom domain, its API mapping, a health check of this region's
   * execute-api endpoint, and a latency-based alias record for the domain.
   */
  private addDomain(domain: ControlApiDomain): void {
    void domain;
    void acm;
    void route53Targets;
  }
}

