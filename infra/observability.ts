import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { PRICES } from './prices.ts';

/** The distribution's metrics: CloudFront publishes them in us-east-1, under Region=Global. https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/programming-cloudwatch-metrics.html */
export function distributionMetric(distributionId: string, metricName: string, statistic: string, period = Duration.minutes(5)): cloudwatch.Metric {
  return new cloudwatch.Metric({ namespace: 'AWS/CloudFront', metricName, dimensionsMap: { DistributionId: distributionId, Region: 'Global' }, statistic, period, region: 'us-east-1' });
}

/** Who hears of the alarms, besides the topics Pictor creates. */
export interface AlarmSubscribers {
  /**
   * Addresses subscribed by email to every alarm topic (the distribution's in
   * us-east-1, the pipeline's in its region); each confirms with the link SNS mails it.
   * @default none
   */
  readonly emails?: readonly string[];
  /**
   * Existing SNS topics, by ARN, that the alarms of the topic's own region notify
   * too (an alarm's SNS actions name topics in the alarm's own region): one in
   * us-east-1 for the distribution's alarms, one in the primary region for the
   * pipeline's. Each topic's policy must let cloudwatch.amazonaws.com publish (and
   * its key, if any, encrypt).
   * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
   * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Notify_Users_Alarm_Changes.html
   * @default none
   */
  readonly topicArns?: readonly string[];
}

/** The region an SNS topic ARN names (arn:partition:sns:region:account:name). */
export function topicRegion(arn: string): string | undefined {
  return /^arn:aws[a-z-]*:sns:([a-z0-9-]+):[0-9]{12}:[A-Za-z0-9_-]{1,256}$/.exec(arn)?.[1];
}

/** An SNS topic the alarms of one region notify, encrypted with a key CloudWatch may use; and the subscribers' topics there. */
export class AlarmTopic extends Construct {
  readonly topic: sns.Topic;
  /** What every alarm of this region does: notify this topic, and each subscriber topic in this region. */
  readonly actions: readonly cloudwatch.IAlarmAction[];

  constructor(scope: Construct, id: string, subscribers: AlarmSubscribers = {}) {
    super(scope, id);
    // CloudWatch cannot publish to a topic under the AWS managed SNS key.
    // https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html
    const key = new kms.Key(this, 'Key', { description: 'Pictor alarm notifications', enableKeyRotation: true });
    key.grant(new iam.ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    this.topic = new sns.Topic(this, 'Topic', { displayName: 'Pictor alarms', masterKey: key, enforceSSL: true });
    for (const email of subscribers.emails ?? []) this.topic.addSubscription(new subscriptions.EmailSubscription(email));
    const region = Stack.of(this).region;
    const theirs = (subscribers.topicArns ?? []).filter((arn) => topicRegion(arn) === region);
    this.actions = [this.topic, ...theirs.map((arn, i) => sns.Topic.fromTopicArn(this, `Subscriber${i}`, arn))].map((topic) => new actions.SnsAction(topic));
  }
}

/** An alarm that notifies the topic, and reads no data as no trouble (no traffic is not a low hit ratio). */
function notifyingAlarm(scope: Construct, id: string, topic: AlarmTopic, props: cloudwatch.AlarmProps): cloudwatch.Alarm {
  const alarm = new cloudwatch.Alarm(scope, id, { treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING, ...props });
  alarm.addAlarmAction(...topic.actions);
  return alarm;
}

export interface EdgeAlarmsProps {
  readonly distributionId: string;
  /** @default none but the topic's own */
  readonly subscribers?: AlarmSubscribers;
  /**
   * Alarm when the cache-hit ratio stays below this percentage for 15 minutes.
   * @default 90
   */
  readonly minHitRatio?: number;
  /**
   * Alarm when 5xx responses stay above this percentage for 15 minutes.
   * @default 1
   */
  readonly max5xxRate?: number;
}

/** The distribution's alarms: in us-east-1, beside its metrics (an alarm reads its own region only). */
export class EdgeAlarms extends Construct {
  readonly topic: AlarmTopic;
  readonly alarms: cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: EdgeAlarmsProps) {
    super(scope, id);
    this.topic = new AlarmTopic(this, 'Notify', props.subscribers);
    // Fifteen minutes in a row, so one bad interval (a deploy, a purge) does not page anyone.
    const sustained = { evaluationPeriods: 3, datapointsToAlarm: 3 };
    const metric = (name: string, statistic: string) => distributionMetric(props.distributionId, name, statistic);
    this.alarms = [
      notifyingAlarm(this, 'HitRatio', this.topic, {
        metric: metric('CacheHitRate', 'Average'),
        alarmDescription: 'The cache-hit ratio is low: new cache keys are minted (a parameter the viewer function lets through?) or a re-render flushed the edge.',
        threshold: props.minHitRatio ?? 90,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        ...sustained,
      }),
      notifyingAlarm(this, 'ServerErrors', this.topic, {
        metric: metric('5xxErrorRate', 'Average'),
        alarmDescription: 'Viewers get 5xx: the origins, Origin Shield or the origin-request function are failing.',
        threshold: props.max5xxRate ?? 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        ...sustained,
      }),
      notifyingAlarm(this, 'OriginRequestErrors', this.topic, {
        metric: metric('LambdaExecutionError', 'Sum'),
        alarmDescription: 'The origin-request Lambda@Edge function fails (its logs are in the region that ran it).',
        threshold: 10,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        ...sustained,
      }),
      // Throttled functions are 503s to viewers: ask for more concurrency in the regions that ran them.
      notifyingAlarm(this, 'OriginRequestThrottles', this.topic, {
        metric: metric('LambdaLimitExceededError', 'Sum'),
        alarmDescription: 'The origin-request Lambda@Edge function is throttled: raise its concurrency quota where it runs.',
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        ...sustained,
      }),
    ];
  }
}

