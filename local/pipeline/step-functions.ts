import './polyfills.ts';
import { selectPath } from '../json-path.ts';
import { randomUUID } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { ExecutionError, StateMachine } from 'aws-local-stepfunctions';
import { runDistributedMap, StatesError, type ChildExecution, type MapRunRecord } from './distributed-map.ts';
import { HistoryCounter, historyEventsOf, type HistoryStateKind } from './history.ts';
import { RUN_HOOKS, type InterpreterEvent, type RunHooks, type RunScope } from './interpreter-hooks.ts';
import { DataLimitExceededError, PAYLOAD_LIMIT_BYTES, checkExecutionInput, checkPayload, dataLimitCause, payloadBytes } from './limits.ts';
import { arnOf } from './template.ts';
import { checkTimeScale, forEachState, scaleRetries, waitDurationMs } from './time-scale.ts';

export type { MapRunRecord } from './distributed-map.ts';

/** An event of the interpreter's log (the library does not export the type). */
type EventLog = ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

/** A Lambda function, as the twin calls it: the task payload in, its result out. */
export type LocalFunction = (payload: unknown) => Promise<unknown>;

/** An execution, as DescribeExecution and ListExecutions report it: a child of a map run has the same shape. */
export interface ExecutionRecord extends Omit<ChildExecution, 'abort'> {
  readonly mapRuns: MapRunRecord[];
  /** Events in the execution's history as GetExecutionHistory would list them; 25,000 at most. */
  historyEvents: number;
  /** For a Distributed Map's child execution, the map run it belongs to. */
  readonly mapRunArn?: string;
}

export interface LocalStepFunctionsOptions {
  /**
   * How long the definitions' own pauses last on the twin, as a fraction of AWS's
   * time: every Retry pause (its real backoff, cap and jitter) and every Wait state
   * (Seconds, SecondsPath, or the time left until Timestamp/TimestampPath). Retries
   * of IdempotencyAlreadyInProgressError keep real time: they wait for a real
   * handler still running. 0.001 turns a 15 s poll into 15 ms.
   * @default 1
   */
  readonly timeScale?: number;
  /**
   * The S3 client a Distributed Map's ItemReader and ResultWriter use, as Step Functions
   * would call S3 for them: point it at the twin's S3.
   * @default none: a Distributed Map with an ItemReader or a ResultWriter fails
   */
  readonly s3Client?: S3Client;
}

/** The longest timer node arms (2^31-1 ms, about 24.8 days): the twin's "no timeout". */
const NO_TIMEOUT_SECONDS = Math.floor((2 ** 31 - 1) / 1000);
const DISTRIBUTED_MAP_RESOURCE = 'arn:aws:states:::pictor:distributedMap';
const START_EXECUTION = /^arn:[^:]+:states:::states:startExecution(\..+)?$/;

/** A definition as the interpreter runs it, and what the twin knows of its states. */
interface Runnable {
  readonly machine: StateMachine;
  /** What each state (by the interpreter's state object) is, for its history. */
  readonly kinds: WeakMap<object, HistoryStateKind>;
  /** The ItemProcessor objects of inline Map states: their runs are Map iterations. */
  readonly inlineProcessors: WeakSet<object>;
  /** Each Distributed Map state's stand-in, with the Map state and its ItemProcessor's runnable. */
  readonly distributed: Map<string, { state: any; processor: Runnable }>;
}

interface MachineEntry {
  readonly arn: string;
  readonly runnable: Runnable;
  readonly tasks: Record<string, LocalFunction | 'startExecution'>;
  readonly maps: Map<string, { itemsPath: string; maxConcurrency: number }>;
}

/**
 * Step Functions for the twin: the synthesized ASL of every state machine, run by
 * aws-local-stepfunctions, with each Task state's Lambda ARN bound to the real
 * task handler. Executions are kept for DescribeExecution and ListExecutions.
 *
 * Around the interpreter, the twin holds executions to Step Functions' quotas (256 KiB
 * payloads, 25,000 history events), runs Distributed Map states as map runs of child
 * executions, and runs the optimized `states:startExecution` integration.
 */
export class LocalStepFunctions {
  private readonly machines = new Map<string, MachineEntry>();
  private readonly executions = new Map<string, ExecutionRecord>();
  private readonly timeScale: number;

  /** The ASL of each state machine, by logical id, as it was given: the interpreter runs its own copy. */
  readonly definitions: ReadonlyMap<string, unknown>;

