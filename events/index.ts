/**
 * `pictor/events`: the schemas of the events Pictor publishes and consumes, for
 * producers (a rerender or takedown request) and consumers (what was rendered,
 * bumped, taken down) on the bus. The reference is docs/EVENTS.md.
 */
export * from './schemas/pictor-events.ts';
export { eventBridgePublisher, MAX_EVENT_ENTRY_BYTES, type EventPublisher } from './publish.ts';
