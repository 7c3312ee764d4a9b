import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IDEMPOTENCY_IN_PROGRESS } from '../../workflows/task-states.ts';
import { HISTORY_LIMIT_EVENTS, PAYLOAD_LIMIT_BYTES } from './limits.ts';
import { LocalStepFunctions, type ExecutionRecord, type LocalFunction } from './step-functions.ts';

const fn = (name: string) => `arn:aws:lambda:us-east-1:000000000000:function:${name}`;

/** One state machine, its Lambda functions by name. */
function machine(definition: unknown, functions: Record<string, LocalFunction> = {}, timeScale = 1): { sfn: LocalStepFunctions; arn: string } {
  const sfn = new LocalStepFunctions(new Map([['Machine', definition]]), new Map(Object.entries(functions).map(([name, f]) => [fn(name), f])), { timeScale });
  return { sfn, arn: sfn.stateMachineArns[0]! };
}

async function run(sfn: LocalStepFunctions, arn: string, input: unknown = {}, name?: string): Promise<ExecutionRecord> {
  const execution = sfn.start(arn, input, name);
  await execution.done;
  return execution;
}

const failWith = (name: string) => async () => {
  throw Object.assign(new Error(`${name} (injected)`), { name });
};

/** A string whose JSON is `bytes` long with its quotes. */
const text = (bytes: number) => 'x'.repeat(bytes - 2);

