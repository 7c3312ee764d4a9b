import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { RETRIED_ERRORS, TRANSIENT_ERRORS, type ErrorCode } from '../core/error-codes.ts';
import { ERRORS } from '../core/errors.ts';
import { START_EXECUTION_ERRORS } from './catalogue-rerender.ts';
import { IDEMPOTENCY_IN_PROGRESS, IDEMPOTENCY_RECORD_GONE, LAMBDA_TRANSIENT_ERRORS } from './task-states.ts';

/**
 * Test support for the workflows' per-state tests (not a test file itself): a
 * workflow construct alone in a fresh stack, its state machine's ASL read from the
 * synthesized template, and walks over that ASL's states.
 */

/** The account and region of the bare stack: what the ARNs in a definition are built from. */
export const BARE_ENV = { account: '111111111111', region: 'eu-west-1' } as const;

/** The reports bucket a bare workflow is given, by name. */
export const REPORTS_BUCKET = 'pictor-reports';

/** An imported function: no code, no role, only the ARN a Task state names. */
export function functionArn(name: string): string {
  return `arn:aws:lambda:${BARE_ENV.region}:${BARE_ENV.account}:function:${name}`;
}

export interface BareWorkflow<T> {
  readonly workflow: T;
  /** The state machine's definition, tokens resolved (the partition is `aws`). */
  readonly asl: Asl;
  /** The whole template of the bare stack. */
  readonly template: { Resources: Record<string, { Type: string; Properties?: Record<string, any> }> };
}

/**
 * Builds one workflow construct in a fresh stack (imported functions and bucket,
 * nothing else) and synthesizes it: what the construct alone writes, without the
 * pipeline's other resources. Call once per test file.
 */
export function synthesizeWorkflow<T extends { readonly stateMachine: Construct }>(
  build: (scope: Stack, deps: { fn: (name: string) => lambda.IFunction; reports: s3.IBucket }) => T,
): BareWorkflow<T> {
  const app = new App({ builtinCloudFormationValidation: false });
  const stack = new Stack(app, 'Bare', { env: BARE_ENV });
  const fn = (name: string) => lambda.Function.fromFunctionArn(stack, `Fn-${name}`, functionArn(name));
  const reports = s3.Bucket.fromBucketName(stack, 'Reports', REPORTS_BUCKET);
  const workflow = build(stack, { fn, reports });
  const template = app.synth().getStackByName('Bare').template;
  const machines = Object.values<any>(template.Resources).filter((r) => r.Type === 'AWS::StepFunctions::StateMachine');
  if (machines.length !== 1) throw new Error(`Expected one state machine in the bare stack but found ${machines.length}.`);
  return { workflow, template, asl: JSON.parse(resolveJoins(machines[0].Properties.DefinitionString)) };
}

/** Fn::Join and the partition, the only tokens a bare workflow's definition holds. */
function resolveJoins(value: any): any {
  if (typeof value === 'string') return value;
  if (value?.Ref === 'AWS::Partition') return 'aws';
  if (value?.['Fn::Join']) {
    const [separator, parts] = value['Fn::Join'];
    return parts.map(resolveJoins).join(separator);
  }
  throw new Error(`Unexpected token in a bare workflow's definition: ${JSON.stringify(value)}`);
}

/** A state machine definition, or a Map's ItemProcessor. */
export interface Asl {
  readonly StartAt: string;
  readonly States: Record<string, any>;
}

export interface Retrier {
  readonly ErrorEquals: string[];
  readonly IntervalSeconds?: number;
  readonly MaxAttempts?: number;
  readonly BackoffRate?: number;
  readonly MaxDelaySeconds?: number;
  readonly JitterStrategy?: string;
}

export interface Catcher {
  readonly ErrorEquals: string[];
  readonly Next: string;
  readonly ResultPath?: string;
}

/** The states a state can go to next: Next, a Choice's rules and Default, and its Catch targets. */
export function successorsOf(state: any): string[] {
  return [state.Next, ...(state.Choices ?? []).map((c: { Next: string }) => c.Next), state.Default, ...(state.Catch ?? []).map((c: Catcher) => c.Next)].filter(
    (next): next is string => typeof next === 'string',
  );
}

/** The states of one scope (a definition or a Map's processor) reachable from its StartAt. */
export function reachableStates(asl: Asl): Set<string> {
  const seen = new Set<string>();
  const queue = [asl.StartAt];
  while (queue.length > 0) {
    const name = queue.shift()!;
    if (seen.has(name)) continue;
    seen.add(name);
    const state = asl.States[name];
    if (!state) throw new Error(`A transition names '${name}', which is not a state of its scope.`);
    queue.push(...successorsOf(state));
  }
  return seen;
}

