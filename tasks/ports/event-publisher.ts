/**
 * Publishes Pictor's events, each checked against its schema first. The port is
 * declared beside the events' schemas it is typed by (events/publish.ts, which
 * also holds its EventBridge adapter); this is where the use-cases take it from.
 */
export type { EventPublisher } from '../../events/publish.ts';
