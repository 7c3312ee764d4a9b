import { Duration, Names } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import * as cxapi from 'aws-cdk-lib/cx-api';
import type { Construct } from 'constructs';
import { TRANSIENT_ERRORS } from '../core/error-codes.ts';
import { ERRORS, PictorError } from '../core/errors.ts';
import type { TaskName } from '../tasks/registry.ts';

/**
 * The task functions a workflow invokes, by their name in the task registry (tasks/registry.ts).
 * The pipeline hands each workflow all of them; the workflow decides where each sits in its flow.
 */
export type TaskFunctions<T extends TaskName> = { readonly [K in T]: IFunction };

/** Powertools Idempotency's error while a duplicate's first run is still going: wait and ask again. */
export const IDEMPOTENCY_IN_PROGRESS = 'IdempotencyAlreadyInProgressError';
/**
 * Powertools Idempotency's error when a duplicate found the first run's record taken
 * and then gone: that run failed, and its record was deleted so that the work may be
 * done again. Done again it is, at once.
 */
export const IDEMPOTENCY_RECORD_GONE = 'IdempotencyItemNotFoundError';

/**
 * Lambda's own transient failures, as Step Functions names them: its service
 * errors and SDK client errors (which AWS recommends retrying), and throttling.
 * A function's own timeout or crash is `Lambda.Unknown`, which is not among them:
 * it would most likely fail again, and the state's Catch reports it.
 * https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html
 */
export const LAMBDA_TRANSIENT_ERRORS = [
  'Lambda.ClientExecutionTimeoutException',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
] as const;

export interface TaskStateOptions {
  /**
   * Where the task's result goes in the state's data.
   * @default the result replaces the data. Left out of the ASL rather than written
   *   as "$": identical on AWS, and aws-local-stepfunctions 3.0.0 mishandles "$".
   */
  readonly resultPath?: string;
  /** @default 6 */
  readonly maxAttempts?: number;
  /**
   * The part of the state's data the task receives as `input`.
   * @default '$', all of it
   */
  readonly inputPath?: string;
}

/**
 * A Lambda task the way every Pictor workflow calls one: the state's input and the
 * execution id as `{input, executionId}`, the function's own result back, and
 * transient errors (the dependencies' ones named in core/, and Lambda's own)
 * retried with exponential backoff and full jitter, so that retries after a
 * throttle or an outage spread out instead of arriving together. Tasks are safe
 * to repeat, so a retry after a lost answer does no harm.
 */
export function taskState(scope: Construct, id: string, fn: IFunction, options: TaskStateOptions = {}): tasks.LambdaInvoke {
  const state = new tasks.LambdaInvoke(scope, id, {
    lambdaFunction: fn,
    payload: sfn.TaskInput.fromObject({ 'input.$': options.inputPath ?? '$', 'executionId.$': '$$.Execution.Id' }),
    payloadResponseOnly: true,
    resultPath: options.resultPath,
    // The retrier below covers these, with jitter, which CDK's own does not have.
    retryOnServiceExceptions: false,
  });
  state.addRetry({
    errors: [...TRANSIENT_ERRORS, ...LAMBDA_TRANSIENT_ERRORS],
    interval: Duration.seconds(1),
    backoffRate: 2,
    maxDelay: Duration.seconds(30),
    maxAttempts: options.maxAttempts ?? 6,
    jitterStrategy: sfn.JitterType.FULL,
  });
  // A duplicate delivery waits for the first run to finish: about 150 s in all,
  // longer than the slowest task's 2-minute timeout, and no jitter is needed.
  state.addRetry({
    errors: [IDEMPOTENCY_IN_PROGRESS],
    interval: Duration.seconds(2),
    backoffRate: 1.5,
    maxDelay: Duration.seconds(30),
    maxAttempts: 10,
  });
  state.addRetry({ errors: [IDEMPOTENCY_RECORD_GONE], interval: Duration.seconds(1), backoffRate: 2, maxAttempts: 3, jitterStrategy: sfn.JitterType.FULL });
  return state;
}