/** Whether a state ends its scope: Succeed, Fail, or End. */
export function isTerminal(state: any): boolean {
  return state.Type === 'Succeed' || state.Type === 'Fail' || state.End === true;
}

/** The states of a scope from which no terminal state can be reached: a loop with no way out. */
export function statesThatCannotEnd(asl: Asl): string[] {
  const ends = new Set(Object.keys(asl.States).filter((name) => isTerminal(asl.States[name])));
  let grew = true;
  while (grew) {
    grew = false;
    for (const [name, state] of Object.entries(asl.States)) {
      if (!ends.has(name) && successorsOf(state).some((next) => ends.has(next))) {
        ends.add(name);
        grew = true;
      }
    }
  }
  return Object.keys(asl.States).filter((name) => !ends.has(name));
}

/** A definition's scopes: the definition itself, then each Map's processor (and theirs), by the Map's name. */
export function scopesOf(asl: Asl, name = '(top level)'): [string, Asl][] {
  return [
    [name, asl],
    ...Object.entries(asl.States).flatMap(([child, state]) => {
      const processor = state.ItemProcessor ?? state.Iterator;
      const branches: Asl[] = [...(processor ? [processor] : []), ...(state.Branches ?? [])];
      return branches.flatMap((branch) => scopesOf(branch, child));
    }),
  ];
}

/**
 * Every path through a scope from its start to a state named `to`, or to any
 * terminal state, that passes through none of `through`: used to show that a
 * state cannot be skipped. Loops are followed once.
 */
export function pathsAvoiding(asl: Asl, from: string, through: ReadonlySet<string>): string[][] {
  const found: string[][] = [];
  const walk = (name: string, path: string[]) => {
    if (through.has(name) || path.includes(name)) return;
    const here = [...path, name];
    const state = asl.States[name];
    if (isTerminal(state)) found.push(here);
    for (const next of successorsOf(state)) walk(next, here);
  };
  walk(from, []);
  return found;
}

/** Full jitter pauses a uniform share of each backoff: on average half of it. */
export function averageWait(retry: Retrier): number {
  return longestWait(retry) / 2;
}

/** The longest a retrier pauses in all, before its last attempt: every backoff at its full length. */
export function longestWait(retry: Retrier): number {
  const interval = retry.IntervalSeconds ?? 1;
  const rate = retry.BackoffRate ?? 2;
  const cap = retry.MaxDelaySeconds ?? Infinity;
  return Array.from({ length: retry.MaxAttempts ?? 3 }, (_, i) => Math.min(interval * rate ** i, cap)).reduce((a, b) => a + b, 0);
}

/**
 * The retriers every Task made by taskState() starts with, as ASL: transient errors
 * (core's and Lambda's) with backoff and full jitter, then Powertools Idempotency's
 * two, a duplicate in progress waited out for longer than the slowest task's 2 minutes.
 */
export const TASK_RETRIERS: readonly Retrier[] = [
  { ErrorEquals: [...TRANSIENT_ERRORS, ...LAMBDA_TRANSIENT_ERRORS], IntervalSeconds: 1, MaxAttempts: 6, BackoffRate: 2, MaxDelaySeconds: 30, JitterStrategy: 'FULL' },
  { ErrorEquals: [IDEMPOTENCY_IN_PROGRESS], IntervalSeconds: 2, MaxAttempts: 10, BackoffRate: 1.5, MaxDelaySeconds: 30 },
  { ErrorEquals: [IDEMPOTENCY_RECORD_GONE], IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2, JitterStrategy: 'FULL' },
];

/** The retrier of a state that retries `error`. */
export function retrierFor(state: { Retry?: Retrier[] }, error: string): Retrier {
  const found = (state.Retry ?? []).filter((r) => r.ErrorEquals.includes(error));
  if (found.length !== 1) throw new Error(`Expected one retrier of ${error} but found ${found.length}.`);
  return found[0]!;
}

/**
 * What a state's Parameters make of `data`: `key.$` paths (plain `$.a.b` ones) are
 * looked up, other values copied. Enough to check the shape an end state hands on.
 */
export function applyParameters(parameters: Record<string, unknown>, data: unknown): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(parameters).map(([key, value]) => {
      if (!key.endsWith('.$')) return [key, value !== null && typeof value === 'object' ? applyParameters(value as Record<string, unknown>, data) : value];
      if (typeof value !== 'string' || !/^\$(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(value)) throw new Error(`applyParameters reads plain paths only, not ${String(value)}.`);
      const found = value
        .split('.')
        .slice(1)
        .reduce<unknown>((at, part) => (at !== null && typeof at === 'object' ? (at as Record<string, unknown>)[part] : undefined), data);
      if (found === undefined) throw new Error(`${value} is not in the data, which Step Functions would fail as States.Runtime.`);
      return [key.slice(0, -2), found];
    }),
  );
}