  constructor(definitions: ReadonlyMap<string, any>, functions: ReadonlyMap<string, LocalFunction>, private readonly options: LocalStepFunctionsOptions = {}) {
    this.timeScale = checkTimeScale(options.timeScale ?? 1);
    this.definitions = new Map([...definitions].map(([id, definition]) => [id, structuredClone(definition)]));
    for (const [logicalId, definition] of definitions) {
      const tasks: MachineEntry['tasks'] = {};
      for (const [stateName, state] of taskStates(definition)) {
        const match = START_EXECUTION.exec(state.Resource);
        if (match) {
          // Request-response only: .sync and .waitForTaskToken wait on what the twin does not model.
          if (match[1]) throw new Error(`State '${stateName}' calls ${state.Resource}; the twin runs only arn:aws:states:::states:startExecution (request-response).`);
          tasks[stateName] = 'startExecution';
          continue;
        }
        const fn = functions.get(state.Resource);
        if (!fn) throw new Error(`State '${stateName}' calls ${state.Resource}, which the twin does not run.`);
        tasks[stateName] = fn;
      }
      // The deployed definition is validated as given; the interpreter runs a prepared copy.
      new StateMachine(definition, { validationOptions: { checkArn: true, checkPaths: true } });
      const runnable = prepare(scaleRetries(definition, this.timeScale));
      const maps = new Map(statesOfType(definition, 'Map').map(([name, state]) => [name, { itemsPath: state.ItemsPath ?? '$', maxConcurrency: state.MaxConcurrency ?? 0 }]));
      this.machines.set(arnOf('AWS::StepFunctions::StateMachine', logicalId), { arn: arnOf('AWS::StepFunctions::StateMachine', logicalId), runnable, tasks, maps });
    }
  }

  get stateMachineArns(): string[] {
    return [...this.machines.keys()];
  }

  /**
   * StartExecution. An execution input over 256 KiB is refused with ValidationException,
   * as the API refuses it. A name already used answers the execution that has it.
   */
  start(stateMachineArn: string, input: unknown, name: string = randomUUID()): ExecutionRecord {
    const entry = this.machines.get(stateMachineArn);
    if (!entry) throw Object.assign(new Error(`State machine does not exist: ${stateMachineArn}`), { name: 'StateMachineDoesNotExist' });
    checkExecutionInput(input);
    const executionArn = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    const existing = this.executions.get(executionArn);
    if (existing) return existing;
    return this.launch(entry, entry.runnable, input, executionArn, name);
  }

  /**
   * Runs a definition (a state machine's, or a Distributed Map's ItemProcessor) as one
   * execution with its own history and limits.
   */
  private launch(entry: MachineEntry, runnable: Runnable, input: unknown, executionArn: string, name: string, mapRunArn?: string): ExecutionRecord & { abort(): void } {
    const startDate = new Date();
    const history = new HistoryCounter();
    const waits: Record<string, number> = {};
    const collected = new Map<object, number>();
    const context = {
      Execution: { Id: executionArn, Name: name, Input: input, StartTime: startDate.toISOString() },
      StateMachine: { Id: entry.arn, Name: entry.arn.split(':').pop() },
    };
    let record!: ExecutionRecord & { abort(): void };
    const hooks: RunHooks = {
      onEvent: (event, scope) => {
        const stateObject = event.state ? scope.definition.States[event.state.name] : undefined;
        const kind = stateObject ? (runnable.kinds.get(stateObject) ?? (stateObject.Type as HistoryStateKind)) : undefined;
        const nested = scope.depth === 0 ? undefined : runnable.inlineProcessors.has(scope.definition) ? 'map' : 'parallel';
        history.add(historyEventsOf(event, kind, nested), event, scope.depth === 0);
        if (record) record.historyEvents = history.count;
        this.checkLimits(event, scope, kind, nested, collected);
        if (event.type === 'StateEntered' && kind === 'Wait' && this.timeScale !== 1) {
          // Read by the interpreter's Wait state right after this event, synchronously.
          const ms = waitDurationMs(stateObject, event.state!.input, this.timeScale);
          if (ms === undefined) delete waits[event.state!.name];
          else waits[event.state!.name] = ms;
        }
      },
    };
    const handlers: Record<string, LocalFunction> = {};
    for (const [stateName, task] of Object.entries(entry.tasks)) {
      const fn: LocalFunction = task === 'startExecution' ? (params) => this.startFromTask(params) : task;
      handlers[stateName] = async (payload) => {
        // "The input of a state is larger than the quota after Parameters processing."
        checkPayload(payload, stateName, 'input');
        const result = await fn(payload);
        checkPayload(result, stateName, 'result');
        return result;
      };
    }
    for (const [stateName, { state, processor }] of runnable.distributed) {
      handlers[stateName] = (mapInput) =>
        runDistributedMap({
          stateName,
          state,
          input: mapInput,
          context: { ...context, State: { Name: stateName, EnteredTime: new Date().toISOString() } },
          executionArn,
          stateMachineArn: entry.arn,
          s3: this.options.s3Client,
          evaluate: (template, value, ctx) => evaluateTemplate(template, value, ctx),
          startChild: (childInput, childArn, childName) => this.startChild(entry, processor, childInput, childArn, childName, record),
          onMapRun: (mapRun) => record.mapRuns.push(mapRun),
        });
    }
    const run = runnable.machine.run(input as Parameters<StateMachine['run']>[0], {
      ...({ [RUN_HOOKS]: hooks } as {}),
      overrides: { taskResourceLocalHandlers: handlers as never, waitTimeOverrides: waits },
      context: context as never,
    });
    record = {
      executionArn,
      stateMachineArn: entry.arn,
      name,
      input,
      startDate,
      status: 'RUNNING',
      mapRuns: [],
      historyEvents: history.count,
      mapRunArn,
      abort: run.abort,
      done: run.result
        .then(
          (output) => {
            record.status = 'SUCCEEDED';
            record.output = output;
          },
          (error: unknown) => {
            if ((error as Error)?.name === 'ExecutionAbortedError') {
              record.status = 'ABORTED';
              return;
            }
            record.status = 'FAILED';
            const cause = error instanceof ExecutionError ? (error.cause as Error | undefined) : (error as Error);
            record.error = cause?.name ?? 'States.Runtime';
            record.cause = cause?.message ?? String(error);
          },
        )
        .finally(() => {
          record.historyEvents = history.count;
          record.stopDate = new Date();
        }),
    };
    this.executions.set(executionArn, record);
    void this.countMapRuns(record, run.eventLogs, entry.maps);
    return record;
  }

