import { randomUUID } from 'node:crypto';
import { selectPath } from '../json-path.ts';
import { resolveTokens, LOCAL_ACCOUNT, LOCAL_REGION, type CfnTemplate } from '../pipeline/template.ts';
import { matchesPattern, type EventPattern } from './pattern.ts';

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

/**
 * The twin's EventBridge: the rules of the synthesized template (patterns and
 * targets, tokens resolved), so that local routing and AWS routing are one
 * definition. Matching events go to their targets' `deliver`.
 */
export class LocalEventBus {
  /** Every event put on the bus, matched or not: the twin's view of what was published. */
  readonly events: BusEvent[] = [];
  readonly delivered: { rule: string; target: string; event: BusEvent }[] = [];

  constructor(readonly rules: readonly Rule[], private readonly deliver: Deliver) {}

  static fromTemplate(template: CfnTemplate, names: Readonly<Record<string, string>>, deliver: Deliver): LocalEventBus {
    const rules: Rule[] = [];
    for (const [logicalId, resource] of Object.entries(template.Resources)) {
      if (resource.Type !== 'AWS::Events::Rule' || resource.Properties?.State === 'DISABLED') continue;
      const props = resolveTokens(resource.Properties, template, names);
      rules.push({
        name: logicalId,
        eventBusName: props.EventBusName ?? 'default',
        pattern: props.EventPattern,
        targets: (props.Targets ?? []).map((t: { Arn: string; Input?: string; InputPath?: string; InputTransformer?: Target['inputTransformer'] }) => ({
          arn: t.Arn,
          input: t.Input,
          inputPath: t.InputPath,
          inputTransformer: t.InputTransformer,
        })),
      });
    }
    return new LocalEventBus(rules, deliver);
  }

  /** Puts one event on a bus; returns the rules it matched. */
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
        this.delivered.push({ rule: rule.name, target: target.arn, event });
        this.deliver(target.arn, targetInput(target, event));
      }
    }
    return { id: event.id, matched };
  }
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