export interface ReplicationWaitOptions {
  /**
   * How many replications the task may wait for one after another in a run
   * (publishing waits for the snapshot's, then for the pointer's): each gets
   * Replication Time Control's 15 minutes on average.
   * @default 1
   */
  readonly inARow?: number;
}

/**
 * Waits for S3 to finish replicating the originals, which a task reports by
 * throwing ReplicationPending: before erasing them (a copy that lands on a replica
 * after the erase would outlive it), and before publishing goes on (a replica's
 * edge must not find a pointer before its snapshot, nor keep what it rendered
 * from the pointer a replica had before). Replication usually takes seconds;
 * with Replication Time Control, which the pipeline's rules enable, 99.99% of
 * objects arrive within 15 minutes. With full jitter each pause is on average
 * half its backoff, so 35 attempts wait about 16 minutes on average and at most
 * about 32; each further replication in a row adds 30 attempts at the 60 s cap,
 * 15 minutes on average.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-time-control.html
 */
export function waitForReplication<T extends sfn.TaskStateBase>(state: T, options: ReplicationWaitOptions = {}): T {
  const inARow = options.inARow ?? 1;
  if (!Number.isInteger(inARow) || inARow < 1) throw new PictorError('InvalidConfig', `Expected a whole number of at least 1 for inARow but received ${inARow}.`);
  state.addRetry({
    errors: [ERRORS.ReplicationPending],
    interval: Duration.seconds(5),
    backoffRate: 2,
    maxDelay: Duration.seconds(60),
    maxAttempts: 35 + 30 * (inARow - 1),
    jitterStrategy: sfn.JitterType.FULL,
  });
  return state;
}

export interface PictorStateMachineOptions {
  /**
   * The state machine's physical name: one that starts executions of itself needs
   * it to name its own ARN in its role without a dependency cycle.
   * @default a name CloudFormation generates
   */
  readonly name?: string;
}

/**
 * Lets a workflow's Distributed Maps use CDK's ResultWriterV2 (the first
 * ResultWriter is deprecated), whatever the app's context: the feature flag is
 * read up the construct tree, so it is set on the workflow before any state exists.
 */
export function useResultWriterV2(workflow: Construct): void {
  workflow.node.setContext(cxapi.STEPFUNCTIONS_USE_DISTRIBUTED_MAP_RESULT_WRITER_V2, true);
}

/**
 * A Pictor state machine: standard, traced, and logging its failures with their
 * data. Every transition (level ALL) would log each Distributed Map child's every
 * step, at CloudWatch Logs' ingestion price; X-Ray traces those.
 */
export function pictorStateMachine(scope: Construct, start: sfn.IChainable, options: PictorStateMachineOptions = {}): sfn.StateMachine {
  return new sfn.StateMachine(scope, 'StateMachine', {
    stateMachineName: options.name,
    definitionBody: sfn.DefinitionBody.fromChainable(start),
    stateMachineType: sfn.StateMachineType.STANDARD,
    tracingEnabled: true,
    logs: {
      destination: new logs.LogGroup(scope, 'Executions', { logGroupName: executionLogGroupName(scope), retention: logs.RetentionDays.THREE_MONTHS }),
      level: sfn.LogLevel.ERROR,
      includeExecutionData: true,
    },
  });
}

/**
 * Where state machines log. Step Functions adds any other log group it logs to
 * to the account's CloudWatch Logs resource policy, whose 5,120 characters run
 * out after a few state machines and fail the deploy; this prefix needs no entry.
 * https://docs.aws.amazon.com/step-functions/latest/dg/bp-cwl.html
 */
export const EXECUTION_LOG_PREFIX = '/aws/vendedlogs/states/';

/** A state machine's log group name: unique per stack and construct path, so two deployments in one account never share one. */
export function executionLogGroupName(scope: Construct): string {
  return EXECUTION_LOG_PREFIX + Names.uniqueResourceName(scope, { maxLength: 200, separator: '-' });
}
