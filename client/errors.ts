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

/**
 * What the API client throws (`createApiClient`, `uploadFile`): an Error with a
 * stable `code` and, when an answer came, its HTTP `status`.
 * - From the API: its `{code, message}` (docs/ERROR-CODES.md); API Gateway's own
 *   refusals, which carry no code, get one from the status (Forbidden, Unauthorized,
 *   NotFound, TooManyRequests, ..., else `Http{status}`); InvalidResponse for a
 *   success that is not JSON (a proxy's login page, say); RegionUnknown when the
 *   API's `GET /v1/health` names no region for `sign` (give the `region` option).
 * - From S3, for an upload: S3's code and message (EntityTooLarge, AccessDenied, ...).
 * - Before any request (no status): InvalidParameter, FileTooSmall, FileTooLarge,
 *   ContentTypeMismatch, ProgressUnavailable; WaitTimedOut when `waitForImage` reaches its deadline.
 * Match on `code`, never on the message.
 */
export interface PictorApiError extends Error {
  readonly name: 'PictorApiError';
  readonly code: string;
  readonly status: number | undefined;
}

/** Whether `error` is one the API client threw. */
export function isPictorApiError(error: unknown): error is PictorApiError {
  return error instanceof Error && error.name === 'PictorApiError';
}

export function apiError(code: string, message: string, status?: number): PictorApiError {
  const error = new Error(message) as Error & { name: string; code: string; status: number | undefined };
  error.name = 'PictorApiError';
  error.code = code;
  error.status = status;
  return error as PictorApiError;
}