export interface PipelineObservabilityProps {
  readonly stateMachines: Readonly<Record<string, sfn.IStateMachine>>;
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  /** The task that renders the standard variants on upload. */
  readonly renderFunction: lambda.IFunction;
  /** The task that creates invalidations: one per image taken down. */
  readonly invalidateFunction: lambda.IFunction;
  readonly distributionId: string;
  /** The Lambda@Edge function's name; its metrics are in us-east-1 as `us-east-1.{name}` for what ran there. */
  readonly originRequestFunctionName: string;
  /** Megabytes of the origin-request function, for its cost. */
  readonly originRequestMemoryMb: number;
  /** @default none but the topic's own */
  readonly subscribers?: AlarmSubscribers;
}

/**
 * The pipeline's alarms (failed executions, task errors and throttles) and the
 * dashboard: hit ratio, transforms, invalidations and an estimated cost.
 */
export class PipelineObservability extends Construct {
  readonly topic: AlarmTopic;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: PipelineObservabilityProps) {
    super(scope, id);
    this.topic = new AlarmTopic(this, 'Notify', props.subscribers);
    const alarm = (id: string, metric: cloudwatch.IMetric, alarmDescription: string) =>
      this.alarms.push(
        notifyingAlarm(this, id, this.topic, { metric, alarmDescription, threshold: 1, evaluationPeriods: 1, comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD }),
      );
    for (const [name, machine] of Object.entries(props.stateMachines)) {
      alarm(`${name}Failed`, machine.metricFailed({ period: Duration.minutes(5), statistic: 'Sum' }), `${name} executions failed: see their Cause.`);
    }
    for (const [name, fn] of Object.entries(props.functions)) {
      alarm(`${name}Errors`, fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }), `${name} threw (the state machine retries transient errors; repeated errors need a look).`);
      alarm(`${name}Throttles`, fn.metricThrottles({ period: Duration.minutes(5), statistic: 'Sum' }), `${name} is throttled: raise its concurrency or the account's.`);
    }

    const hour = Duration.hours(1);
    const edge = (name: string, statistic: string) => distributionMetric(props.distributionId, name, statistic, hour);
    const atEdge = (metricName: string, statistic: string) =>
      new cloudwatch.Metric({ namespace: 'AWS/Lambda', metricName, dimensionsMap: { FunctionName: `us-east-1.${props.originRequestFunctionName}` }, statistic, period: hour, region: 'us-east-1' });
    const requests = edge('Requests', 'Sum');
    const transforms = atEdge('Invocations', 'Sum');
    // Hourly cost: egress, the viewer function on every request, and Lambda@Edge on every miss.
    const cost = new cloudwatch.MathExpression({
      label: 'Estimated USD per hour (us-east-1 Lambda@Edge only)',
      expression: `bytes / 1000000000 * ${PRICES.egressPerGb} + requests / 1000000 * ${PRICES.functionsPerMillion} + edgeCalls / 1000000 * ${PRICES.lambdaEdgePerMillion} + edgeMs / 1000 * ${props.originRequestMemoryMb / 1024} * ${PRICES.lambdaEdgePerGbSecond}`,
      usingMetrics: { bytes: edge('BytesDownloaded', 'Sum'), requests, edgeCalls: transforms, edgeMs: atEdge('Duration', 'Sum') },
      period: hour,
    });
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      widgets: [
        [
          new cloudwatch.GraphWidget({ title: 'Cache-hit ratio (%)', left: [edge('CacheHitRate', 'Average')], width: 12 }),
          new cloudwatch.GraphWidget({ title: 'Requests and 5xx rate', left: [requests], right: [edge('5xxErrorRate', 'Average')], width: 12 }),
        ],
        [
          new cloudwatch.GraphWidget({ title: 'Edge transforms run in us-east-1 (count, p90 ms)', left: [transforms], right: [atEdge('Duration', 'p90')], width: 8 }),
          new cloudwatch.GraphWidget({
            title: 'Upload renders (count, ms)',
            left: [props.renderFunction.metricInvocations({ period: hour })],
            right: [props.renderFunction.metricDuration({ period: hour, statistic: 'p90' })],
            width: 8,
          }),
          new cloudwatch.GraphWidget({ title: 'Invalidations requested', left: [props.invalidateFunction.metricInvocations({ period: hour, statistic: 'Sum' })], width: 8 }),
        ],
        [new cloudwatch.GraphWidget({ title: 'Estimated cost, USD per hour (Lambda@Edge counted in us-east-1 only)', left: [cost], width: 24 })],
      ],
    });
  }
}
