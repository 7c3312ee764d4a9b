import { randomUUID } from 'node:crypto';
import { selectPath } from '../json-path.ts';
import { resolveTokens, LOCAL_ACCOUNT, LOCAL_REGION, type CfnTemplate } from '../pipeline/template.ts';
import { matchesPattern, validatePattern, type EventPattern } from './pattern.ts';
import { authorize, type PolicyStatement } from '../iam/policy.ts';
import type { Identity } from '../iam/identities.ts';

/** An event as EventBridge delivers it. */
export interface BusEvent {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': string;
  readonly source: string;
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: unknown;
}

export interface Rule {
  readonly name: string;
  readonly eventBusName: string;
  readonly pattern: EventPattern;
  readonly targets: readonly Target[];
}

export interface Target {
  readonly arn: string;
  readonly input?: string;
  readonly inputPath?: string;
  readonly inputTransformer?: { readonly InputPathsMap?: Record<string, string>; readonly InputTemplate: string };
}

export type Deliver = (targetArn: string, input: unknown) => void;

export interface LocalEventBusOptions {
  /**
   * Probability (0..1) that a delivery to a target is made twice. EventBridge
   * delivers at least once, so a target must be idempotent; a non-zero default keeps
   * the twin from being more lenient than AWS.
   * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-retry-policy.html
   * @default 0.01
   */
  readonly duplicateRate?: number;
  /** Seed of the generator that picks the deliveries made twice, so a run can be replayed. @default 1 */
  readonly seed?: number;
  /** How long after the first a duplicate delivery comes. @default 25 */
  readonly duplicateDelayMs?: number;
  /**
   * The largest PutEvents request, summed over its entries as AWS's entry-size page
   * counts them. 256 KiB is the documented quota; AWS has since announced 1 MiB
   * (January 2026), so set 1048576 to allow what AWS now accepts.
   * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html
   * @default 262144
   */
  readonly maxRequestBytes?: number;
}

/** The account's buses by name, each with its resource policy's statements (none for a bus without one). */
export type Buses = ReadonlyMap<string, readonly PolicyStatement[]>;

/** PutEvents' request entry, as the API (and @aws-sdk/client-eventbridge) sends it. */
export interface PutEventsRequestEntry {
  readonly Source?: string;
  readonly DetailType?: string;
  readonly Detail?: string;
  readonly Resources?: string[];
  /** Epoch seconds, as the SDK's JSON protocol sends a timestamp. */
  readonly Time?: number | string;
  readonly EventBusName?: string;
  readonly TraceHeader?: string;
}

export type PutEventsResultEntry = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

/** A PutEvents request refused as a whole (HTTP 400), as AWS answers a batch over its quotas. */
export class PutEventsValidationError extends Error {
  override readonly name = 'ValidationException';
  readonly status = 400;
}

/** At most 10 entries per PutEvents request. https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html */
export const PUT_EVENTS_MAX_ENTRIES = 10;

/**
 * An entry's size as EventBridge counts it: Time is 14 bytes if present; Source,
 * DetailType, Detail and each Resource are their UTF-8 bytes.
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html
 */
export function putEventsEntrySize(entry: PutEventsRequestEntry): number {
  const bytes = (text: unknown) => (typeof text === 'string' ? Buffer.byteLength(text, 'utf8') : 0);
  let size = entry.Time !== undefined && entry.Time !== null ? 14 : 0;
  size += bytes(entry.Source) + bytes(entry.DetailType) + bytes(entry.Detail);
  for (const resource of entry.Resources ?? []) size += bytes(resource);
  return size;
}

/**
 * The twin's EventBridge: the rules of the synthesized template (patterns and
 * targets, tokens resolved), so that local routing and AWS routing are one
 * definition. Matching events go to their targets' `deliver` asynchronously, after
 * the put has answered, and at least once: now and then twice, with the same event id.
 */
