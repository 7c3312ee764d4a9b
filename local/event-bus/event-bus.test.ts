import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { controlPlane } from '../aws-api.ts';
import type { InvalidationService } from '../edge/invalidations.ts';
import { LocalEventBus, putEventsEntrySize, PutEventsValidationError, type LocalEventBusOptions, type Rule } from './event-bus.ts';
import { InvalidEventPatternError } from './pattern.ts';

const TARGET = 'arn:aws:states:us-east-1:000000000000:stateMachine:Render';
const RULE: Rule = { name: 'Uploads', eventBusName: 'default', pattern: { source: ['pictor.test'] }, targets: [{ arn: TARGET }] };

function busWith(options: LocalEventBusOptions = {}) {
  const received: { target: string; input: any }[] = [];
  const bus = new LocalEventBus([RULE], (target, input) => received.push({ target, input }), options);
  return { bus, received };
}

const put = (bus: LocalEventBus, n = 0) => bus.put({ source: 'pictor.test', detailType: 'Image Uploaded', detail: { n } });

describe('LocalEventBus delivery: at least once, after the put has answered', () => {
  // "EventBridge retries sending the event ... " and delivers at least once; a target must be idempotent.
  // https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-retry-policy.html
  it('hands nothing to a target before put returns, and everything once settled', async () => {
    const { bus, received } = busWith({ duplicateRate: 0 });
    const { id, matched } = put(bus);
    assert.deepEqual(matched, ['Uploads']);
    assert.equal(received.length, 0);
    assert.equal(bus.delivered.length, 0);
    await bus.settled();
    assert.equal(received.length, 1);
    assert.equal(received[0]!.input.id, id);
    assert.deepEqual(bus.delivered.map((d) => d.event.id), [id]);
  });

  it('delivers a duplicate as the same event, a little later, and lists it twice in delivered', async () => {
    const { bus, received } = busWith({ duplicateRate: 1, duplicateDelayMs: 20 });
    const { id } = put(bus);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(received.length, 1);
    await bus.settled();
    assert.deepEqual(received.map((r) => r.input.id), [id, id]);
    assert.equal(bus.delivered.length, 2);
    assert.equal(bus.events.length, 1);
  });

  it('duplicates rarely by default, never with duplicateRate 0, and the same ones for the same seed', async () => {
    const duplicatesOf = async (options: LocalEventBusOptions) => {
      const { bus } = busWith({ ...options, duplicateDelayMs: 0 });
      for (let i = 0; i < 2000; i++) put(bus, i);
      await bus.settled();
      const seen = new Map<string, number>();
      for (const d of bus.delivered) seen.set(d.event.id, (seen.get(d.event.id) ?? 0) + 1);
      return bus.events.map((e, i) => (seen.get(e.id)! > 1 ? i : -1)).filter((i) => i >= 0);
    };
    const byDefault = await duplicatesOf({});
    assert.ok(byDefault.length > 0 && byDefault.length < 60, `${byDefault.length} duplicates in 2000`);
    assert.deepEqual(await duplicatesOf({}), byDefault);
    assert.notDeepEqual(await duplicatesOf({ seed: 7 }), byDefault);
    assert.deepEqual(await duplicatesOf({ duplicateRate: 0 }), []);
  });

  it('settled waits for duplicates still to come', async () => {
    const { bus, received } = busWith({ duplicateRate: 1, duplicateDelayMs: 40 });
    put(bus);
    await bus.settled();
    assert.equal(received.length, 2);
  });

  it('records a target that throws and carries on', async () => {
    const bus = new LocalEventBus([RULE], () => {
      throw new Error('target down');
    }, { duplicateRate: 0 });
    put(bus);
    await bus.settled();
    assert.equal(bus.failed.length, 1);
    assert.equal(bus.delivered.length, 1);
  });

  it('refuses options out of range, saying what to use', () => {
    assert.throws(() => busWith({ duplicateRate: 1.5 }), /Expected duplicateRate between 0 and 1 but received 1.5/);
    assert.throws(() => busWith({ seed: 0.5 }), /Expected an integer seed/);
  });

  it('refuses a rule whose pattern PutRule would refuse', () => {
    assert.throws(() => new LocalEventBus([{ ...RULE, pattern: { source: 'pictor.test' } }], () => undefined), InvalidEventPatternError);
  });

  it('reads a rule pattern given as a JSON string in the template', async () => {
    const template = { Resources: { R: { Type: 'AWS::Events::Rule', Properties: { EventPattern: JSON.stringify({ source: ['pictor.test'] }), Targets: [{ Arn: TARGET, Id: 'T' }] } } } };
    const received: unknown[] = [];
    const bus = LocalEventBus.fromTemplate(template as never, {}, (_t, input) => received.push(input), { duplicateRate: 0 });
    put(bus);
    await bus.settled();
    assert.equal(received.length, 1);
  });
});

