import { Lazy, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { PICTOR_EVENTS, PICTOR_SOURCE, type PictorDetailType } from '../events/schemas/pictor-events.ts';

/**
 * Pictor's own event bus, which admits each detail-type from the roles named as its
 * senders and from no one else: a "Takedown Requested" erases images for good, so
 * `events:PutEvents` on the account's default bus, which many principals hold, must
 * not be enough to send one.
 *
 * Its resource policy denies every principal of the account what it does not name:
 * within an account an explicit Deny in a resource policy wins over any identity
 * policy, an administrator's included.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 * EventBridge authorizes each entry of a PutEvents request by its source and
 * detail-type (the `events:source` and `events:detail-type` condition keys), and
 * fails a refused entry alone with NotAuthorizedForDetailTypeException.
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-conditions.html
 * https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEventsResultEntry.html
 */
export class PictorEventBus extends Construct {
  readonly bus: events.EventBus;
  private readonly senders = new Map<PictorDetailType, string[]>();
  private readonly outside = new Map<PictorDetailType, string[]>();

  /** The bus's ARN, built from its name: its own policy cannot refer to its Arn attribute. */
  private readonly arn: string;

  constructor(scope: Construct, id: string, props: { readonly eventBusName: string }) {
    super(scope, id);
    this.bus = new events.EventBus(this, 'Bus', { eventBusName: props.eventBusName, description: 'Pictor: its own events, each detail-type from the roles named to send it' });
    this.arn = Stack.of(this).formatArn({ service: 'events', resource: 'event-bus', resourceName: props.eventBusName });
    (this.bus.node.defaultChild as events.CfnEventBus).policy = Lazy.any({ produce: () => this.policy() });
  }

  /**
   * Lets a role of this app send these detail-types: an identity policy limited to
   * Pictor's source and exactly these detail-types, and the bus policy names it.
   */
  grantSend(grantee: iam.IRole, ...detailTypes: PictorDetailType[]): void {
    for (const detailType of detailTypes) this.add(this.senders, detailType, grantee.roleArn);
    grantee.addToPrincipalPolicy(this.sendStatement(detailTypes, this.bus.eventBusArn));
  }

  /**
   * The identity statement that lets a role send these detail-types to this bus. A role
   * in another stack takes it with `admitSenders` here, by its ARN; the bus's ARN is then
   * built from its name, so that stack imports nothing from this one.
   */
  sendStatement(detailTypes: readonly PictorDetailType[], busArn: string = this.arn): iam.PolicyStatement {
    return new iam.PolicyStatement({
      actions: ['events:PutEvents'],
      resources: [busArn],
      conditions: { StringEquals: { 'events:source': PICTOR_SOURCE, 'events:detail-type': [...detailTypes] } },
    });
  }

  /**
   * Lets roles managed elsewhere, by ARN, send these detail-types: the bus policy allows them itself.
   * The roles must exist when this stack deploys (an Allow's Principal must); else `admitSenders`.
   */
  allowSenders(roleArns: readonly string[], ...detailTypes: PictorDetailType[]): void {
    for (const detailType of detailTypes) {
      for (const arn of roleArns) {
        this.add(this.senders, detailType, arn);
        this.add(this.outside, detailType, arn);
      }
    }
  }

  /**
   * Admits roles of this account that are managed elsewhere, by ARN, as senders of these
   * detail-types, without naming them as principals: they are only excepted from the Deny
   * statements (an `aws:PrincipalArn` condition), and their own identity policy (`sendStatement`)
   * allows the call. For roles that may not exist yet when this bus's policy is written (another
   * region's API, deployed after this stack): a resource policy's Principal must name a principal
   * that exists, and a role ARN there is saved as the role's unique id
   * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html),
   * while a condition's ARN is a string compared at request time. Within one account an identity
   * policy's Allow is enough without the resource policy's
   * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html);
   * EventBridge's bus policy is such a resource policy, needed for other accounts
   * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-bus-perms.html).
   */
  admitSenders(roleArns: readonly string[], ...detailTypes: PictorDetailType[]): void {
    for (const detailType of detailTypes) {
      for (const arn of roleArns) this.add(this.senders, detailType, arn);
    }
  }

  private add(map: Map<PictorDetailType, string[]>, detailType: PictorDetailType, arn: string): void {
    map.set(detailType, [...(map.get(detailType) ?? []), arn]);
  }

  private policy(): unknown {
    const bus = this.arn;
    const deny = (sid: string, condition: Record<string, Record<string, unknown>>) => ({ Sid: sid, Effect: 'Deny', Principal: '*', Action: 'events:PutEvents', Resource: bus, Condition: condition });
    const statements: unknown[] = [
      deny('OnlyPictorSource', { StringNotEquals: { 'events:source': PICTOR_SOURCE } }),
      deny('OnlyPictorDetailTypes', { StringNotEquals: { 'events:detail-type': Object.keys(PICTOR_EVENTS) } }),
    ];
    for (const detailType of Object.keys(PICTOR_EVENTS) as PictorDetailType[]) {
      const senders = this.senders.get(detailType) ?? [];
      const sid = `OnlyNamedSendersOf${detailType.replace(/ /g, '')}`;
      statements.push(
        deny(sid, senders.length > 0 ? { StringEquals: { 'events:detail-type': detailType }, ArnNotEquals: { 'aws:PrincipalArn': senders } } : { StringEquals: { 'events:detail-type': detailType } }),
      );
      const outside = this.outside.get(detailType) ?? [];
      if (outside.length > 0) {
        statements.push({
          Sid: `Allow${detailType.replace(/ /g, '')}`,
          Effect: 'Allow',
          Principal: { AWS: outside },
          Action: 'events:PutEvents',
          Resource: bus,
          Condition: { StringEquals: { 'events:source': PICTOR_SOURCE, 'events:detail-type': detailType } },
        });
      }
    }
    return { Version: '2012-10-17', Statement: statements };
  }
}
