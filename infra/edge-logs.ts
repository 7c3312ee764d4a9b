import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { edgeLogGroupName } from './edge.ts';
import { acknowledge, acknowledgeWildcards, policyResources } from './nag.ts';

/**
 * Where Lambda@Edge may run the origin-request function: CloudFront runs it in the
 * AWS Region of the regional edge cache that serves a request (AWS lists the caches,
 * by city, on https://aws.amazon.com/cloudfront/features/ ). The list here is every
 * Region an account has enabled by default, a superset of those caches' Regions: a
 * log group made where nothing runs costs nothing, and one missed would keep its logs
 * forever. Opt-in Regions are left out, since a log group cannot be made where the
 * account has not enabled them. https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-regions.html
 */
export const EDGE_LOG_REGIONS = [
  'us-east-1', 'us-east-2', 'us-west-1', 'us-west-2', 'ca-central-1', 'sa-east-1',
  'eu-central-1', 'eu-west-1', 'eu-west-2', 'eu-west-3', 'eu-north-1',
  'ap-south-1', 'ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3', 'ap-southeast-1', 'ap-southeast-2',
] as const;

export interface EdgeLogRetentionProps {
  /** The Lambda@Edge function whose regional log groups these are. */
  readonly function: lambda.IFunction;
  /** @default EDGE_LOG_REGIONS */
  readonly regions?: readonly string[];
  /** @default three months */
  readonly retention?: logs.RetentionDays;
}

/**
 * Lambda@Edge writes a function's logs in each region that runs it, to a log group
 * of its own making, /aws/lambda/us-east-1.{function}, kept forever unless someone
 * says otherwise (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/edge-functions-logs.html).
 * A stack lives in one region, so this creates each region's group ahead of the
 * function (or finds it) and sets its retention, through CDK's LogRetention custom
 * resource, which calls CloudWatch Logs in the region named: deployable from the edge
 * stack in us-east-1, and synthesized offline.
 */
export class EdgeLogRetention extends Construct {
  readonly regions: readonly string[];

  constructor(scope: Construct, id: string, props: EdgeLogRetentionProps) {
    super(scope, id);
    this.regions = props.regions ?? EDGE_LOG_REGIONS;
    const stack = Stack.of(this);
    const groupArn = (region: string) => `arn:${stack.partition}:logs:${region}:${stack.account}:log-group:${edgeLogGroupName(props.function.functionName)}:*`;
    // A role that reaches this function's groups only. CDK's LogRetention adds PutRetentionPolicy on
    // every group to whatever role it is given (acknowledged below); the provider runs only while
    // CloudFormation deploys, and reports a failure to it, so it writes no logs of its own.
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: "Pictor: create the origin-request function's regional log groups and set their retention",
    });
    const own = new iam.PolicyStatement({
      actions: ['logs:CreateLogGroup', 'logs:PutRetentionPolicy', 'logs:DeleteRetentionPolicy'],
      resources: this.regions.map(groupArn),
    });
    role.addToPrincipalPolicy(own);
    for (const region of this.regions) {
      new logs.LogRetention(this, region, {
        logGroupName: edgeLogGroupName(props.function.functionName),
        logGroupRegion: region,
        retention: props.retention ?? logs.RetentionDays.THREE_MONTHS,
        role,
      });
    }
    const policy = role.node.findChild('DefaultPolicy') as iam.Policy;
    acknowledge(policy, {
      'AwsSolutions-IAM5[Resource::*]': "CDK's LogRetention adds logs:PutRetentionPolicy and DeleteRetentionPolicy on every log group to its role; the statement beside it names this function's groups.",
    });
    acknowledgeWildcards(policy, policyResources(policy, new iam.PolicyDocument({ statements: [own] })), "Each region's log group of this function, which Lambda@Edge names; log groups' ARNs end in :* .");
  }
}
