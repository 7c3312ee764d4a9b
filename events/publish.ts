import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { PictorError } from '../core/errors.ts';
import { PICTOR_EVENTS, PICTOR_SOURCE, type PictorDetail, type PictorDetailType } from './schemas/pictor-events.ts';

export interface EventPublisher {
  publish<T extends PictorDetailType>(detailType: T, detail: PictorDetail<T>): Promise<void>;
}

/**
 * Publishes Pictor events on an EventBridge bus, validated against their schema
 * first, so that a malformed event fails its producer, not its consumers.
 */
export function eventBridgePublisher(client: EventBridgeClient, busName: string): EventPublisher {
  return {
    async publish(detailType, detail) {
      const parsed = PICTOR_EVENTS[detailType].safeParse(detail);
      if (!parsed.success) throw new Error(`Refusing to publish an invalid '${detailType}': ${parsed.error.message}`);
      const result = await client.send(
        new PutEventsCommand({ Entries: [{ EventBusName: busName, Source: PICTOR_SOURCE, DetailType: detailType, Detail: JSON.stringify(parsed.data) }] }),
      );
      if (result.FailedEntryCount) {
        throw new PictorError('OriginUnavailable', `EventBridge refused '${detailType}': ${result.Entries?.[0]?.ErrorMessage ?? 'unknown error'}`);
      }
    },
  };
}

/** Validates a consumed event's detail; the error names what is wrong. */
export function parseDetail<T extends PictorDetailType>(detailType: T, detail: unknown): PictorDetail<T> {
  const parsed = PICTOR_EVENTS[detailType].safeParse(detail);
  if (!parsed.success) throw new PictorError('InvalidEvent', `Invalid '${detailType}' event: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data as PictorDetail<T>;
}