describe('payload quota: 256 KiB', () => {
  it('fails the execution on a 300 KB task result, though a States.ALL catcher and retrier are there', async () => {
    let calls = 0;
    const { sfn, arn } = machine(
      {
        StartAt: 'Big',
        States: {
          Big: {
            Type: 'Task',
            Resource: fn('big'),
            Retry: [{ ErrorEquals: ['States.ALL'], IntervalSeconds: 1, MaxAttempts: 3 }],
            Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Recovered' }],
            End: true,
          },
          Recovered: { Type: 'Succeed' },
        },
      },
      { big: async () => (calls++, { blob: text(300_000) }) },
      0.001,
    );
    const execution = await run(sfn, arn);
    assert.equal(execution.status, 'FAILED');
    assert.equal(execution.error, 'States.DataLimitExceeded');
    assert.match(execution.cause!, /'Big' returned a result with a size exceeding the maximum number of bytes service limit/);
    assert.equal(calls, 1, 'States.ALL does not retry it');
  });

  it('takes a result of exactly 262,144 bytes, and refuses one byte more', async () => {
    const definition = { StartAt: 'T', States: { T: { Type: 'Task', Resource: fn('t'), End: true } } };
    const exact = machine(definition, { t: async () => text(PAYLOAD_LIMIT_BYTES) });
    assert.equal((await run(exact.sfn, exact.arn)).status, 'SUCCEEDED');
    const over = machine(definition, { t: async () => text(PAYLOAD_LIMIT_BYTES + 1) });
    assert.equal((await run(over.sfn, over.arn)).error, 'States.DataLimitExceeded');
  });

  it('counts UTF-8 bytes, not characters', async () => {
    const { sfn, arn } = machine({ StartAt: 'T', States: { T: { Type: 'Task', Resource: fn('t'), End: true } } }, { t: async () => 'é'.repeat(140_000) });
    assert.equal((await run(sfn, arn)).error, 'States.DataLimitExceeded');
  });

  it('fails a state whose output, result merged into its input, is over the quota', async () => {
    const { sfn, arn } = machine(
      {
        StartAt: 'Merge',
        States: {
          Merge: { Type: 'Task', Resource: fn('half'), ResultPath: '$.second', Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Recovered' }], Next: 'After' },
          After: { Type: 'Pass', End: true },
          Recovered: { Type: 'Succeed' },
        },
      },
      { half: async () => text(150_000) },
    );
    const execution = await run(sfn, arn, { first: text(150_000) });
    assert.equal(execution.status, 'FAILED');
    assert.equal(execution.error, 'States.DataLimitExceeded');
  });

  it('fails a task whose input, after Parameters, is over the quota, without calling it', async () => {
    let called = false;
    const { sfn, arn } = machine(
      { StartAt: 'T', States: { T: { Type: 'Task', Resource: fn('t'), Parameters: { 'a.$': '$.a', 'b.$': '$.a' }, End: true } } },
      { t: async () => ((called = true), 'ok') },
    );
    const execution = await run(sfn, arn, { a: text(200_000) });
    assert.equal(execution.error, 'States.DataLimitExceeded');
    assert.equal(called, false);
  });

  it('fails an inline Map whose collected result is over the quota, even when ResultPath discards it', async () => {
    const { sfn, arn } = machine(
      {
        StartAt: 'Each',
        States: {
          Each: { Type: 'Map', ItemsPath: '$.items', ResultPath: null, ItemProcessor: { StartAt: 'T', States: { T: { Type: 'Task', Resource: fn('t'), End: true } } }, End: true },
        },
      },
      { t: async () => text(100_000) },
    );
    const execution = await run(sfn, arn, { items: [1, 2, 3] });
    assert.equal(execution.error, 'States.DataLimitExceeded');
  });

  it('refuses an execution input over 256 KiB at StartExecution, as ValidationException', () => {
    const { sfn, arn } = machine({ StartAt: 'P', States: { P: { Type: 'Pass', End: true } } });
    assert.throws(() => sfn.start(arn, text(PAYLOAD_LIMIT_BYTES + 1)), { name: 'ValidationException' });
    assert.equal(sfn.list(arn).length, 0);
    assert.doesNotThrow(() => sfn.start(arn, text(PAYLOAD_LIMIT_BYTES)));
  });
});

describe('execution history quota: 25,000 events', () => {
  it('fails a loop that would log a 25,001st event with States.Runtime, its failure being event 25,000', async () => {
    const { sfn, arn } = machine({
      StartAt: 'Spin',
      States: {
        Spin: { Type: 'Pass', Next: 'Again?' },
        'Again?': { Type: 'Choice', Choices: [{ Variable: '$.spin', BooleanEquals: true, Next: 'Spin' }], Default: 'Done' },
        Done: { Type: 'Succeed' },
      },
    });
    const execution = await run(sfn, arn, { spin: true });
    assert.equal(execution.status, 'FAILED');
    assert.equal(execution.error, 'States.Runtime');
    assert.equal(execution.cause, 'The execution reached the maximum number of history events (25000).');
    assert.equal(execution.historyEvents, HISTORY_LIMIT_EVENTS);
  });

  it('counts a Task attempt as scheduled, started and succeeded or failed, between entered and exited', async () => {
    let calls = 0;
    const { sfn, arn } = machine(
      { StartAt: 'T', States: { T: { Type: 'Task', Resource: fn('t'), Retry: [{ ErrorEquals: ['Flaky'], IntervalSeconds: 1, MaxAttempts: 2 }], End: true } } },
      { t: async () => (calls++ === 0 ? failWith('Flaky')() : 'ok') },
      0.001,
    );
    const execution = await run(sfn, arn);
    // ExecutionStarted, TaskStateEntered, 2 × (TaskScheduled, TaskStarted, TaskSucceeded|TaskFailed), TaskStateExited, ExecutionSucceeded
    assert.equal(execution.historyEvents, 1 + 1 + 6 + 1 + 1);
  });

  it('counts an inline Map iteration and its states in the execution', async () => {
    const { sfn, arn } = machine({
      StartAt: 'Each',
      States: { Each: { Type: 'Map', ItemProcessor: { StartAt: 'P', States: { P: { Type: 'Pass', End: true } } }, End: true } },
    });
    const execution = await run(sfn, arn, [1, 2, 3]);
    // ExecutionStarted, MapStateEntered, MapStateStarted, 3 × (MapIterationStarted, PassStateEntered, PassStateExited, MapIterationSucceeded), MapStateSucceeded, MapStateExited, ExecutionSucceeded
    assert.equal(execution.historyEvents, 3 + 3 * 4 + 3);
  });
});

describe('timeScale', () => {
  /** The times at which the task was called, relative to the first call. */
  async function attempts(retrier: Record<string, unknown>, timeScale: number, failures: number, error = 'Flaky'): Promise<number[]> {
    const times: number[] = [];
    const { sfn, arn } = machine(
      { StartAt: 'T', States: { T: { Type: 'Task', Resource: fn('t'), Retry: [{ ErrorEquals: [error], ...retrier }], End: true } } },
      { t: async () => (times.push(performance.now()), times.length <= failures ? failWith(error)() : 'ok') },
      timeScale,
    );
    assert.equal((await run(sfn, arn)).status, 'SUCCEEDED');
    return times.slice(1).map((t, i) => t - times[i]!);
  }

  it('retries on the backoff of the definition: IntervalSeconds × BackoffRate^(attempt-1), capped by MaxDelaySeconds', async () => {
    const gaps = await attempts({ IntervalSeconds: 10, BackoffRate: 2, MaxDelaySeconds: 50, MaxAttempts: 5 }, 0.01, 5);
    const expected = [100, 200, 400, 500, 500];
    assert.equal(gaps.length, expected.length);
    gaps.forEach((gap, i) => assert.ok(gap >= expected[i]! - 2 && gap < expected[i]! + 80, `attempt ${i + 2} after ${gap} ms, expected ${expected[i]}`));
  });

  it('draws FULL jitter uniformly between 0 and the delay', async () => {
    const gaps = await attempts({ IntervalSeconds: 20, BackoffRate: 1, MaxAttempts: 30, JitterStrategy: 'FULL' }, 0.005, 30);
    // The delay is 100 ms; node's timers fire up to a few ms late.
    assert.ok(gaps.every((gap) => gap <= 100 + 30), `${gaps.map(Math.round)}`);
    assert.ok(gaps.some((gap) => gap < 50) && gaps.some((gap) => gap > 50), `spread: ${gaps.map(Math.round)}`);
  });

  it('keeps real time for a retrier of IdempotencyAlreadyInProgressError', async () => {
    const [gap] = await attempts({ IntervalSeconds: 1, MaxAttempts: 2 }, 0.001, 1, IDEMPOTENCY_IN_PROGRESS);
    assert.ok(gap! >= 995, `${gap} ms`);
  });

  it('scales Wait states: Seconds, SecondsPath and the time left until TimestampPath', async () => {
    const { sfn, arn } = machine(
      {
        StartAt: 'Fixed',
        States: {
          Fixed: { Type: 'Wait', Seconds: 20, Next: 'Mark1' },
          Mark1: { Type: 'Task', Resource: fn('mark'), ResultPath: null, Next: 'ByPath' },
          ByPath: { Type: 'Wait', SecondsPath: '$.seconds', Next: 'Mark2' },
          Mark2: { Type: 'Task', Resource: fn('mark'), ResultPath: null, Next: 'Until' },
          Until: { Type: 'Wait', TimestampPath: '$.until', Next: 'Mark3' },
          Mark3: { Type: 'Task', Resource: fn('mark'), ResultPath: null, End: true },
        },
      },
      { mark: async () => (marks.push(performance.now()), null) },
      0.01,
    );
    const marks: number[] = [];
    const start = performance.now();
    const until = new Date(Math.ceil((Date.now() + 30_000) / 1000) * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
    assert.equal((await run(sfn, arn, { seconds: 10, until })).status, 'SUCCEEDED');
    const [fixed, byPath, untilGap] = [marks[0]! - start, marks[1]! - marks[0]!, marks[2]! - marks[1]!];
    assert.ok(fixed >= 198 && fixed < 280, `Seconds 20: ${fixed} ms`);
    assert.ok(byPath >= 98 && byPath < 180, `SecondsPath 10: ${byPath} ms`);
    // 29 to 30 s ahead when the state began, at 1/100.
    assert.ok(untilGap >= 280 && untilGap < 400, `TimestampPath 30 s ahead: ${untilGap} ms`);
  });

  it('refuses a timeScale that is not above 0', () => {
    for (const timeScale of [0, -1, Number.NaN, Infinity]) assert.throws(() => machine({ StartAt: 'P', States: { P: { Type: 'Pass', End: true } } }, {}, timeScale), RangeError);
  });
});

describe('arn:aws:states:::states:startExecution', () => {
  it('continues as a new execution of the same state machine, answering its ARN and start date', async () => {
    const { sfn, arn } = machine({
      StartAt: 'More?',
      States: {
        'More?': { Type: 'Choice', Choices: [{ Variable: '$.n', NumericLessThan: 3, Next: 'Continue' }], Default: 'Done' },
        Continue: {
          Type: 'Task',
          Resource: 'arn:aws:states:::states:startExecution',
          Parameters: { 'StateMachineArn.$': '$$.StateMachine.Id', Input: { 'n.$': 'States.MathAdd($.n, 1)' }, 'Name.$': "States.Format('part-{}', States.MathAdd($.n, 1))" },
          End: true,
        },
        Done: { Type: 'Succeed' },
      },
    });
    const first = await run(sfn, arn, { n: 1 }, 'part-1');
    await sfn.settled();
    const output = first.output as { ExecutionArn: string; StartDate: number };
    assert.equal(output.ExecutionArn, `${arn.replace(':stateMachine:', ':execution:')}:part-2`);
    assert.equal(typeof output.StartDate, 'number');
    assert.deepEqual(
      sfn.list(arn).map((e) => [e.name, e.input, e.status]),
      [
        ['part-3', { n: 3 }, 'SUCCEEDED'],
        ['part-2', { n: 2 }, 'SUCCEEDED'],
        ['part-1', { n: 1 }, 'SUCCEEDED'],
      ],
    );
  });

  it('answers a running execution of the same name and input again, and fails the same name with another input', async () => {
    const definitions = new Map<string, unknown>([
      ['Slow', { StartAt: 'W', States: { W: { Type: 'Wait', Seconds: 20, End: true } } }],
      [
        'Starter',
        {
          StartAt: 'Start',
          States: {
            Start: { Type: 'Task', Resource: 'arn:aws:states:::states:startExecution', Parameters: { 'StateMachineArn.$': '$.target', 'Input.$': '$.input', Name: 'once' }, End: true },
          },
        },
      ],
    ]);
    const sfn = new LocalStepFunctions(definitions, new Map(), { timeScale: 0.01 });
    const [slow, starter] = sfn.stateMachineArns as [string, string];
    const a = await run(sfn, starter, { target: slow, input: { x: 1 } });
    const again = await run(sfn, starter, { target: slow, input: { x: 1 } });
    assert.deepEqual(again.output, a.output);
    const other = await run(sfn, starter, { target: slow, input: { x: 2 } });
    assert.equal(other.error, 'StepFunctions.ExecutionAlreadyExistsException');
    await sfn.settled();
    // Once it has closed, the name is taken whatever the input.
    const closed = await run(sfn, starter, { target: slow, input: { x: 1 } });
    assert.equal(closed.error, 'StepFunctions.ExecutionAlreadyExistsException');
    assert.equal(sfn.list(slow).length, 1);
  });
});
