import { randomUUID } from 'node:crypto';
import type { Duration } from 'aws-cdk-lib';
import type { Context } from 'aws-lambda';
import type { PictorConfig } from '../../core/tenant-config.ts';
import type { DeliveryEdge, RerenderPaging } from '../../infra/pipeline.ts';
import { readTaskConfig, type TaskConfig } from '../../tasks/shared/task-config.ts';
import type { TaskHandler } from '../../tasks/shared/task-handler.ts';
import { handlerModule, isTaskName, TASKS, type TaskName } from '../../tasks/registry.ts';
import { createHandler as createApiHandler } from '../../control-api/handler.ts';
import { readApiConfig } from '../../control-api/config.ts';
import { readHttpApis, type LocalApiFunction, type LocalHttpApi } from '../api-gateway.ts';
import { LocalIdentities } from '../iam/identities.ts';
import { LocalEventBus, type LocalEventBusOptions } from '../event-bus/event-bus.ts';
import { bridgeS3Events } from '../event-bus/s3-bridge.ts';
import type { LocalS3 } from '../s3-server.ts';
import { localNames } from './storage.ts';
import { LocalStepFunctions, type LocalFunction, type LocalStepFunctionsOptions } from './step-functions.ts';
import { arnOf, logicalIdOf, resolveTokens, stateMachineDefinitions, synthesizePipeline, type CfnTemplate } from './template.ts';

/** What a task's handler module exports for the twin (tasks/registry.ts handlerModule): the factory its Lambda entry calls. */
interface TaskModule {
  readonly createHandler: (config: TaskConfig) => TaskHandler;
}

/** Each task's handler factory, loaded from the module the task registry names. */
async function loadTaskFactories(): Promise<Record<TaskName, TaskModule['createHandler']>> {
  const modules = await Promise.all(TASKS.map(async (task) => [task, ((await import(handlerModule(task).href)) as TaskModule).createHandler] as const));
  for (const [task, create] of modules) {
    if (typeof create !== 'function') throw new Error(`${handlerModule(task).pathname} must export createHandler(config), which the twin calls as Lambda calls its handler.`);
  }
  return Object.fromEntries(modules) as Record<TaskName, TaskModule['createHandler']>;
}

/** The pipeline's state machines, by their construct's id in infra/pipeline.ts. */
export const STATE_MACHINES = ['RenderOnUpload', 'CatalogueRerender', 'TakedownBatch'] as const;
export type StateMachineName = (typeof STATE_MACHINES)[number];

export { LOCAL_TABLES } from './storage.ts';

export interface LocalPipeline {
  readonly template: CfnTemplate;
  readonly stepFunctions: LocalStepFunctions;
  readonly bus: LocalEventBus;
  /** The template's roles: who signs each request, and what may assume which role (STS). */
  readonly identities: LocalIdentities;
  /** Pictor's own event bus, where requests and Pictor's events go. */
  readonly eventBusName: string;
  /** The roles that may ask for takedowns and re-renders, as the stack outputs them. */
  readonly requesters: { readonly takedown: string; readonly rerender: string };
  /** The state machine ARNs by construct name. */
  readonly stateMachines: Readonly<Record<StateMachineName, string>>;
  /** The template's HTTP APIs (the control API), and the functions their routes invoke, by ARN. */
  readonly httpApis: readonly LocalHttpApi[];
  readonly apiFunctions: ReadonlyMap<string, LocalApiFunction>;
}

export interface LocalPipelineOptions extends LocalStepFunctionsOptions {
  readonly config: PictorConfig;
  /** As the deployment's `invalidationDeadline`. */
  readonly invalidationDeadline?: Duration;
  /** As the deployment's `rerender` paging: small numbers make a test's re-render continue as new executions. */
  readonly rerender?: RerenderPaging;
  /** As the deployment's `controlApi.browserOrigins`. */
  readonly browserOrigins?: readonly string[];
  readonly s3: LocalS3;
  /** The local edge, as takedowns see the distribution. */
  readonly edge: DeliveryEdge;
  /** Service endpoints the tasks use, as the SDK's AWS_ENDPOINT_URL_* variables name them. */
  readonly endpoints: {
    readonly s3: string;
    /** S3 by region, where each region's answers (PICTOR_S3_ENDPOINTS). @default `s3` for every region */
    readonly s3ByRegion?: Readonly<Record<string, string>>;
    readonly dynamodb: string;
    readonly eventbridge: string;
    readonly cloudfront: string;
    /** The CloudFront KeyValueStore API, where tasks read tenants. */
    readonly keyvaluestore: string;
    readonly secretsmanager: string;
    /** Step Functions' API, which the control API follows executions with. */
    readonly stepfunctions: string;
  };
  /** How the bus delivers: EventBridge's at-least-once, with duplicates at a seeded rate. */
  readonly eventBus?: LocalEventBusOptions;
  /** Wraps each task, e.g. to count calls or to make one fail in a test. */
  readonly instrument?: (task: TaskName, fn: LocalFunction) => LocalFunction;
}

