import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { PictorError } from '../core/errors.ts';
import { PICTOR_EVENTS, PICTOR_SOURCE, type PictorDetail, type PictorDetailType } from './schemas/pictor-events.ts';

export interface EventPublisher {
  publish<T extends PictorDetailType>(detailType: T, detail: PictorDetail<T>): Promise<void>;
}

/**
 * EventBridge takes an entry of at most 256 KB, counted as the UTF-8 bytes of its
 * Source, DetailType, Detail and Resources (and 14 for a Time).
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html
 */
export const MAX_EVENT_ENTRY_BYTES = 256 * 1024;

export function eventEntrySize(entry: { Source: string; DetailType: string; Detail: string; Resources?: readonly string[]; Time?: Date }): number {
  const bytes = (text: string) => Buffer.byteLength(text, 'utf8');
  return (entry.Time ? 14 : 0) + bytes(entry.Source) + bytes(entry.DetailType) + bytes(entry.Detail) + (entry.Resources ?? []).reduce((n, r) => n + bytes(r), 0);
}

/** PutEvents' per-entry errors worth a retry; any other is the entry's own fault. https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEventsResultEntry.html */
const TRANSIENT_ENTRY_ERRORS = new Set(['InternalFailure', 'ThrottlingException']);

/**
 * Publishes Pictor events on an EventBridge bus, validated against their schema
 * and EventBridge's size first, so that a malformed or oversized event fails its
 * producer, with a clear error, not its consumers.
 */
export function eventBridgePublisher(client: EventBridgeClient, busName: string): EventPublisher {
  return {
    async publish(detailType, detail) {
      await putPictorEvent(client, busName, detailType, detail);
    },
  };
}

/**
 * Puts one Pictor event on the bus, validated against its schema and EventBridge's
 * size first, and returns the id EventBridge gave it (which names a takedown batch
 * or a re-render job).
 */
export async function putPictorEvent<T extends PictorDetailType>(client: EventBridgeClient, busName: string, detailType: T, detail: PictorDetail<T>): Promise<string> {
  const parsed = PICTOR_EVENTS[detailType].safeParse(detail);
  // The producer's own bug, not its input's: nothing to retry.
  if (!parsed.success) throw new PictorError('InternalError', `Refusing to publish an invalid '${detailType}': ${parsed.error.message}`);
  const entry = { EventBusName: busName, Source: PICTOR_SOURCE, DetailType: detailType, Detail: JSON.stringify(parsed.data) };
  const size = eventEntrySize(entry);
  if (size > MAX_EVENT_ENTRY_BYTES) throw new PictorError('InvalidEvent', `Refusing to publish '${detailType}' of ${size} bytes: EventBridge takes at most ${MAX_EVENT_ENTRY_BYTES}.`);
  const result = await client.send(new PutEventsCommand({ Entries: [entry] })).catch((error: unknown) => {
    throw new PictorError('OriginUnavailable', `EventBridge did not take '${detailType}': ${(error as Error).name}`, { cause: error });
  });
  const put = result.Entries?.[0];
  if (result.FailedEntryCount || !put?.EventId) {
    const code = put?.ErrorCode && !TRANSIENT_ENTRY_ERRORS.has(put.ErrorCode) ? 'InvalidEvent' : 'OriginUnavailable';
    throw new PictorError(code, `EventBridge refused '${detailType}': ${put?.ErrorCode ?? ''} ${put?.ErrorMessage ?? 'unknown error'}`.trim());
  }
  return put.EventId;
}

/** Kept apart, with no SDK behind it, for the use-cases that consume events. */
export { parseDetail } from './parse-detail.ts';
