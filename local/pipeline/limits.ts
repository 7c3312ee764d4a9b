/**
 * The Step Functions quotas the twin enforces, with the errors AWS reports for them.
 * https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html
 * https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
 */

/** "Maximum input or output size for a task, state, or execution: 256 KiB of data as a UTF-8 encoded string." */
export const PAYLOAD_LIMIT_BYTES = 262_144;

/** "Maximum execution history size: 25,000 events in a single state machine execution history." */
export const HISTORY_LIMIT_EVENTS = 25_000;

/** The bytes of a value as Step Functions measures a payload: its JSON, in UTF-8. */
export function payloadBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? 'null', 'utf8');
}

/**
 * An error a state cannot recover from. The interpreter consults `isRetryable` and
 * `isCatchable` before any Retry or Catch matches, States.ALL included.
 */
export class TerminalStatesError extends Error {
  get isRetryable(): boolean {
    return false;
  }
  get isCatchable(): boolean {
    return false;
  }
}

/**
 * States.DataLimitExceeded: "a terminal error that can't be caught by the States.ALL
 * error type", reported when a connector's output, a state's output, or a state's input
 * after Parameters is over the payload quota. The twin treats it as terminal outright:
 * no retrier or catcher matches it, one naming it included (stricter than a reading
 * that lets an explicit name through, never more lenient).
 */
export class DataLimitExceededError extends TerminalStatesError {
  override readonly name = 'States.DataLimitExceeded';
}

/** AWS's cause text, as its executions report it. */
export function dataLimitCause(stateName: string, what: 'result' | 'input' | 'output'): string {
  if (what === 'result') return `The state/task '${stateName}' returned a result with a size exceeding the maximum number of bytes service limit.`;
  return `The state/task '${stateName}' has an ${what} with a size exceeding the maximum number of bytes service limit.`;
}

/** Throws States.DataLimitExceeded when the value is over 256 KiB. */
export function checkPayload(value: unknown, stateName: string, what: 'result' | 'input' | 'output'): void {
  if (payloadBytes(value) > PAYLOAD_LIMIT_BYTES) throw new DataLimitExceededError(dataLimitCause(stateName, what));
}

/**
 * The history quota: AWS fails the execution with States.Runtime (which States.ALL does
 * not catch either), the failure itself being event 25,000.
 */
export class HistoryLimitError extends TerminalStatesError {
  override readonly name = 'States.Runtime';
  constructor() {
    super(`The execution reached the maximum number of history events (${HISTORY_LIMIT_EVENTS}).`);
  }
}

/**
 * StartExecution's answer to an input over the quota: its `input` member is limited to
 * 262,144 bytes (https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html),
 * and a member over its length constraint is the API's ValidationException.
 */
export class StartExecutionValidationError extends Error {
  override readonly name = 'ValidationException';
}

export function checkExecutionInput(input: unknown): void {
  const bytes = payloadBytes(input);
  if (bytes > PAYLOAD_LIMIT_BYTES) {
    throw new StartExecutionValidationError(`1 validation error detected: Value at 'input' failed to satisfy constraint: Member must have length less than or equal to ${PAYLOAD_LIMIT_BYTES} (was ${bytes} bytes)`);
  }
}