export class LocalEventBus {
  /** Every event put on the bus, matched or not: the twin's view of what was published. */
  readonly events: BusEvent[] = [];
  /** Every delivery handed to a target, in order; a duplicate delivery appears twice. */
  readonly delivered: { rule: string; target: string; event: BusEvent }[] = [];
  /** Deliveries whose target threw; EventBridge would retry them, the twin records them. */
  readonly failed: { rule: string; target: string; event: BusEvent; error: unknown }[] = [];

  private readonly duplicateRate: number;
  private readonly duplicateDelayMs: number;
  private readonly maxRequestBytes: number;
  private readonly random: () => number;
  private readonly pending = new Set<Promise<void>>();

  constructor(
    readonly rules: readonly Rule[],
    private readonly deliver: Deliver,
    options: LocalEventBusOptions = {},
    /** The buses PutEvents may name; `default` always exists. */
    readonly buses: Buses = new Map([['default', []]]),
  ) {
    const { duplicateRate = 0.01, seed = 1, duplicateDelayMs = 25, maxRequestBytes = 256 * 1024 } = options;
    if (!(duplicateRate >= 0 && duplicateRate <= 1)) throw new RangeError(`Expected duplicateRate between 0 and 1 but received ${duplicateRate}; use 0 for exactly-once delivery.`);
    if (!Number.isInteger(seed)) throw new RangeError(`Expected an integer seed but received ${seed}.`);
    if (!(duplicateDelayMs >= 0)) throw new RangeError(`Expected duplicateDelayMs of 0 or more but received ${duplicateDelayMs}.`);
    this.duplicateRate = duplicateRate;
    this.duplicateDelayMs = duplicateDelayMs;
    this.maxRequestBytes = maxRequestBytes;
    this.random = mulberry32(seed);
    // A deployment fails on a pattern PutRule refuses; so does the twin, at start.
    for (const rule of rules) validatePattern(rule.pattern);
  }

  static fromTemplate(template: CfnTemplate, names: Readonly<Record<string, string>>, deliver: Deliver, options: LocalEventBusOptions = {}): LocalEventBus {
    // Every account has its default bus; the template adds its own, each with its policy (the bus's
    // Policy property, and AWS::Events::EventBusPolicy statements naming it).
    const buses = new Map<string, PolicyStatement[]>([['default', []]]);
    const statementsOf = (policy: any): PolicyStatement[] => (policy?.Statement === undefined ? [] : [policy.Statement].flat());
    for (const [logicalId, resource] of Object.entries(template.Resources)) {
      if (resource.Type !== 'AWS::Events::EventBus') continue;
      const name = resolveTokens({ Ref: logicalId }, template, names) as string;
      buses.set(name, statementsOf(resolveTokens(resource.Properties?.Policy, template, names)));
    }
    for (const resource of Object.values(template.Resources)) {
      if (resource.Type !== 'AWS::Events::EventBusPolicy') continue;
      const props = resolveTokens(resource.Properties, template, names);
      const name = String(props.EventBusName ?? 'default').split('/').pop()!;
      const statements = props.Statement ? [{ Sid: props.StatementId, ...props.Statement }] : statementsOf(props.Policy);
      buses.set(name, [...(buses.get(name) ?? []), ...statements]);
    }
    const rules: Rule[] = [];
    for (const [logicalId, resource] of Object.entries(template.Resources)) {
      if (resource.Type !== 'AWS::Events::Rule' || resource.Properties?.State === 'DISABLED') continue;
      const props = resolveTokens(resource.Properties, template, names);
      rules.push({
        name: logicalId,
        eventBusName: props.EventBusName ?? 'default',
        // CloudFormation takes the pattern as an object or as a JSON string.
        pattern: typeof props.EventPattern === 'string' ? JSON.parse(props.EventPattern) : props.EventPattern,
        targets: (props.Targets ?? []).map((t: { Arn: string; Input?: string; InputPath?: string; InputTransformer?: Target['inputTransformer'] }) => ({
          arn: t.Arn,
          input: t.Input,
          inputPath: t.InputPath,
          inputTransformer: t.InputTransformer,
        })),
      });
    }
    return new LocalEventBus(rules, deliver, options, buses);
  }