describe('LocalEventBus.putEvents: the quotas and entry checks of PutEvents', () => {
  const entry = (over: Record<string, unknown> = {}) => ({ Source: 'pictor.test', DetailType: 'Image Uploaded', Detail: '{"key":"a"}', ...over });

  // https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html
  it('sizes an entry as AWS does: Time 14 bytes, the UTF-8 bytes of Source, DetailType, Detail and each Resource', () => {
    assert.equal(putEventsEntrySize({ Source: 'a', DetailType: 'bc', Detail: '{}' }), 5);
    assert.equal(putEventsEntrySize({ Source: 'a', DetailType: 'bc', Detail: '{}', Time: 1700000000 }), 19);
    assert.equal(putEventsEntrySize({ Source: 'é', DetailType: '€', Detail: '{"k":"😀"}', Resources: ['r1', 'ü'] }), 2 + 3 + 12 + 2 + 2);
  });

  // Entries: "Maximum number of 10 items": https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html
  it('refuses more than 10 entries as a whole (ValidationException), putting none', () => {
    const { bus } = busWith();
    assert.throws(
      () => bus.putEvents(Array.from({ length: 11 }, () => entry())),
      (error: unknown) => error instanceof PutEventsValidationError && error.name === 'ValidationException' && /Member must have length less than or equal to 10/.test(error.message),
    );
    assert.equal(bus.events.length, 0);
    assert.equal(bus.putEvents(Array.from({ length: 10 }, () => entry())).FailedEntryCount, 0);
  });

  it('refuses an empty or missing list of entries', () => {
    const { bus } = busWith();
    assert.throws(() => bus.putEvents([]), /length greater than or equal to 1/);
    assert.throws(() => bus.putEvents(undefined), /Member must not be null/);
  });

  it('refuses a request over 256 KiB as a whole, counted over all its entries', () => {
    const { bus } = busWith();
    const fixed = putEventsEntrySize(entry({ Detail: '{"p":""}' }));
    const detailOf = (bytes: number) => JSON.stringify({ p: 'x'.repeat(bytes - fixed) });
    assert.equal(bus.putEvents([entry({ Detail: detailOf(256 * 1024) })]).FailedEntryCount, 0);
    assert.throws(() => bus.putEvents([entry({ Detail: detailOf(256 * 1024 + 1) })]), /Total size of the entries in the request is over the limit/);
    const half = detailOf(128 * 1024);
    assert.throws(() => bus.putEvents([entry({ Detail: half }), entry({ Detail: half, Time: 1700000000 })]), PutEventsValidationError);
    assert.equal(bus.events.length, 1);
  });

  it('takes a larger quota when told (AWS raised it to 1 MiB)', () => {
    const { bus } = busWith({ maxRequestBytes: 1024 * 1024 });
    assert.equal(bus.putEvents([entry({ Detail: JSON.stringify({ p: 'x'.repeat(300 * 1024) }) })]).FailedEntryCount, 0);
  });

  // https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEventsResultEntry.html
  it('fails single entries with InvalidArgument or MalformedDetail and puts the rest', () => {
    const { bus } = busWith();
    const result = bus.putEvents([
      entry(),
      entry({ Source: undefined }),
      entry({ DetailType: '' }),
      entry({ Detail: undefined }),
      entry({ Detail: 'not json' }),
      entry({ Detail: '[1,2]' }),
      entry({ Detail: '"text"' }),
      entry({ Time: 1700000000 }),
    ]);
    assert.equal(result.FailedEntryCount, 6);
    assert.deepEqual(result.Entries.slice(1, 7), [
      { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter Source is not valid. Reason: Source is a required argument.' },
      { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter DetailType is not valid. Reason: DetailType is a required argument.' },
      { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter Detail is not valid. Reason: Detail is a required argument.' },
      { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' },
      { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' },
      { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' },
    ]);
    assert.ok('EventId' in result.Entries[0]! && 'EventId' in result.Entries[7]!);
    assert.equal(bus.events.length, 2);
    assert.equal(bus.events[1]!.time, '2023-11-14T22:13:20Z');
  });
});

describe('PutEvents through @aws-sdk/client-eventbridge against the twin', () => {
  let server: Server;
  let client: EventBridgeClient;
  const { bus } = busWith({ duplicateRate: 0 });

  before(async () => {
    const serve = controlPlane({ invalidations: {} as InvalidationService, bus });
    server = createServer((request, response) => void serve(request, response));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    client = new EventBridgeClient({
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
  });
  after(async () => {
    client.destroy();
    await bus.settled();
    await new Promise((resolve) => server.close(resolve));
  });

  it('sees a ValidationException for 11 entries, as from AWS', async () => {
    const Entries = Array.from({ length: 11 }, () => ({ Source: 'pictor.test', DetailType: 'Image Uploaded', Detail: '{}' }));
    await assert.rejects(client.send(new PutEventsCommand({ Entries })), (error: Error & { $metadata?: { httpStatusCode?: number } }) => {
      assert.equal(error.name, 'ValidationException');
      assert.equal(error.$metadata?.httpStatusCode, 400);
      return true;
    });
  });

  it('sees FailedEntryCount and each entry’s ErrorCode', async () => {
    const result = await client.send(
      new PutEventsCommand({ Entries: [{ Source: 'pictor.test', DetailType: 'Image Uploaded', Detail: '{"key":"a"}', Time: new Date('2024-01-02T03:04:05Z') }, { Source: 'pictor.test', DetailType: 'Image Uploaded', Detail: 'nope' }] }),
    );
    assert.equal(result.FailedEntryCount, 1);
    assert.ok(result.Entries![0]!.EventId);
    assert.equal(result.Entries![1]!.ErrorCode, 'MalformedDetail');
    assert.equal(bus.events.at(-1)!.time, '2024-01-02T03:04:05Z');
  });
});