/** Every error name a Pictor state machine may retry or catch: core's codes and the names AWS and Powertools give. */
const KNOWN_ERRORS: ReadonlySet<string> = new Set([
  'States.ALL',
  ...Object.keys(ERRORS),
  ...LAMBDA_TRANSIENT_ERRORS,
  IDEMPOTENCY_IN_PROGRESS,
  IDEMPOTENCY_RECORD_GONE,
  ...START_EXECUTION_ERRORS.limitExceeded,
  ...START_EXECUTION_ERRORS.alreadyExists,
]);

/**
 * What is wrong with a definition's shape, in words; none for a sound one:
 * - every state is reachable, and from every state an end (Succeed, Fail, End) is;
 * - every Fail names its error and cause;
 * - every error name retried or caught is one of core's codes (or AWS's, or
 *   Powertools'): a renamed or misspelled code is reported, not silently never matched;
 * - a core code is retried only if core lists it among RETRIED_ERRORS (the errors
 *   the tasks log as warnings, being waited out);
 * - nothing retries States.ALL, and States.ALL is caught alone and last (AWS
 *   rejects it elsewhere);
 * - every Task, Map and Parallel catches States.ALL: a failure goes to a state of
 *   the machine that records it (a Fail naming it, or a report), never ends the run
 *   at a state that was not meant to end it;
 * - a state that reports `$.error` is entered only from a Catch that puts the error there.
 */
export function wellFormedProblems(definition: Asl): string[] {
  const problems: string[] = [];
  for (const [scope, asl] of scopesOf(definition)) {
    const reachable = reachableStates(asl);
    for (const name of Object.keys(asl.States)) if (!reachable.has(name)) problems.push(`${scope}: ${name} is unreachable`);
    for (const name of statesThatCannotEnd(asl)) problems.push(`${scope}: ${name} never reaches an end`);
    for (const [name, state] of Object.entries(asl.States)) {
      if (state.Type === 'Fail' && !((state.Error || state.ErrorPath) && (state.Cause || state.CausePath))) problems.push(`${scope}: ${name} fails without naming its error and cause`);
      if (!isTerminal(state) && state.Type !== 'Choice' && typeof state.Next !== 'string') problems.push(`${scope}: ${name} has neither Next nor End`);
      for (const retry of (state.Retry ?? []) as Retrier[]) {
        for (const error of retry.ErrorEquals) {
          if (!KNOWN_ERRORS.has(error)) problems.push(`${scope}: ${name} retries ${error}, which no one raises`);
          if (error === 'States.ALL') problems.push(`${scope}: ${name} retries States.ALL, permanent errors included`);
          if (error in ERRORS && !RETRIED_ERRORS.includes(error as ErrorCode)) problems.push(`${scope}: ${name} retries ${error}, which core does not list as retried`);
        }
      }
      const catches = (state.Catch ?? []) as Catcher[];
      if (['Task', 'Map', 'Parallel'].includes(state.Type) && !catches.at(-1)?.ErrorEquals.includes('States.ALL')) problems.push(`${scope}: ${name} can fail uncaught`);
      catches.forEach((c, i) => {
        for (const error of c.ErrorEquals) if (!KNOWN_ERRORS.has(error)) problems.push(`${scope}: ${name} catches ${error}, which no one raises`);
        if (c.ErrorEquals.includes('States.ALL') && (c.ErrorEquals.length > 1 || i < catches.length - 1)) problems.push(`${scope}: ${name} catches States.ALL other than alone and last`);
      });
    }
    for (const [name, state] of Object.entries(asl.States)) {
      if (!JSON.stringify([state.Parameters, state.ErrorPath, state.CausePath]).includes('"$.error.')) continue;
      for (const [from, other] of Object.entries(asl.States)) {
        const caught = ((other.Catch ?? []) as Catcher[]).filter((c) => c.Next === name);
        if (caught.some((c) => c.ResultPath !== '$.error')) problems.push(`${scope}: ${from} is caught into ${name} without putting the error at $.error`);
        const plain = successorsOf({ ...other, Catch: [] }).includes(name);
        if (plain) problems.push(`${scope}: ${from} goes to ${name}, which reports an error, without one`);
      }
    }
  }
  return problems;
}