  /**
   * The payload quota at each state, as Step Functions applies it: a state's input as
   * it enters, its output as it leaves, and an inline Map's collected result.
   * https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html
   */
  private checkLimits(event: InterpreterEvent, scope: RunScope, kind: HistoryStateKind | undefined, nested: 'map' | 'parallel' | undefined, collected: Map<object, number>): void {
    const state = event.state;
    if (event.type === 'StateEntered' && state) {
      checkPayload(state.input, state.name, 'input');
      if (kind === 'Map') {
        const processor = scope.definition.States[state.name].ItemProcessor ?? scope.definition.States[state.name].Iterator;
        collected.set(processor, 1);
      }
    } else if (event.type === 'StateExited' && state) {
      if (kind === 'Map') {
        const processor = scope.definition.States[state.name].ItemProcessor ?? scope.definition.States[state.name].Iterator;
        // The brackets and commas of the array of iteration outputs, before ResultSelector and ResultPath.
        if ((collected.get(processor) ?? 0) + 1 > PAYLOAD_LIMIT_BYTES) throw new DataLimitExceededError(dataLimitCause(state.name, 'result'));
      }
      checkPayload(state.output, state.name, 'output');
    } else if (event.type === 'ExecutionSucceeded' && nested === 'map' && collected.has(scope.definition)) {
      collected.set(scope.definition, collected.get(scope.definition)! + payloadBytes((event as { output?: unknown }).output) + 1);
    }
  }

  private startChild(entry: MachineEntry, processor: Runnable, input: unknown, executionArn: string, name: string, parent: ExecutionRecord): ChildExecution {
    // Each child's input is an execution input: 256 KiB at most; one over it fails as an item.
    if (payloadBytes(input) > PAYLOAD_LIMIT_BYTES) {
      const now = new Date();
      const failed: ChildExecution = {
        executionArn,
        name,
        input,
        startDate: now,
        stopDate: now,
        stateMachineArn: entry.arn,
        status: 'FAILED',
        error: 'States.DataLimitExceeded',
        cause: `The child execution's input is over ${PAYLOAD_LIMIT_BYTES} bytes.`,
        done: Promise.resolve(),
        abort: () => {},
      };
      return failed;
    }
    const mapRunArn = parent.mapRuns.at(-1)?.mapRunArn;
    return this.launch(entry, processor, input, executionArn, name, mapRunArn);
  }

