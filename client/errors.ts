import type { ViewerErrorCode } from '../core/error-codes.ts';

/**
 * What the client SDK throws: an Error whose `code` is the one the edge would
 * answer the same mistake with (InvalidParameter, FormatNotAllowed, InvalidPath,
 * SignatureRequired), or InvalidPolicy for a policy that is not one. Match on
 * `code`, never on the message.
 */
export interface PictorUrlError extends Error {
  readonly name: 'PictorUrlError';
  readonly code: ViewerErrorCode | 'InvalidPolicy';
}

/** Whether `error` is one the client SDK threw. */
export function isPictorUrlError(error: unknown): error is PictorUrlError {
  return error instanceof Error && error.name === 'PictorUrlError';
}

/** A plain function, not a class: nothing runs when the module loads, so bundlers drop what is unused. */
export function urlError(code: PictorUrlError['code'], message: string): PictorUrlError {
  const error = new Error(message) as Error & { name: string; code: string };
  error.name = 'PictorUrlError';
  error.code = code;
  return error as PictorUrlError;
}
