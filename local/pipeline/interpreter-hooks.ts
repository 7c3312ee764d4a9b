import './polyfills.ts';
import { StateMachine } from 'aws-local-stepfunctions';

/**
 * A synchronous window into aws-local-stepfunctions: every event the interpreter logs,
 * as it logs it, for one run and each inline Map iteration and Parallel branch under
 * it. The library only hands out its event log as an async generator, which is read
 * after the fact; a limit (payload size, history length) must stop the state as it
 * happens, and a Wait's scaled duration must be known before the state reads it.
 *
 * The interpreter runs nested iterations and branches through the same exported
 * StateMachine class and passes them the root run's options, so wrapping its
 * `execute` once reaches them all. Runs that carry no hooks are untouched.
 */
export const RUN_HOOKS = Symbol('pictor.runHooks');
const DEPTH = Symbol('pictor.runDepth');
const PATCHED = Symbol.for('pictor.interpreterHooks');
/**
 * Events a nested run logs are forwarded, as the same objects, to the root run's log:
 * each is reported once, where it happens.
 */
const reported = new WeakSet<object>();

/** An event as the interpreter logs it (its type is not exported). */
export interface InterpreterEvent {
  readonly type: string;
  readonly state?: { readonly name: string; readonly type: string; readonly input: unknown; readonly output?: unknown };
  readonly Error?: string;
  readonly Cause?: string;
}

export interface RunScope {
  /** The definition (or ItemProcessor, or Parallel branch) this run executes: the object the interpreter was given. */
  readonly definition: { States: Record<string, any> };
  /** 0 for the execution itself, 1 for an iteration or branch in it, and so on. */
  readonly depth: number;
  /** The run options, shared by the run and everything nested in it. */
  readonly runOptions: Record<PropertyKey, any>;
}

export interface RunHooks {
  /**
   * Called as each event is logged, before it is queued, once per event (not again as
   * the interpreter forwards a nested run's events to the root's log). Throwing from a state's
   * event (StateEntered, StateExited, StateFailed, StateRetried, StateCaught) fails
   * that run at once with the error thrown; never throw from an Execution* event.
   */
  onEvent(event: InterpreterEvent, scope: RunScope): void;
}

const proto = StateMachine.prototype as unknown as Record<PropertyKey, any>;
if (!proto[PATCHED]) {
  const execute = proto.execute as (this: StateMachine, input: unknown, options: any, cleanup: () => void) => Promise<unknown>;
  proto.execute = function (this: { definition: RunScope['definition'] }, input: unknown, options: any, cleanup: () => void) {
    const hooks: RunHooks | undefined = options?.runOptions?.[RUN_HOOKS];
    if (!hooks) return execute.call(this as never, input, options, cleanup);
    const depth: number = options.runOptions[DEPTH] ?? 0;
    // Nested runs receive options.runOptions: mark them one level deeper.
    const runOptions = { ...options.runOptions, [DEPTH]: depth + 1 };
    const scope: RunScope = { definition: this.definition, depth, runOptions: options.runOptions };
    const logger = options.eventLogger;
    const dispatch = logger.dispatch;
    logger.dispatch = (event: InterpreterEvent) => {
      if (!reported.has(event)) {
        reported.add(event);
        hooks.onEvent(event, scope);
      }
      dispatch.call(logger, event);
    };
    return execute.call(this as never, input, { ...options, runOptions }, cleanup);
  };
  proto[PATCHED] = true;
}
