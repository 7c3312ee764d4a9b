import { selectPath } from '../json-path.ts';
import { IDEMPOTENCY_IN_PROGRESS } from '../../workflows/task-states.ts';

/**
 * The twin's clock for a definition's own pauses: a Retry's backoff and a Wait state
 * run `timeScale` times as long as on AWS, so that tests keep the shape of the
 * timing (growth, caps, jitter, the order of events) without its length.
 */

/** Throws unless the scale is a finite number above 0. */
export function checkTimeScale(timeScale: number): number {
  if (!(Number.isFinite(timeScale) && timeScale > 0)) throw new RangeError(`Expected a finite number above 0 for timeScale but received ${timeScale}`);
  return timeScale;
}

/**
 * A copy of the definition for the interpreter, every retrier's IntervalSeconds and
 * MaxDelaySeconds multiplied by the scale. The interpreter already computes AWS's
 * backoff from them: IntervalSeconds × BackoffRate^(attempt-1), capped by
 * MaxDelaySeconds, and with JitterStrategy FULL a uniform draw in [0, delay]
 * (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html,
 * "Retrying after an error"). Defaults are AWS's: IntervalSeconds 1.
 *
 * A retrier of IdempotencyAlreadyInProgressError keeps real time: it waits for a real
 * handler, still running, to finish.
 */
export function scaleRetries<T>(definition: T, timeScale: number): T {
  const copy = structuredClone(definition) as any;
  if (timeScale === 1) return copy;
  forEachState(copy, (state) => {
    for (const retrier of state.Retry ?? []) {
      if (retrier.ErrorEquals?.includes(IDEMPOTENCY_IN_PROGRESS)) continue;
      retrier.IntervalSeconds = (retrier.IntervalSeconds ?? 1) * timeScale;
      if (retrier.MaxDelaySeconds !== undefined) retrier.MaxDelaySeconds *= timeScale;
    }
  });
  return copy;
}

/**
 * How long a Wait state waits, in ms of the twin's clock, from the state's input (before
 * its InputPath). Seconds and SecondsPath are relative; Timestamp and TimestampPath are
 * absolute, to the second, and the time left until then is what is scaled.
 * https://docs.aws.amazon.com/step-functions/latest/dg/state-wait.html
 * Returns undefined when the state's fields do not give a duration: the interpreter
 * then evaluates the state itself, and fails it as AWS would.
 */
export function waitDurationMs(state: any, rawInput: unknown, timeScale: number, now = Date.now()): number | undefined {
  const input = state.InputPath === null ? {} : state.InputPath ? selectPath(rawInput, state.InputPath) : rawInput;
  let ms: number | undefined;
  if (typeof state.Seconds === 'number') ms = state.Seconds * 1000;
  else if (state.SecondsPath) {
    const seconds = selectPath(input, state.SecondsPath);
    if (typeof seconds === 'number' && Number.isInteger(seconds) && seconds >= 0) ms = seconds * 1000;
  } else {
    const timestamp = state.Timestamp ?? (state.TimestampPath ? selectPath(input, state.TimestampPath) : undefined);
    const at = typeof timestamp === 'string' ? Date.parse(timestamp) : NaN;
    // "Step Functions considers the time value up to seconds and truncates milliseconds."
    if (Number.isFinite(at)) ms = Math.max(0, Math.floor(at / 1000) * 1000 - now);
  }
  return ms === undefined ? undefined : ms * timeScale;
}

/** Calls `visit` for every state of a definition, those in Map and Parallel states included. */
export function forEachState(definition: any, visit: (state: any, name: string) => void): void {
  for (const [name, state] of Object.entries<any>(definition?.States ?? {})) {
    visit(state, name);
    if (state.Type === 'Map') forEachState(state.ItemProcessor ?? state.Iterator, visit);
    if (state.Type === 'Parallel') for (const branch of state.Branches ?? []) forEachState(branch, visit);
  }
}
