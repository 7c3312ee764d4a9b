import { App, type Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { PictorConfig } from '../../core/tenant-config.ts';
import type { DeliveryEdge, RerenderPaging } from '../../infra/pipeline.ts';
import { PipelineStack } from '../../infra/pipeline-stack.ts';
import { LOCAL_ACCOUNT, LOCAL_ADMIN_ARN, LOCAL_REGION } from '../account.ts';
import { BUCKETS } from '../topology.ts';

export { LOCAL_ACCOUNT, LOCAL_REGION };
/** The tenant store's ARN where no edge template names it (the pipeline alone). */
export const LOCAL_TENANT_STORE_ARN = `arn:aws:cloudfront::${LOCAL_ACCOUNT}:key-value-store/TenantStore`;

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, any>;
  readonly Metadata?: Record<string, any>;
}

export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
}

/**
 * Synthesizes the pipeline's stack exactly as a deployment does (infra/image-delivery.ts),
 * so the twin runs the same state machines and rules. Only the task code differs:
 * a deployment ships bundles, the twin calls the same handlers in-process.
 */
export function synthesizePipeline(
  tenants: PictorConfig,
  edge: DeliveryEdge = { distributionId: 'EPICTORLOCAL', url: 'http://127.0.0.1:8080', tenantStoreArn: LOCAL_TENANT_STORE_ARN },
  settings: { invalidationDeadline?: Duration; rerender?: RerenderPaging; takedownRequesters?: readonly string[]; rerenderRequesters?: readonly string[]; browserOrigins?: readonly string[] } = {},
): CfnTemplate {
  // The CDK CLI turns path metadata on; in-process synthesis must ask for it. Schema
  // validation is `cdk synth`'s job (infra/app.ts), and it costs every twin 5 s.
  const app = new App({ context: { 'aws:cdk:enable-path-metadata': true }, builtinCloudFormationValidation: false });
  new PipelineStack(app, 'Pictor', {
    env: { account: LOCAL_ACCOUNT, region: LOCAL_REGION },
    tenants,
    edge,
    replicas: [{ bucketName: BUCKETS.replica.bucket, region: BUCKETS.replica.region }],
    variantReplicas: [{ bucketName: BUCKETS.failoverVariants.bucket, region: BUCKETS.failoverVariants.region }],
    taskCode: () => lambda.Code.fromInline('// runs in-process in the twin'),
    originRequest: { functionName: 'pictor-origin-request', memoryMb: 3008 },
    invalidationDeadline: settings.invalidationDeadline,
    rerender: settings.rerender,
    takedownRequesters: settings.takedownRequesters,
    rerenderRequesters: settings.rerenderRequesters,
    // The account's administrator calls the control API as an admin, as an operator's own user would be named.
    controlApi: { admins: [LOCAL_ADMIN_ARN], browserOrigins: settings.browserOrigins },
  });
  return app.synth().getStackByName('Pictor').template as CfnTemplate;
}

/** The resource a CDK construct path names, e.g. `Pipeline/Originals`. */
export function logicalIdOf(template: CfnTemplate, constructPath: string): string {
  const suffix = `/${constructPath}/Resource`;
  const found = Object.entries(template.Resources).find(([, r]) => String(r.Metadata?.['aws:cdk:path'] ?? '').endsWith(suffix));
  if (!found) throw new Error(`No resource at ${constructPath} in the synthesized template.`);
  return found[0];
}

export function arnOf(type: string, logicalId: string, properties?: Record<string, any>): string {
  // A physical name the template sets (a plain string) is the one AWS uses.
  const named = (property: string) => (typeof properties?.[property] === 'string' ? (properties[property] as string) : logicalId);
  switch (type) {
    case 'AWS::IAM::Role':
      return `arn:aws:iam::${LOCAL_ACCOUNT}:role/${named('RoleName')}`;
    case 'AWS::Events::EventBus':
      return `arn:aws:events:${LOCAL_REGION}:${LOCAL_ACCOUNT}:event-bus/${named('Name')}`;
    case 'AWS::Lambda::Function':
      return `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${logicalId}`;
    case 'AWS::StepFunctions::StateMachine':
      return `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${logicalId}`;
    case 'AWS::CloudFront::KeyValueStore':
      // A global resource: no region in its ARN.
      return `arn:aws:cloudfront::${LOCAL_ACCOUNT}:key-value-store/${logicalId}`;
    default:
      return `arn:aws:local:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${logicalId}`;
  }
}

/**
 * Resolves CloudFormation tokens the way a deployment would, with local names:
 * Ref (physical name, or the ARN for state machines), Fn::GetAtt Arn, Fn::Join,
 * and the pseudo parameters.
 */
export function resolveTokens(value: unknown, template: CfnTemplate, names: Readonly<Record<string, string>>): any {
  if (Array.isArray(value)) return value.map((v) => resolveTokens(v, template, names));
  if (!value || typeof value !== 'object') return value;
  const object = value as Record<string, any>;
  if ('Ref' in object) {
    const ref = object.Ref as string;
    if (ref === 'AWS::Partition') return 'aws';
    if (ref === 'AWS::Region') return LOCAL_REGION;
    if (ref === 'AWS::AccountId') return LOCAL_ACCOUNT;
    if (ref === 'AWS::URLSuffix') return 'amazonaws.com';
    const resource = template.Resources[ref];
    if (!resource) throw new Error(`Ref to unknown resource ${ref}.`);
    if (resource.Type === 'AWS::StepFunctions::StateMachine') return arnOf(resource.Type, ref);
    if (resource.Type === 'AWS::Events::EventBus' && typeof resource.Properties?.Name === 'string') return resource.Properties.Name;
    return names[ref] ?? ref;
  }
  if ('Fn::GetAtt' in object) {
    const [logicalId, attribute] = object['Fn::GetAtt'] as [string, string];
    const resource = template.Resources[logicalId];
    if (!resource) throw new Error(`Fn::GetAtt on unknown resource ${logicalId}.`);
    if (attribute === 'Arn') return arnOf(resource.Type, logicalId, resource.Properties);
    return names[logicalId] ?? logicalId;
  }
  if ('Fn::Join' in object) {
    const [separator, parts] = object['Fn::Join'] as [string, unknown[]];
    return parts.map((p) => resolveTokens(p, template, names)).join(separator);
  }
  return Object.fromEntries(Object.entries(object).map(([k, v]) => [k, resolveTokens(v, template, names)]));
}

/** Every state machine's ASL, tokens resolved, by logical id. */
export function stateMachineDefinitions(template: CfnTemplate, names: Readonly<Record<string, string>>): Map<string, any> {
  const out = new Map<string, any>();
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::StepFunctions::StateMachine') continue;
    out.set(logicalId, JSON.parse(resolveTokens(resource.Properties!.DefinitionString, template, names)));
  }
  return out;
}