/**
 * The pipeline as the twin runs it: the synthesized template's state machines,
 * rules and task functions, each function built from its template environment
 * (tokens resolved to local names) by the same createHandler a Lambda uses,
 * from the handler module the task registry names for its PICTOR_TASK.
 */
export async function startLocalPipeline(options: LocalPipelineOptions): Promise<LocalPipeline> {
  const factories = await loadTaskFactories();
  const template = synthesizePipeline(options.config, options.edge, { invalidationDeadline: options.invalidationDeadline, rerender: options.rerender, browserOrigins: options.browserOrigins });
  const names = localNames(template);

  const identities = LocalIdentities.fromTemplate(template, names);
  const functions = new Map<string, LocalFunction>();
  const apiFunctions = new Map<string, LocalApiFunction>();
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const environment = resolveTokens(resource.Properties?.Environment?.Variables ?? {}, template, names) as Record<string, string>;
    const task = environment.PICTOR_TASK;
    const api = environment.PICTOR_FUNCTION === 'control-api';
    if (!task && !api) continue;
    if (task && !isTaskName(task)) throw new Error(`Function ${logicalId} names PICTOR_TASK '${task}', which tasks/registry.ts does not declare.`);
    // The function acts as its execution role, as Lambda runs it. https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html
    const session = identities.sessionOf(resolveTokens(resource.Properties?.Role, template, names), logicalId);
    const runtimeEnvironment = {
      ...environment,
      AWS_ACCESS_KEY_ID: session.accessKeyId,
      AWS_SECRET_ACCESS_KEY: session.secretAccessKey,
      AWS_SESSION_TOKEN: session.sessionToken,
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_S3: options.endpoints.s3,
      ...(options.endpoints.s3ByRegion ? { PICTOR_S3_ENDPOINTS: JSON.stringify(options.endpoints.s3ByRegion) } : {}),
      AWS_ENDPOINT_URL_DYNAMODB: options.endpoints.dynamodb,
      AWS_ENDPOINT_URL_EVENTBRIDGE: options.endpoints.eventbridge,
      AWS_ENDPOINT_URL_CLOUDFRONT: options.endpoints.cloudfront,
      AWS_ENDPOINT_URL_CLOUDFRONT_KEYVALUESTORE: options.endpoints.keyvaluestore,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: options.endpoints.secretsmanager,
      AWS_ENDPOINT_URL_SFN: options.endpoints.stepfunctions,
    };
    const arn = arnOf(resource.Type, logicalId);
    if (api) {
      const handler = createApiHandler(readApiConfig(runtimeEnvironment));
      apiFunctions.set(arn, (event) => handler(event));
      continue;
    }
    const handler = factories[task as TaskName](readTaskConfig(runtimeEnvironment));
    const timeoutMs = Number(resource.Properties?.Timeout ?? 3) * 1000;
    // A Lambda's payload and result cross the wire as JSON.
    const invoke: LocalFunction = async (payload) => JSON.parse(JSON.stringify((await handler(JSON.parse(JSON.stringify(payload)), lambdaContext(logicalId, timeoutMs))) ?? null));
    functions.set(arn, options.instrument ? options.instrument(task as TaskName, invoke) : invoke);
  }
  const stepFunctions = new LocalStepFunctions(stateMachineDefinitions(template, names), functions, options);
  const bus = LocalEventBus.fromTemplate(
    template,
    names,
    (target, input) => {
      if (target.includes(':stateMachine:')) stepFunctions.start(target, input);
    },
    options.eventBus,
  );
  const notifying = new Set<string>();
  for (const resource of Object.values(template.Resources)) {
    if (resource.Type === 'Custom::S3BucketNotifications' && resource.Properties?.NotificationConfiguration?.EventBridgeConfiguration) {
      notifying.add(resolveTokens(resource.Properties.BucketName, template, names));
    }
  }
  bridgeS3Events(options.s3, bus, notifying);
  const stateMachines = Object.fromEntries(
    STATE_MACHINES.map((name) => [name, arnOf('AWS::StepFunctions::StateMachine', logicalIdOf(template, `Pipeline/${name}/StateMachine`))]),
  ) as Record<StateMachineName, string>;
  // What the stack outputs name for people: the roles that may ask for takedowns and re-renders.
  const outputs = (template as { Outputs?: Record<string, { Value: unknown }> }).Outputs ?? {};
  const output = (name: string) => resolveTokens(outputs[name]?.Value, template, names) as string;
  const eventBus = Object.keys(template.Resources).find((id) => template.Resources[id]!.Type === 'AWS::Events::EventBus');
  return {
    template,
    stepFunctions,
    bus,
    stateMachines,
    identities,
    eventBusName: eventBus ? resolveTokens({ Ref: eventBus }, template, names) : 'default',
    requesters: { takedown: output('TakedownRequesterRoleArn'), rerender: output('RerenderRequesterRoleArn') },
    httpApis: readHttpApis(template, names),
    apiFunctions,
  };
}

function lambdaContext(functionName: string, timeoutMs: number): Context {
  const started = Date.now();
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: arnOf('AWS::Lambda::Function', functionName),
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, timeoutMs - (Date.now() - started)),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
