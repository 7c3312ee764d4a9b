import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  errorBody,
  fail,
  PIPELINE_ERROR_CODES,
  REJECTION_ERRORS,
  RETRIED_ERRORS,
  SERVER_ERROR_CODES,
  statusOf,
  TRANSIENT_ERRORS,
  VIEWER_ERROR_CODES,
  type ErrorCode,
} from './error-codes.ts';
import { isPictorError, PictorError } from './errors.ts';

const ALL = { ...VIEWER_ERROR_CODES, ...SERVER_ERROR_CODES, ...PIPELINE_ERROR_CODES } as Record<ErrorCode, { status: number; expose: boolean }>;

describe('error vocabulary', () => {
  it('answers each viewer failure with the status the README documents, its message shown', () => {
    const documented: Record<string, number> = {
      InvalidPath: 400,
      InvalidParameter: 400,
      ConflictingParameter: 400,
      FormatNotAllowed: 400,
      SignatureRequired: 403,
      SignatureExpired: 403,
      SignatureInvalid: 403,
      SignatureLifetimeExceeded: 403,
      RefererNotAllowed: 403,
      NotFound: 404,
      MethodNotAllowed: 405,
    };
    assert.deepEqual(Object.keys(VIEWER_ERROR_CODES).sort(), Object.keys(documented).sort());
    for (const [code, status] of Object.entries(documented)) {
      assert.equal(statusOf(code as keyof typeof VIEWER_ERROR_CODES), status, code);
      assert.equal(ALL[code as ErrorCode].expose, true, code);
    }
  });

  it("shows a viewer the origin's client errors, and never an internal fault's or the pipeline's message", () => {
    const shown = (Object.keys(SERVER_ERROR_CODES) as ErrorCode[]).filter((code) => ALL[code].expose);
    assert.deepEqual(shown.sort(), ['ImageTooLarge', 'UnprocessableImage']);
    assert.equal(ALL.ImageTooLarge.status, 413);
    assert.equal(ALL.UnprocessableImage.status, 422);
    for (const code of ['OriginUnavailable', 'InternalError', 'InvalidConfig'] as const) assert.ok(ALL[code].status >= 500, code);
    for (const [code, { expose }] of Object.entries(PIPELINE_ERROR_CODES)) assert.equal(expose, false, code);
  });

  it('writes the body an edge sends, hiding the message of what is not exposed', () => {
    assert.equal(errorBody('InvalidParameter', 'Expected a positive integer.', true), '{"code":"InvalidParameter","message":"Expected a positive integer."}');
    assert.equal(errorBody('InternalError', 'stack and secrets', false), '{"code":"InternalError","message":"The request could not be served."}');
    assert.deepEqual(fail('NotFound', 'No such image.'), { ok: false, code: 'NotFound', message: 'No such image.' });
  });

  it('retries what a dependency failed, and quarantines, never retries, a bad original', () => {
    assert.deepEqual([...TRANSIENT_ERRORS], ['OriginUnavailable']);
    for (const code of TRANSIENT_ERRORS) assert.ok(RETRIED_ERRORS.includes(code), code);
    assert.deepEqual([...RETRIED_ERRORS].sort(), ['OriginUnavailable', 'ReplicationPending', 'TakedownUnverified', 'TooManyInvalidationsInProgress']);
    assert.deepEqual([...REJECTION_ERRORS].sort(), ['ImageTooLarge', 'UnprocessableImage']);
    for (const code of REJECTION_ERRORS) assert.ok(!RETRIED_ERRORS.includes(code), code);
  });
});

describe('PictorError', () => {
  it("carries its code as its name (the state machines' contract), with the code's status and exposure", () => {
    for (const code of Object.keys(ALL) as ErrorCode[]) {
      const error = new PictorError(code, 'what happened');
      assert.ok(error instanceof Error && isPictorError(error));
      assert.deepEqual([error.name, error.code, error.status, error.expose, error.message], [code, code, ALL[code].status, ALL[code].expose, 'what happened']);
    }
  });

  it('keeps a cause and a context when given, and has none otherwise', () => {
    const cause = new Error('socket hang up');
    const error = new PictorError('OriginUnavailable', 'S3 failed', { cause, context: { bucket: 'originals' } });
    assert.equal(error.cause, cause);
    assert.deepEqual(error.context, { bucket: 'originals' });
    const bare = new PictorError('OriginUnavailable', 'S3 failed');
    assert.equal('cause' in bare, false);
    assert.deepEqual(bare.context, {});
    assert.equal(isPictorError(new Error('x')), false);
    assert.equal(isPictorError({ name: 'OriginUnavailable', code: 'OriginUnavailable' }), false);
  });
});
