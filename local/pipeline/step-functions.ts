import './polyfills.ts';
import { selectPath } from '../json-path.ts';
import { randomUUID } from 'node:crypto';
import { ExecutionError, StateMachine } from 'aws-local-stepfunctions';
import { RUN_HOOKS, type RunHooks } from './interpreter-hooks.ts';
import { arnOf } from './template.ts';
import { checkTimeScale, scaleRetries, waitDurationMs } from './time-scale.ts';

/**
 * One run of a Map state, as DescribeMapRun reports a Distributed Map's: how many
 * of its items are pending, running, done. The twin counts them from the
 * interpreter's event log. https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeMapRun.html
 */
export interface MapRunRecord {
  readonly mapRunArn: string;
  readonly executionArn: string;
  readonly stateName: string;
  readonly startDate: Date;
  readonly maxConcurrency: number;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  stopDate?: Date;
  readonly itemCounts: { total: number; pending: number; running: number; succeeded: number; failed: number };
}

/** An event of the interpreter's log (the library does not export the type). */
type EventLog = ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

/** A Lambda function, as the twin calls it: the task payload in, its result out. */
export type LocalFunction = (payload: unknown) => Promise<unknown>;

export interface ExecutionRecord {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  readonly input: unknown;
  readonly startDate: Date;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  stopDate?: Date;
  output?: unknown;
  error?: string;
  cause?: string;
  /** Settles when the execution ends, whatever its outcome. */
  readonly done: Promise<void>;
  readonly mapRuns: MapRunRecord[];
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
}

/**
 * Step Functions for the twin: the synthesized ASL of every state machine, run by
 * aws-local-stepfunctions, with each Task state's Lambda ARN bound to the real
 * task handler. Executions are kept for DescribeExecution and ListExecutions.
 */
export class LocalStepFunctions {
  private readonly machines = new Map<
    string,
    {
      machine: StateMachine;
      overrides: Record<string, (input: unknown) => Promise<unknown>>;
      maps: Map<string, { itemsPath: string; maxConcurrency: number }>;
    }
  >();
  private readonly executions = new Map<string, ExecutionRecord>();

  /** The ASL of each state machine, by logical id, as it was given: the interpreter fills in defaults on its own copy. */
  readonly definitions: ReadonlyMap<string, unknown>;

  private readonly timeScale: number;

  constructor(definitions: ReadonlyMap<string, any>, functions: ReadonlyMap<string, LocalFunction>, private readonly options: LocalStepFunctionsOptions = {}) {
    this.timeScale = checkTimeScale(options.timeScale ?? 1);
    this.definitions = new Map([...definitions].map(([id, definition]) => [id, structuredClone(definition)]));
    for (const [logicalId, definition] of definitions) {
      const overrides: Record<string, (input: unknown) => Promise<unknown>> = {};
      for (const [stateName, state] of taskStates(definition)) {
        const fn = functions.get(state.Resource);
        if (!fn) throw new Error(`State '${stateName}' calls ${state.Resource}, which the twin does not run.`);
        overrides[stateName] = fn;
      }
      // The deployed definition is validated as given; the interpreter runs it on the twin's clock.
      new StateMachine(definition, { validationOptions: { checkArn: true, checkPaths: true } });
      const machine = new StateMachine(scaleRetries(definition, this.timeScale), { validationOptions: { noValidate: true } });
      const maps = new Map(statesOfType(definition, 'Map').map(([name, state]) => [name, { itemsPath: state.ItemsPath ?? '$', maxConcurrency: state.MaxConcurrency ?? 0 }]));
      this.machines.set(arnOf('AWS::StepFunctions::StateMachine', logicalId), { machine, overrides, maps });
    }
  }

  get stateMachineArns(): string[] {
    return [...this.machines.keys()];
  }

  start(stateMachineArn: string, input: unknown, name: string = randomUUID()): ExecutionRecord {
    const entry = this.machines.get(stateMachineArn);
    if (!entry) throw Object.assign(new Error(`State machine does not exist: ${stateMachineArn}`), { name: 'StateMachineDoesNotExist' });
    const executionArn = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    const existing = this.executions.get(executionArn);
    if (existing) return existing;
    const startDate = new Date();
    const waits: Record<string, number> = {};
    const hooks: RunHooks = {
      onEvent: (event, scope) => {
        if (event.type === 'StateEntered' && event.state?.type === 'Wait' && this.timeScale !== 1) {
          // Read by the interpreter's Wait state right after this event, synchronously.
          const ms = waitDurationMs(scope.definition.States[event.state.name], event.state.input, this.timeScale);
          if (ms === undefined) delete waits[event.state.name];
          else waits[event.state.name] = ms;
        }
      },
    };
    const run = entry.machine.run(input as Parameters<StateMachine["run"]>[0], {
      ...({ [RUN_HOOKS]: hooks } as {}),
      overrides: { taskResourceLocalHandlers: entry.overrides as never, waitTimeOverrides: waits },
      context: {
        Execution: { Id: executionArn, Name: name, Input: input as never, StartTime: startDate.toISOString() },
        StateMachine: { Id: stateMachineArn, Name: stateMachineArn.split(':').pop() },
      },
    });
    const record: ExecutionRecord = {
      executionArn,
      stateMachineArn,
      name,
      input,
      startDate,
      status: 'RUNNING',
      mapRuns: [],
      done: run.result.then(
        (output) => {
          record.status = 'SUCCEEDED';
          record.output = output;
        },
        (error: unknown) => {
          record.status = 'FAILED';
          const cause = error instanceof ExecutionError ? (error.cause as Error | undefined) : (error as Error);
          record.error = cause?.name ?? 'States.Runtime';
          record.cause = cause?.message ?? String(error);
        },
      ).finally(() => {
        record.stopDate = new Date();
      }),
    };
    this.executions.set(executionArn, record);
    void this.countMapRuns(record, run.eventLogs, entry.maps);
    return record;
  }

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
          itemCounts: { total, pending: total, running: 0, succeeded: 0, failed: 0 },
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

  list(stateMachineArn?: string): ExecutionRecord[] {
    return [...this.executions.values()].filter((e) => !stateMachineArn || e.stateMachineArn === stateMachineArn).reverse();
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

/** Every Task state of a definition, nested Map and Parallel states included. */
export function taskStates(definition: any): [string, any][] {
  return statesOfType(definition, 'Task');
}

export function statesOfType(definition: any, type: string): [string, any][] {
  const found: [string, any][] = [];
  const visit = (states: Record<string, any> | undefined) => {
    for (const [name, state] of Object.entries(states ?? {})) {
      if (state.Type === type) found.push([name, state]);
      if (state.Type === 'Map') visit((state.ItemProcessor ?? state.Iterator)?.States);
      if (state.Type === 'Parallel') for (const branch of state.Branches ?? []) visit(branch.States);
    }
  };
  visit(definition.States);
  return found;
}