  /**
   * The optimized integration arn:aws:states:::states:startExecution, request-response:
   * starts the execution and answers {ExecutionArn, StartDate} at once. A name in use
   * with the same input, while that execution is open, answers it again; otherwise
   * ExecutionAlreadyExists, as the API's, prefixed as an integration's errors are.
   * https://docs.aws.amazon.com/step-functions/latest/dg/connect-stepfunctions.html
   * https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html
   */
  private async startFromTask(params: unknown): Promise<unknown> {
    const { StateMachineArn, Input, Name } = (params ?? {}) as { StateMachineArn?: string; Input?: unknown; Name?: string };
    const fail = (name: string, message: string) => new StatesError(`StepFunctions.${name}`, message);
    if (!StateMachineArn || !this.machines.has(StateMachineArn)) throw fail('StateMachineDoesNotExistException', `State Machine Does Not Exist: '${StateMachineArn}'`);
    // Input may be given as JSON text or as JSON.
    const input = typeof Input === 'string' ? parseJson(Input, fail) : (Input ?? {});
    if (payloadBytes(input) > PAYLOAD_LIMIT_BYTES) throw fail('ValidationException', `Value at 'input' failed to satisfy constraint: Member must have length less than or equal to ${PAYLOAD_LIMIT_BYTES}`);
    const name = Name ?? randomUUID();
    const executionArn = `${StateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    const existing = this.executions.get(executionArn);
    if (existing) {
      if (existing.status !== 'RUNNING' || JSON.stringify(existing.input) !== JSON.stringify(input)) {
        throw fail('ExecutionAlreadyExistsException', `Execution Already Exists: '${executionArn}'`);
      }
      return { ExecutionArn: existing.executionArn, StartDate: existing.startDate.getTime() };
    }
    const record = this.start(StateMachineArn, input, name);
    return { ExecutionArn: record.executionArn, StartDate: record.startDate.getTime() };
  }

  /**
   * Inline Map runs, counted from the interpreter's event log as DescribeMapRun would
   * count a map run's items (Distributed Map runs count themselves). Reading the log
   * also keeps the interpreter's event queue from growing.
   */
  private async countMapRuns(record: ExecutionRecord, events: AsyncGenerator<EventLog>, maps: ReadonlyMap<string, { itemsPath: string; maxConcurrency: number }>): Promise<void> {
    const current = new Map<string, MapRunRecord>();
    for await (const event of events) {
      if (event.type === 'StateEntered' && event.state.type === 'Map') {
        const map = maps.get(event.state.name);
        const items = map ? selectPath(event.state.input, map.itemsPath) : undefined;
        const total = Array.isArray(items) ? items.length : 0;
        const mapRun: MapRunRecord = {
          mapRunArn: `${record.stateMachineArn.replace(':stateMachine:', ':mapRun:')}/${event.state.name}:${randomUUID()}`,
          executionArn: record.executionArn,
          stateName: event.state.name,
          startDate: new Date(event.timestamp),
          maxConcurrency: map?.maxConcurrency ?? 0,
          status: 'RUNNING',
          itemCounts: { total, pending: total, running: 0, succeeded: 0, failed: 0, aborted: 0 },
        };
        current.set(event.state.name, mapRun);
        record.mapRuns.push(mapRun);
      } else if (event.type === 'MapIterationStarted' || event.type === 'MapIterationSucceeded' || event.type === 'MapIterationFailed') {
        const counts = current.get(event.parentState.name)?.itemCounts;
        if (!counts) continue;
        if (event.type === 'MapIterationStarted') {
          counts.pending--;
          counts.running++;
        } else {
          counts.running--;
          if (event.type === 'MapIterationSucceeded') counts.succeeded++;
          else counts.failed++;
        }
      } else if ((event.type === 'StateExited' || event.type === 'StateFailed') && event.state.type === 'Map') {
        const mapRun = current.get(event.state.name);
        if (!mapRun) continue;
        mapRun.status = event.type === 'StateExited' ? 'SUCCEEDED' : 'FAILED';
        mapRun.stopDate = new Date(event.timestamp);
      }
    }
  }

  /** A map run by its ARN. */
  mapRun(mapRunArn: string): MapRunRecord | undefined {
    for (const execution of this.executions.values()) {
      const found = execution.mapRuns.find((m) => m.mapRunArn === mapRunArn);
      if (found) return found;
    }
    return undefined;
  }

  describe(executionArn: string): ExecutionRecord | undefined {
    return this.executions.get(executionArn);
  }

  /**
   * ListExecutions: by state machine, newest first. A Distributed Map's child executions
   * are listed by their map run only, as ListExecutions lists them.
   */
  list(stateMachineArn?: string): ExecutionRecord[] {
    return [...this.executions.values()].filter((e) => !e.mapRunArn && (!stateMachineArn || e.stateMachineArn === stateMachineArn)).reverse();
  }

  /** ListExecutions with a mapRunArn: the map run's child executions. */
  listMapRunExecutions(mapRunArn: string): ExecutionRecord[] {
    return [...this.executions.values()].filter((e) => e.mapRunArn === mapRunArn).reverse();
  }

  /** Resolves once no execution is running. */
  async settled(): Promise<void> {
    for (;;) {
      const running = [...this.executions.values()].filter((e) => e.status === 'RUNNING');
      if (running.length === 0) return;
      await Promise.all(running.map((e) => e.done));
    }
  }
}

function parseJson(text: string, fail: (name: string, message: string) => Error): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw fail('InvalidExecutionInputException', 'The provided JSON input data is not valid.');
  }
}

/**
 * The interpreter's copy of a definition: every Task without a timeout gets none (the
 * interpreter would impose 60 s; AWS imposes nothing without TimeoutSeconds,
 * https://docs.aws.amazon.com/step-functions/latest/dg/state-task.html), and every
 * Distributed Map becomes a Task stand-in with the Map's own InputPath, ResultSelector,
 * ResultPath, OutputPath, Retry, Catch and transition, whose handler runs the map run.
 */
function prepare(definition: any): Runnable {
  const kinds = new WeakMap<object, HistoryStateKind>();
  const inlineProcessors = new WeakSet<object>();
  const distributed = new Map<string, { state: any; processor: Runnable }>();
  const visit = (scope: any) => {
    for (const [name, state] of Object.entries<any>(scope?.States ?? {})) {
      if (state.Type === 'Task' && state.TimeoutSeconds === undefined && state.TimeoutSecondsPath === undefined) state.TimeoutSeconds = NO_TIMEOUT_SECONDS;
      if (state.Type === 'Parallel') for (const branch of state.Branches ?? []) visit(branch);
      if (state.Type !== 'Map') continue;
      const processor = state.ItemProcessor ?? state.Iterator;
      if (processor?.ProcessorConfig?.Mode !== 'DISTRIBUTED') {
        inlineProcessors.add(processor);
        visit(processor);
        continue;
      }
      const standIn: Record<string, unknown> = { Type: 'Task', Resource: DISTRIBUTED_MAP_RESOURCE, TimeoutSeconds: NO_TIMEOUT_SECONDS };
      for (const field of ['Comment', 'InputPath', 'ResultSelector', 'ResultPath', 'OutputPath', 'Retry', 'Catch', 'Next', 'End']) {
        if (field in state) standIn[field] = state[field];
      }
      kinds.set(standIn, 'DistributedMap');
      distributed.set(name, { state, processor: prepare(processor) });
      scope.States[name] = standIn;
    }
  };
  visit(definition);
  const machine = new StateMachine(definition, { validationOptions: { noValidate: true } });
  const runnable: Runnable = { machine, kinds, inlineProcessors, distributed };
  // Stand-ins inside the ItemProcessors run in their own (child) runnables; the root's
  // map of stand-ins holds only its own.
  return runnable;
}

/**
 * Evaluates a payload template (`.$` keys, paths into `$` and `$$`, intrinsic functions)
 * exactly as the interpreter does, by running a one-state Pass machine with it. The
 * Pass state's InputPath reads the value from the context, so that `$$.Execution.Input`
 * stays the execution's own.
 */
async function evaluateTemplate(template: unknown, input: unknown, context: Record<string, any>): Promise<unknown> {
  const machine = new StateMachine(
    { StartAt: 'Evaluate', States: { Evaluate: { Type: 'Pass', InputPath: '$$.PictorTemplateInput', Parameters: template as never, End: true } } } as never,
    { validationOptions: { noValidate: true } },
  );
  const execution = context.Execution ?? {};
  const run = machine.run(execution.Input as never, { context: { ...context, PictorTemplateInput: input } as never });
  try {
    return await run.result;
  } catch (error) {
    const cause = error instanceof ExecutionError ? (error.cause as Error) : (error as Error);
    throw new StatesError(cause?.name ?? 'States.Runtime', cause?.message ?? String(error));
  }
}

/** Every Task state of a definition, nested Map and Parallel states included. */
export function taskStates(definition: any): [string, any][] {
  return statesOfType(definition, 'Task');
}

export function statesOfType(definition: any, type: string): [string, any][] {
  const found: [string, any][] = [];
  forEachState(definition, (state, name) => {
    if (state.Type === type) found.push([name, state]);
  });
  return found;
}

