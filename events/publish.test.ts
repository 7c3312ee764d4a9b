import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { eventBridgePublisher, eventEntrySize, MAX_EVENT_ENTRY_BYTES } from './publish.ts';

/** An EventBridge client that records what it is sent and answers as told. */
function bus(answer: unknown = { FailedEntryCount: 0, Entries: [{ EventId: 'e1' }] }) {
  const sent: unknown[] = [];
  const client = { send: async (command: { input: unknown }) => (sent.push(command.input), answer) } as unknown as EventBridgeClient;
  return { client, sent };
}

describe('eventBridgePublisher', () => {
  it("counts an entry's size as EventBridge does: UTF-8 bytes of its fields, 14 for a Time", () => {
    assert.equal(eventEntrySize({ Source: 'pictor', DetailType: 'Ü', Detail: '{"a":"é"}' }), 6 + 2 + 10);
    assert.equal(eventEntrySize({ Source: 'a', DetailType: 'b', Detail: '{}', Resources: ['arn:x'], Time: new Date() }), 14 + 1 + 1 + 2 + 5);
  });

  it('refuses an event over 256 KB before sending it, as a mistake of its producer', async () => {
    const { client, sent } = bus();
    const big = { schemaVersion: 2 as const, batchId: 'x'.repeat(MAX_EVENT_ENTRY_BYTES), requested: 1, takenDown: 1, incomplete: 0, report: { bucket: 'r', key: 'k' } };
    await assert.rejects(eventBridgePublisher(client, 'default').publish('Takedown Completed', big), { name: 'InvalidEvent', message: /at most 262144/ });
    assert.equal(sent.length, 0);
  });

  it("tells an entry EventBridge refused for its own sake from one worth retrying", async () => {
    const detail = { schemaVersion: 2 as const, batchId: 'b', requested: 1, takenDown: 1, incomplete: 0, report: { bucket: 'r', key: 'k' } };
    const refused = bus({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'MalformedDetail', ErrorMessage: 'no' }] });
    await assert.rejects(eventBridgePublisher(refused.client, 'default').publish('Takedown Completed', detail), { name: 'InvalidEvent' });
    const throttled = bus({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' }] });
    await assert.rejects(eventBridgePublisher(throttled.client, 'default').publish('Takedown Completed', detail), { name: 'OriginUnavailable' });
  });

  it('turns a request EventBridge never answered into OriginUnavailable, which the state machines retry', async () => {
    const detail = { schemaVersion: 2 as const, batchId: 'b', requested: 1, takenDown: 1, incomplete: 0, report: { bucket: 'r', key: 'k' } };
    const timedOut = Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
    const client = { send: async () => Promise.reject(timedOut) } as unknown as EventBridgeClient;
    await assert.rejects(eventBridgePublisher(client, 'default').publish('Takedown Completed', detail), (error: Error) => error.name === 'OriginUnavailable' && error.cause === timedOut);
  });
});