  /**
   * Puts one event on a bus; returns the rules it matched. Targets receive it later,
   * once this call has returned, as PutEvents answers before any target runs.
   */
  put(entry: { source: string; detailType: string; detail: unknown; resources?: string[]; time?: string; eventBusName?: string }): { id: string; matched: string[] } {
    const event: BusEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': entry.detailType,
      source: entry.source,
      account: LOCAL_ACCOUNT,
      time: entry.time ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: LOCAL_REGION,
      resources: entry.resources ?? [],
      detail: entry.detail,
    };
    this.events.push(event);
    const bus = entry.eventBusName ?? 'default';
    const matched: string[] = [];
    for (const rule of this.rules) {
      if (rule.eventBusName !== bus && !rule.eventBusName.endsWith(`/${bus}`)) continue;
      if (!matchesPattern(rule.pattern, event)) continue;
      matched.push(rule.name);
      for (const target of rule.targets) {
        this.schedule(0, rule, target, event);
        if (this.duplicateRate > 0 && this.random() < this.duplicateRate) this.schedule(this.duplicateDelayMs, rule, target, event);
      }
    }
    return { id: event.id, matched };
  }

  /**
   * PutEvents: refuses the whole request over 10 entries or over the size quota
   * (ValidationException), and fails single entries AWS would fail (InvalidArgument,
   * MalformedDetail), putting the rest.
   * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevents.html
   * https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEventsResultEntry.html
   */
  putEvents(entries: unknown, caller?: Identity): { FailedEntryCount: number; Entries: PutEventsResultEntry[] } {
    if (entries === undefined || entries === null) {
      throw new PutEventsValidationError("1 validation error detected: Value null at 'entries' failed to satisfy constraint: Member must not be null");
    }
    if (!Array.isArray(entries)) throw new PutEventsValidationError("1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must be a list");
    if (entries.length < 1 || entries.length > PUT_EVENTS_MAX_ENTRIES) {
      const bound = entries.length < 1 ? 'greater than or equal to 1' : `less than or equal to ${PUT_EVENTS_MAX_ENTRIES}`;
      throw new PutEventsValidationError(`1 validation error detected: Value '[${entries.length} entries]' at 'entries' failed to satisfy constraint: Member must have length ${bound}`);
    }
    const size = (entries as PutEventsRequestEntry[]).reduce((sum, entry) => sum + putEventsEntrySize(entry ?? {}), 0);
    // AWS accepts a request of exactly the limit and refuses one byte more (measured at 1 MiB after the raise).
    if (size > this.maxRequestBytes) throw new PutEventsValidationError('Total size of the entries in the request is over the limit.');

    const results = (entries as PutEventsRequestEntry[]).map((entry): PutEventsResultEntry => {
      const invalid = entryError(entry ?? {});
      if (invalid) return invalid;
      const refused = this.refusal(entry, caller);
      if (refused) return refused;
      const id = this.put({
        source: entry.Source!,
        detailType: entry.DetailType!,
        detail: JSON.parse(entry.Detail!),
        resources: entry.Resources,
        time: entry.Time === undefined || entry.Time === null ? undefined : isoSeconds(entry.Time),
        eventBusName: entry.EventBusName?.split('/').pop(),
      }).id;
      return { EventId: id };
    });
    return { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results };
  }

  /**
   * Why an entry may not be put: its bus does not exist, or IAM refuses the caller
   * this source and detail-type on it (the caller's policies and the bus's). AWS
   * names a refusal by the condition key that made it.
   * https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEventsResultEntry.html
   */
  private refusal(entry: PutEventsRequestEntry, caller: Identity | undefined): { ErrorCode: string; ErrorMessage: string } | undefined {
    const busName = entry.EventBusName?.split('/').pop() ?? 'default';
    const policy = this.buses.get(busName);
    if (policy === undefined) return { ErrorCode: 'ResourceNotFoundException', ErrorMessage: `Event bus ${busName} does not exist.` };
    if (!caller) return undefined;
    const decision = authorize(
      {
        principal: caller,
        action: 'events:PutEvents',
        resource: `arn:aws:events:${LOCAL_REGION}:${LOCAL_ACCOUNT}:event-bus/${busName}`,
        context: { 'events:source': entry.Source!, 'events:detail-type': entry.DetailType! },
      },
      { identity: caller.statements, resource: policy },
    );
    if (decision.effect === 'Allow') return undefined;
    const keys = Object.values(decision.statement?.Condition ?? {}).flatMap((condition) => Object.keys(condition).map((key) => key.toLowerCase()));
    if (keys.includes('events:detail-type')) {
      return { ErrorCode: 'NotAuthorizedForDetailTypeException', ErrorMessage: 'You do not have permissions to publish events with this detail type onto this event bus.' };
    }
    if (keys.includes('events:source')) return { ErrorCode: 'NotAuthorizedForSourceException', ErrorMessage: 'You do not have permissions to publish events with this source onto this event bus.' };
    return { ErrorCode: 'AccessDeniedException', ErrorMessage: `User: ${caller.arn} is not authorized to perform: events:PutEvents on resource: ${busName}` };
  }

  /** Resolves once every delivery scheduled so far has been handed to its target. */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  private schedule(delayMs: number, rule: Rule, target: Target, event: BusEvent): void {
    const delivery = new Promise<void>((resolve) => {
      const run = () => {
        try {
          this.delivered.push({ rule: rule.name, target: target.arn, event });
          this.deliver(target.arn, targetInput(target, event));
        } catch (error) {
          this.failed.push({ rule: rule.name, target: target.arn, event, error });
        } finally {
          this.pending.delete(delivery);
          resolve();
        }
      };
      if (delayMs > 0) setTimeout(run, delayMs);
      else setImmediate(run);
    });
    this.pending.add(delivery);
  }
}

