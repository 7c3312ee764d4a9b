import { API_ERROR_CODES, PIPELINE_ERROR_CODES, SERVER_ERROR_CODES, VIEWER_ERROR_CODES, type ErrorCode } from './error-codes.ts';

const ALL_CODES = { ...VIEWER_ERROR_CODES, ...SERVER_ERROR_CODES, ...PIPELINE_ERROR_CODES, ...API_ERROR_CODES };

/**
 * The one error class of Pictor's node-side code (origin handler, tasks, twin).
 * `name` is the stable code: Step Functions Retry/Catch match on it, and edges
 * map it to `status`. Not used by the CloudFront Function, which returns
 * {@link Failure} values instead of throwing.
 */
export class PictorError extends Error {
  override readonly name: ErrorCode;
  readonly code: ErrorCode;
  readonly status: number;
  readonly expose: boolean;
  readonly context: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; context?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = code;
    this.code = code;
    this.status = ALL_CODES[code].status;
    this.expose = ALL_CODES[code].expose;
    this.context = options.context ?? {};
  }
}

export function isPictorError(error: unknown): error is PictorError {
  return error instanceof PictorError;
}

/**
 * Each code by its name: what a state machine's Retry and Catch match and what
 * a task throws, spelled once, so that a renamed code fails to compile
 * wherever it is used rather than silently stop matching.
 */
export const ERRORS = Object.freeze(Object.fromEntries(Object.keys(ALL_CODES).map((code) => [code, code]))) as { readonly [C in ErrorCode]: C };
