import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import { REJECTION_ERRORS, RETRIED_ERRORS } from '../../core/error-codes.ts';
import { isPictorError, PictorError } from '../../core/errors.ts';
import { logFailure } from '../../core/log-level.ts';
import { TASK_REGISTRY, type TaskName } from '../registry.ts';
import type { AwsClients } from './aws-clients.ts';
import type { TaskConfig } from './task-config.ts';

/**
 * What a state machine sends every task: its state's input, and the execution
 * it runs in (for the logs). Built by the workflow's `taskPayload`.
 */
export interface TaskEvent {
  readonly input: unknown;
  readonly executionId?: string;
}

export type TaskHandler = (event: TaskEvent, context: Context) => Promise<unknown>;

export interface TaskDefinition<I, O> {
  /** As the folder and the task registry name it: the Logger's service name, and the declaration its idempotency key comes from. */
  readonly name: TaskName;
  readonly input: z.ZodType<I>;
  readonly run: (input: I, logger: Logger, context: { readonly executionId?: string }) => Promise<O>;
}

/**
 * The one Lambda wrapper: parses the input at the boundary (a bad input is a
 * typed InvalidEvent), adds tenant, image and execution to every log line, logs
 * a failure once as structured JSON and rethrows it with its name intact (the
 * name is the state machine's contract), and makes the task idempotent on DynamoDB
 * where its declaration names an idempotency key (tasks/registry.ts).
 */
export function defineTask<I, O>(definition: TaskDefinition<I, O>, config: TaskConfig, clients: AwsClients): TaskHandler {
  // The level comes from POWERTOOLS_LOG_LEVEL, which the Logger reads itself.
  const logger = new Logger({ serviceName: `pictor-${definition.name}` });
  const run = async (event: TaskEvent, _context?: Context): Promise<O> => {
    const parsed = definition.input.safeParse(event.input);
    const keys = pick(event.input, ['tenant', 'imageId']);
    logger.appendKeys({ ...keys, executionId: event.executionId });
    try {
      if (!parsed.success) {
        throw new PictorError('InvalidEvent', `Invalid input for ${definition.name}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
      }
      return await definition.run(parsed.data, logger, { executionId: event.executionId });
    } catch (error) {
      // Once, at the level the outcome deserves: a retried wait or a quarantined original is not an error.
      logFailure(logger, `${definition.name} ${outcomeOf(error)}`, error);
      // The log has the stack; the state machine gets the first line, since Lambda puts
      // the trace into the error's Cause and Map results must fit a state's 256 KB.
      if (error instanceof Error && error.stack) error.stack = error.stack.split('\n')[0];
      throw error;
    } finally {
      logger.removeKeys(['tenant', 'imageId', 'executionId']);
    }
  };
  const idempotencyKey = TASK_REGISTRY[definition.name].idempotencyKey;
  if (!idempotencyKey) return (event) => run(event);
  const idempotent = makeIdempotent(run, {
    // Records are per task, whatever the function is named: two tasks may share an idempotency key.
    keyPrefix: `pictor-${definition.name}`,
    persistenceStore: new DynamoDBPersistenceLayer({ tableName: config.idempotencyTable, awsSdkV3Client: clients.dynamodb }),
    config: new IdempotencyConfig({
      eventKeyJmesPath: idempotencyKey,
      // Without this, a missing key silently turns idempotency off.
      throwOnNoIdempotencyKey: true,
      // S3 may deliver an event again hours later; a day covers its retries.
      expiresAfterSeconds: 86400,
    }),
  });
  return (event, context) => idempotent(event, context);
}

/** What the state machine does next with a task's failure, as its Retry and Catch say. */
function outcomeOf(error: unknown): string {
  if (isPictorError(error) && RETRIED_ERRORS.includes(error.code)) return 'will be retried';
  if (isPictorError(error) && REJECTION_ERRORS.includes(error.code)) return 'rejected the original';
  return 'failed';
}

function pick(value: unknown, names: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  if (value && typeof value === 'object') {
    for (const name of names) {
      const item = (value as Record<string, unknown>)[name];
      if (typeof item === 'string') out[name] = item;
    }
  }
  return out;
}

/** A Lambda entry point: the configuration is read and validated once, on the first invocation. */
export function lambdaEntry(create: (config: TaskConfig) => TaskHandler, readConfig: () => TaskConfig): TaskHandler {
  let instance: TaskHandler | undefined;
  return (event, context) => (instance ??= create(readConfig()))(event, context);
}