/**
 * The per-entry failures AWS names in PutEventsResultEntry, with the messages it
 * gives: a missing Source, DetailType or Detail is InvalidArgument; a Detail that
 * is not a JSON object is MalformedDetail.
 */
function entryError(entry: PutEventsRequestEntry): { ErrorCode: string; ErrorMessage: string } | undefined {
  for (const field of ['Source', 'DetailType', 'Detail'] as const) {
    if (typeof entry[field] !== 'string' || entry[field] === '') {
      return { ErrorCode: 'InvalidArgument', ErrorMessage: `Parameter ${field} is not valid. Reason: ${field} is a required argument.` };
    }
  }
  let detail: unknown;
  try {
    detail = JSON.parse(entry.Detail!);
  } catch {
    return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
  }
  if (!detail || typeof detail !== 'object' || Array.isArray(detail)) return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
  return undefined;
}

function isoSeconds(time: number | string): string {
  const date = typeof time === 'number' ? new Date(time * 1000) : new Date(time);
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A small seeded generator (mulberry32): the same seed picks the same duplicates. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What a target receives: the event, a constant, a part of it, or a transformed one. */
function targetInput(target: Target, event: BusEvent): unknown {
  if (target.input !== undefined) return JSON.parse(target.input);
  if (target.inputPath) return selectPath(event, target.inputPath);
  if (target.inputTransformer) return transform(target.inputTransformer, event);
  return event;
}

/**
 * An input transformer: each `<name>` in the template becomes the value its
 * path selects, as JSON, or as bare text where it sits inside quotes.
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html
 */
export function transform(transformer: NonNullable<Target['inputTransformer']>, event: BusEvent): unknown {
  const values = Object.fromEntries(Object.entries(transformer.InputPathsMap ?? {}).map(([name, path]) => [name, selectPath(event, path)]));
  const text = transformer.InputTemplate.replace(/("?)<([A-Za-z0-9_.-]+)>("?)/g, (whole, open: string, name: string, close: string) => {
    const value = name === 'aws.events.event' || name === 'aws.events.event.json' ? event : values[name];
    if (!(name in values) && !name.startsWith('aws.events.event')) return whole;
    if (open && close) return JSON.stringify(typeof value === 'string' ? value : JSON.stringify(value ?? null));
    return open + JSON.stringify(value ?? null) + close;
  });
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
