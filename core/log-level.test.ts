import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PictorError } from './errors.ts';
import { logFailure, logLevelOf, type LevelLogger, type LogLevel } from './log-level.ts';

function recorder(): LevelLogger & { lines: { level: LogLevel; message: string; extra: Record<string, unknown> }[] } {
  const lines: { level: LogLevel; message: string; extra: Record<string, unknown> }[] = [];
  const at = (level: LogLevel) => (message: string, extra: Record<string, unknown>) => void lines.push({ level, message, extra });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

describe('logLevelOf', () => {
  const cases: [string, unknown, LogLevel][] = [
    ['a missing image, routine at an origin', new PictorError('NotFound', 'No such image.'), 'debug'],
    ["a tenant's undecodable original, quarantined", new PictorError('UnprocessableImage', 'bad'), 'info'],
    ["a tenant's oversized original, quarantined", new PictorError('ImageTooLarge', 'big'), 'info'],
    ['replication still on its way, waited out', new PictorError('ReplicationPending', 'wait'), 'info'],
    ['a client mistake answered with a 4xx', new PictorError('InvalidParameter', 'w=-1'), 'info'],
    ['a dependency down, retried', new PictorError('OriginUnavailable', 'down'), 'warn'],
    ['too many invalidations, retried', new PictorError('TooManyInvalidationsInProgress', 'busy'), 'warn'],
    ['an unverified takedown, retried', new PictorError('TakedownUnverified', 'still served'), 'warn'],
    ['an upload under an unregistered tenant', new PictorError('UnknownTenant', 'who'), 'warn'],
    ['a malformed event from the pipeline itself (400, but internal)', new PictorError('InvalidEvent', 'bad input'), 'error'],
    ['a bad deployment configuration', new PictorError('InvalidConfig', 'bad'), 'error'],
    ['an invalidation that never completed', new PictorError('InvalidationTimedOut', 'late'), 'error'],
    ['a re-render over its failure threshold', new PictorError('TooManyFailures', 'too many'), 'error'],
    ['anything that is not a PictorError', new TypeError('x is undefined'), 'error'],
    ['a thrown string', 'boom', 'error'],
    ["an error dressed as a client's 404 that is not a PictorError", Object.assign(new Error('No such image.'), { code: 'NotFound', status: 404, expose: true }), 'error'],
  ];
  for (const [what, error, level] of cases) {
    it(`logs ${what} at ${level}`, () => assert.equal(logLevelOf(error), level));
  }
});

describe('logFailure', () => {
  it('logs a fault once, at ERROR, with the error itself (stack and cause) and its code', () => {
    const log = recorder();
    const error = new PictorError('InternalError', 'Unexpected failure.', { cause: new Error('socket hang up') });
    logFailure(log, 'render-variants failed', error, { key: 'a/b' });
    assert.deepEqual(log.lines, [{ level: 'error', message: 'render-variants failed', extra: { key: 'a/b', code: 'InternalError', error } }]);
  });

  it('logs an error that is not a PictorError with no code', () => {
    const log = recorder();
    const error = new RangeError('out of range');
    logFailure(log, 'failed', error);
    assert.deepEqual(log.lines, [{ level: 'error', message: 'failed', extra: { error } }]);
  });

  it('logs an expected outcome once, by code and reason, with no stack', () => {
    const log = recorder();
    logFailure(log, 'probe-original rejected the original', new PictorError('UnprocessableImage', 'The original is not an image that can be read.'), { tenant: 'demo' });
    assert.deepEqual(log.lines, [
      { level: 'info', message: 'probe-original rejected the original', extra: { tenant: 'demo', code: 'UnprocessableImage', reason: 'The original is not an image that can be read.' } },
    ]);
    assert.ok(!Object.values(log.lines[0]!.extra).some((value) => value instanceof Error), 'no error object, so no stack, in the line');
  });
});
