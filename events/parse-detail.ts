import { PictorError } from '../core/errors.ts';
import { PICTOR_EVENTS, type PictorDetail, type PictorDetailType } from './schemas/pictor-events.ts';

/** Validates a consumed event's detail; the error names what is wrong. */
export function parseDetail<T extends PictorDetailType>(detailType: T, detail: unknown): PictorDetail<T> {
  const parsed = PICTOR_EVENTS[detailType].safeParse(detail);
  if (!parsed.success) throw new PictorError('InvalidEvent', `Invalid '${detailType}' event: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data as PictorDetail<T>;
}
