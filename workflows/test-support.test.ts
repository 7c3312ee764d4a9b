import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyParameters, pathsAvoiding, wellFormedProblems, type Asl } from './test-support.ts';
import { ERRORS } from '../core/errors.ts';

// The checks the workflows' tests rely on, shown to find what they look for: a check that finds nothing proves nothing.
const sound = (): Asl => ({
  StartAt: 'Work',
  States: {
    Work: {
      Type: 'Task',
      Resource: 'arn:aws:lambda:eu-west-1:111111111111:function:work',
      Retry: [{ ErrorEquals: [ERRORS.OriginUnavailable], JitterStrategy: 'FULL' }],
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Failed' }],
      Next: 'Poll?',
    },
    'Poll?': { Type: 'Choice', Choices: [{ Variable: '$.done', BooleanEquals: true, Next: 'Done' }], Default: 'Wait' },
    Wait: { Type: 'Wait', Seconds: 5, Next: 'Work' },
    Done: { Type: 'Succeed' },
    Failed: { Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.error.Cause' },
  },
});

describe('wellFormedProblems', () => {
  it('finds nothing wrong with a sound definition, loops that can end included', () => {
    assert.deepEqual(wellFormedProblems(sound()), []);
  });

  it('finds an unreachable state', () => {
    const asl = sound();
    asl.States.Orphan = { Type: 'Pass', End: true };
    assert.deepEqual(wellFormedProblems(asl), ['(top level): Orphan is unreachable']);
  });

  it('finds a loop with no way out, and a state with nowhere to go', () => {
    const asl = sound();
    asl.States.Work.Catch[0].Next = 'Wait';
    asl.States['Poll?'].Choices = [];
    assert.deepEqual(wellFormedProblems(asl), [
      '(top level): Done is unreachable',
      '(top level): Failed is unreachable',
      '(top level): Work never reaches an end',
      '(top level): Poll? never reaches an end',
      '(top level): Wait never reaches an end',
    ]);
    const stuck = sound();
    delete stuck.States.Wait.Next;
    assert.ok(wellFormedProblems(stuck).includes('(top level): Wait has neither Next nor End'));
  });

  it('finds a Fail that names no error or cause', () => {
    const asl = sound();
    asl.States.Failed = { Type: 'Fail', ErrorPath: '$.error.Error' };
    assert.deepEqual(wellFormedProblems(asl), ['(top level): Failed fails without naming its error and cause']);
  });

  it('finds an error name no one raises, a retried States.ALL, and a core code retried that core does not list as retried', () => {
    const asl = sound();
    asl.States.Work.Retry = [{ ErrorEquals: ['ReplicationPendng', 'States.ALL', ERRORS.InvalidEvent] }];
    asl.States.Work.Catch.unshift({ ErrorEquals: ['Lambda.Unknwn'], ResultPath: '$.error', Next: 'Failed' });
    assert.deepEqual(wellFormedProblems(asl), [
      '(top level): Work retries ReplicationPendng, which no one raises',
      '(top level): Work retries States.ALL, permanent errors included',
      '(top level): Work retries InvalidEvent, which core does not list as retried',
      '(top level): Work catches Lambda.Unknwn, which no one raises',
    ]);
  });

  it('finds a Task that can fail uncaught', () => {
    const asl = sound();
    asl.States.Work.Catch = [{ ErrorEquals: [ERRORS.ReplicationPending], ResultPath: '$.error', Next: 'Failed' }];
    assert.deepEqual(wellFormedProblems(asl), ['(top level): Work can fail uncaught']);
  });

  it('finds States.ALL caught before another catcher or beside other names', () => {
    const asl = sound();
    asl.States.Work.Catch.push({ ErrorEquals: [ERRORS.ReplicationPending], ResultPath: '$.error', Next: 'Failed' });
    assert.deepEqual(wellFormedProblems(asl), ['(top level): Work can fail uncaught', '(top level): Work catches States.ALL other than alone and last']);
    const beside = sound();
    beside.States.Work.Catch[0].ErrorEquals = [ERRORS.OriginUnavailable, 'States.ALL'];
    assert.deepEqual(wellFormedProblems(beside), ['(top level): Work catches States.ALL other than alone and last']);
  });

  it('finds a state that reports $.error entered without one there', () => {
    const caught = sound();
    caught.States.Work.Catch[0].ResultPath = '$.failure';
    assert.deepEqual(wellFormedProblems(caught), ['(top level): Work is caught into Failed without putting the error at $.error']);
    const entered = sound();
    entered.States['Poll?'].Default = 'Failed';
    assert.deepEqual(wellFormedProblems(entered), ['(top level): Wait is unreachable', '(top level): Poll? goes to Failed, which reports an error, without one']);
  });

  it("looks inside a Map's processor, naming the Map", () => {
    const asl: Asl = {
      StartAt: 'Each',
      States: {
        Each: {
          Type: 'Map',
          ItemProcessor: { ...sound(), States: { ...sound().States, Orphan: { Type: 'Pass', End: true } } },
          Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Failed' }],
          End: true,
        },
        Failed: { Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.error.Cause' },
      },
    };
    assert.deepEqual(wellFormedProblems(asl), ['Each: Orphan is unreachable']);
  });
});

describe('pathsAvoiding', () => {
  it('lists every path to an end that skips the given states, following a loop once', () => {
    assert.deepEqual(pathsAvoiding(sound(), 'Work', new Set()), [
      ['Work', 'Poll?', 'Done'],
      ['Work', 'Failed'],
    ]);
    assert.deepEqual(pathsAvoiding(sound(), 'Work', new Set(['Done'])), [['Work', 'Failed']]);
    assert.deepEqual(pathsAvoiding(sound(), 'Work', new Set(['Work'])), []);
  });
});

describe('applyParameters', () => {
  it('looks up plain paths, copies literals, and refuses a path the data lacks, as Step Functions would', () => {
    assert.deepEqual(applyParameters({ status: 'done', 'id.$': '$.item.id', nested: { 'n.$': '$.n' } }, { item: { id: 'p01' }, n: 2 }), { status: 'done', id: 'p01', nested: { n: 2 } });
    assert.throws(() => applyParameters({ 'id.$': '$.item.missing' }, { item: {} }), /\$\.item\.missing is not in the data/);
  });
});
