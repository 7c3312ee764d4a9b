import type { ErrorCode } from './error-codes.ts';
import { isPictorError } from './errors.ts';

/*
 * One policy for how loud a failure is, for the origin handler and the tasks
 * alike: an operator's ERROR alarm should mean a fault, not a tenant's bad
 * upload or a wait the state machine was built for.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * Outcomes that are not an operator's fault to chase. Unlisted codes log at
 * ERROR when they are internal (not shown to clients: every 5xx, and
 * InvalidEvent), at INFO when they are a client's mistake answered with a 4xx.
 */
const EXPECTED: { readonly [C in ErrorCode]?: LogLevel } = {
  // A miss for an image that is not there is routine at a CDN origin.
  NotFound: 'debug',
  // A tenant's bad original: quarantined on upload, a 4xx at the edge; nothing for an operator to do.
  UnprocessableImage: 'info',
  ImageTooLarge: 'info',
  // Waited out by the state machine: S3 replication takes its time.
  ReplicationPending: 'info',
  // Retried, but worth seeing when they persist.
  OriginUnavailable: 'warn',
  TooManyInvalidationsInProgress: 'warn',
  TakedownUnverified: 'warn',
  // Uploads under a tenant nobody registered: a client or a registry out of step.
  UnknownTenant: 'warn',
};

/** The level an operator wants a failure logged at: anything not a PictorError is a fault. */
export function logLevelOf(error: unknown): LogLevel {
  if (!isPictorError(error)) return 'error';
  // A code shown to clients is their mistake, answered with a 4xx; one kept from them is internal.
  return EXPECTED[error.code] ?? (error.expose ? 'info' : 'error');
}

/** The part of a structured logger (Powertools' Logger, for one) that {@link logFailure} needs. */
export interface LevelLogger {
  debug(message: string, extra: Record<string, unknown>): void;
  info(message: string, extra: Record<string, unknown>): void;
  warn(message: string, extra: Record<string, unknown>): void;
  error(message: string, extra: Record<string, unknown>): void;
}

/**
 * Logs a failure once, at {@link logLevelOf}'s level. Only a fault carries the
 * error with its stack and cause; an expected outcome is its code and reason.
 */
export function logFailure(log: LevelLogger, message: string, error: unknown, context: Record<string, unknown> = {}): void {
  const level = logLevelOf(error);
  const code = isPictorError(error) ? error.code : undefined;
  if (level === 'error') log.error(message, { ...context, ...(code ? { code } : {}), error });
  else log[level](message, { ...context, code, reason: (error as Error).message });
}
