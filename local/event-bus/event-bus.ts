import { randomUUID } from 'node:crypto';
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
  readonly targets: readonly { readonly arn: string; readonly input?: string; readonly inputPath?: string }[];
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
        targets: (props.Targets ?? []).map((t: { Arn: string; Input?: string; InputPath?: string }) => ({ arn: t.Arn, input: t.Input, inputPath: t.InputPath })),
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
        this.deliver(target.arn, target.input !== undefined ? JSON.parse(target.input) : target.inputPath ? select(event, target.inputPath) : event);
      }
    }
    return { id: event.id, matched };
  }
}

/** A JSONPath of the simple `$.a.b` form, as InputPath uses. */
function select(event: BusEvent, path: string): unknown {
  return path
    .replace(/^\$\.?/, '')
    .split('.')
    .filter(Boolean)
    .reduce<unknown>((value, key) => (value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined), event);
}
