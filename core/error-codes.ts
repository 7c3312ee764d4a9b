/**
 * The error vocabulary shared by the edge function, the origin handler and the
 * tasks. Pure data so the CloudFront Function bundle can carry it.
 *
 * `status` is the HTTP status an edge answers with; `expose` says whether the
 * message may be shown to a viewer (internal faults are answered generically).
 *
 * The codes the viewer function answers with: what core's parsers and checks
 * return as a Failure. Every one is shown to the viewer.
 */
export const VIEWER_ERROR_CODES = {
  InvalidPath: { status: 400, expose: true },
  InvalidParameter: { status: 400, expose: true },
  ConflictingParameter: { status: 400, expose: true },
  FormatNotAllowed: { status: 400, expose: true },
  SignatureRequired: { status: 403, expose: true },
  SignatureExpired: { status: 403, expose: true },
  SignatureInvalid: { status: 403, expose: true },
  SignatureLifetimeExceeded: { status: 403, expose: true },
  RefererNotAllowed: { status: 403, expose: true },
  NotFound: { status: 404, expose: true },
  MethodNotAllowed: { status: 405, expose: true },
} as const;

/**
 * The codes only the origin and the tasks raise, apart from the viewer's so that
 * the CloudFront Function bundle does not carry them.
 */
export const SERVER_ERROR_CODES = {
  ImageTooLarge: { status: 413, expose: true },
  UnprocessableImage: { status: 422, expose: true },
  OriginUnavailable: { status: 503, expose: false },
  InternalError: { status: 500, expose: false },
  InvalidConfig: { status: 500, expose: false },
  InvalidEvent: { status: 400, expose: false },
} as const;

/**
 * Names only the pipeline raises (its state machines retry or catch them). Kept
 * apart so the CloudFront Function bundle does not carry them; none is shown to a viewer.
 */
export const PIPELINE_ERROR_CODES = {
  TooManyInvalidationsInProgress: { status: 503, expose: false },
  InvalidationTimedOut: { status: 504, expose: false },
  ReplicationPending: { status: 503, expose: false },
  TakedownUnverified: { status: 500, expose: false },
  TakedownIncomplete: { status: 500, expose: false },
  TooManyFailures: { status: 500, expose: false },
  /** A workflow's state would pass Step Functions' 256 KiB: refused before the step that would hit it. */
  StateTooLarge: { status: 500, expose: false },
  /** An upload under a tenant the registry does not hold: quarantined, as a bad original is. */
  UnknownTenant: { status: 404, expose: false },
} as const;

/**
 * The codes the control-plane API answers with, as `{code, message}` (every one
 * shown to the caller), besides the shared NotFound, OriginUnavailable and InternalError.
 */
export const API_ERROR_CODES = {
  InvalidRequest: { status: 400, expose: true },
  AccessDenied: { status: 403, expose: true },
  Conflict: { status: 409, expose: true },
  UploadTooLarge: { status: 413, expose: true },
  UnsupportedContentType: { status: 415, expose: true },
} as const;

/** The codes the viewer function answers with. */
export type ViewerErrorCode = keyof typeof VIEWER_ERROR_CODES;
/** The codes an edge answers with, the viewer function's or the origin's. */
export type EdgeErrorCode = ViewerErrorCode | keyof typeof SERVER_ERROR_CODES;
export type ErrorCode = EdgeErrorCode | keyof typeof PIPELINE_ERROR_CODES | keyof typeof API_ERROR_CODES;

/** A failed result: what went wrong, in words a client can act on. */
export interface Failure {
  readonly ok: false;
  readonly code: ViewerErrorCode;
  readonly message: string;
}

export type Result<T> = ({ readonly ok: true } & T) | Failure;

export function fail(code: ViewerErrorCode, message: string): Failure {
  return { ok: false, code: code, message: message };
}

export function statusOf(code: ViewerErrorCode): number {
  return VIEWER_ERROR_CODES[code].status;
}

/** The JSON body an edge sends for an error; `expose` false hides the message of an internal fault. */
export function errorBody(code: ErrorCode, message: string, expose: boolean): string {
  return JSON.stringify({ code: code, message: expose ? message : 'The request could not be served.' });
}

/** Errors a state machine retries: the dependency failed, not the input. */
export const TRANSIENT_ERRORS: readonly ErrorCode[] = ['OriginUnavailable'];

/** Errors a state machine waits out and retries: worth a warning in the logs, not an error. */
export const RETRIED_ERRORS: readonly ErrorCode[] = ['OriginUnavailable', 'TooManyInvalidationsInProgress', 'TakedownUnverified', 'ReplicationPending'];

/** Errors that mean the original itself is bad: it goes to quarantine. */
export const REJECTION_ERRORS: readonly ErrorCode[] = ['UnprocessableImage', 'ImageTooLarge'];
