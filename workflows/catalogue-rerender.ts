import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { pictorStateMachine, taskState, useResultWriterV2, waitForReplication, type TaskFunctions } from './task-states.ts';

export interface CatalogueRerenderProps {
  /** The tasks it invokes; render-variants and publish-version are the ones RenderOnUpload uses. */
  readonly functions: TaskFunctions<'plan-rerender' | 'list-originals' | 'prepare-rerender' | 'render-variants' | 'publish-version' | 'tally-rerender' | 'complete-rerender'>;
  /** Where the Distributed Map writes each original's result (ResultWriter), under `rerenders/<jobId>/results/`. */
  readonly reports: IBucket;
  /**
   * The state machine's name. A job continues as a new execution of this state
   * machine, so its role may start executions of the ARN this name makes.
   * https://docs.aws.amazon.com/step-functions/latest/dg/tutorial-continue-new.html
   */
  readonly stateMachineName: string;
}

/**
 * Errors of the `states:startExecution` integration, as Step Functions names them:
 * AWS's example retries `StepFunctions.ExecutionLimitExceeded`; the API's exceptions
 * carry an `Exception` suffix. Both spellings are matched, which costs nothing.
 * https://docs.aws.amazon.com/step-functions/latest/dg/concepts-nested-workflows.html
 */
export const START_EXECUTION_ERRORS = {
  /** Too many open executions in the account: wait and start again. */
  limitExceeded: ['StepFunctions.ExecutionLimitExceeded', 'StepFunctions.ExecutionLimitExceededException'],
  /** The name is taken: a retried start whose first attempt got through, and whose execution has since ended. */
  alreadyExists: ['StepFunctions.ExecutionAlreadyExists', 'StepFunctions.ExecutionAlreadyExistsException'],
} as const;

/**
 * Originals rendered at once. Each render holds a 3 GB Lambda for about a second;
 * 40 keeps a job from taking the account's concurrency (1,000 by default) away
 * from the edge's misses. https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html
 */
export const RERENDER_CONCURRENCY = 40;

/**
 * CatalogueRerender: lists a tenant's originals (or every tenant's) a page at a
 * time, renders each page's originals as a Distributed Map (each original a child
 * execution with its own history), tallies every result into exact counts, and
 * stops early once failures pass the job's threshold. Nothing per original stays
 * in the state: the map run writes its results to the reports bucket
 * (ResultWriter), Tally reads them there and writes each page's failures beside
 * them, and Complete writes the job's report. After `pagesPerExecution` pages an
 * execution starts the next part of the job as a new execution of this state
 * machine and succeeds, so no history reaches 25,000 events however large the
 * catalogue. The Map reads its items from the state, not from an ItemReader, so
 * the local twin runs this very definition.
 */
export class CatalogueRerender extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: CatalogueRerenderProps) {
    super(scope, id);
    useResultWriterV2(this);
    const image = { 'tenant.$': '$.image.tenant', 'imageId.$': '$.image.imageId' };
    const failed = new sfn.Pass(this, 'Original Failed', { parameters: { status: 'failed', ...image, 'error.$': '$.error.Error', 'cause.$': '$.error.Cause' } });
    const catchInto = <T extends sfn.TaskStateBase>(state: T): T => state.addCatch(failed, { errors: ['States.ALL'], resultPath: '$.error' }) as T;

    const rendered = new sfn.Pass(this, 'Original Rendered', { parameters: { status: 'rendered', ...image, 'version.$': '$.publish.version' } });
    // As in RenderOnUpload: publishing waits for the snapshot to reach every replica, then for the pointer.
    const publish = catchInto(waitForReplication(taskState(this, 'Publish Version', props.functions['publish-version'], { inputPath: '$.upload', resultPath: '$.publish' }), { inARow: 2 })).next(
      new sfn.Choice(this, 'Published?')
        .when(sfn.Condition.booleanEquals('$.publish.published', true), rendered)
        .otherwise(new sfn.Pass(this, 'Publish Superseded', { parameters: { status: 'skipped', ...image, 'reason.$': '$.publish.reason' } })),
    );
    // The upload plus what was rendered for it: publish-version's input.
    const preparePublish = new sfn.Pass(this, 'Prepare Publish', {
      parameters: { 'image.$': '$.image', 'upload.$': 'States.JsonMerge($.upload, $.render, false)' },
    }).next(publish);
    const render = catchInto(taskState(this, 'Render Variants', props.functions['render-variants'], { inputPath: '$.upload', resultPath: '$.render' })).next(
      new sfn.Choice(this, 'Rendered?')
        .when(sfn.Condition.stringEquals('$.render.outcome', 'rendered'), preparePublish)
        .otherwise(new sfn.Pass(this, 'Render Superseded', { parameters: { status: 'skipped', ...image, 'reason.$': '$.render.reason' } })),
    );
    const prepare = catchInto(taskState(this, 'Prepare Rerender', props.functions['prepare-rerender'], { resultPath: '$.upload' })).next(
      new sfn.Choice(this, 'Render It?')
        .when(sfn.Condition.stringEquals('$.upload.action', 'render'), render)
        .otherwise(new sfn.Pass(this, 'Original Skipped', { parameters: { status: 'skipped', ...image, 'reason.$': '$.upload.reason' } })),
    );

    const jobFailed = new sfn.Fail(this, 'Rerender Failed', { errorPath: '$.error.Error', causePath: '$.error.Cause' });
    const renderPage = new sfn.DistributedMap(this, 'Render Each Original', {
      itemsPath: '$.page.items',
      itemSelector: { 'job.$': '$.job', 'image.$': '$$.Map.Item.Value' },
      maxConcurrency: RERENDER_CONCURRENCY,
      // Every item's failure is tolerated here: the job's own threshold decides, in Tally, over the whole job.
      toleratedFailurePercentage: 100,
      // The results go to S3; the state gets {MapRunArn, ResultWriterDetails: {Bucket, Key}} only.
      // https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html
      resultWriterV2: new sfn.ResultWriterV2({ bucket: props.reports, prefix: sfn.JsonPath.stringAt('$.job.resultsPrefix') }),
      resultPath: '$.page.run',
    });
    renderPage.itemProcessor(prepare);
    renderPage.addCatch(jobFailed, { errors: ['States.ALL'], resultPath: '$.error' });
    const complete = taskState(this, 'Complete Rerender', props.functions['complete-rerender'])
      .addCatch(jobFailed, { errors: ['States.ALL'], resultPath: '$.error' })
      .next(new sfn.Succeed(this, 'Rerendered'));
    const list = taskState(this, 'List Originals', props.functions['list-originals'], { resultPath: '$.page' }).addCatch(jobFailed, { errors: ['States.ALL'], resultPath: '$.error' });
    const tally = taskState(this, 'Tally Page', props.functions['tally-rerender']).addCatch(jobFailed, { errors: ['States.ALL'], resultPath: '$.error' });

    // The next part of the job, as a new execution of this state machine: request-response, so this
    // one ends once it has started. Its name is the job's and the part's, so a start retried after a
    // lost answer cannot start a second one.
    const continued = new sfn.Pass(this, 'Continued As New Execution', {
      parameters: { 'jobId.$': '$.job.jobId', 'continuedAs.$': '$.continuation', 'totals.$': '$.totals' },
    }).next(new sfn.Succeed(this, 'Part Done'));
    const continueAsNew = new sfn.CustomState(this, 'Continue As New', {
      stateJson: {
        Type: 'Task',
        Resource: `arn:${Stack.of(this).partition}:states:::states:startExecution`,
        Parameters: {
          'StateMachineArn.$': '$$.StateMachine.Id',
          'Name.$': '$.continuation.name',
          Input: {
            'jobId.$': '$.job.jobId',
            continuation: { 'job.$': '$.job', 'cursor.$': '$.cursor', 'totals.$': '$.totals', 'part.$': '$.continuation.part' },
            // Links the parts in the console. https://docs.aws.amazon.com/step-functions/latest/dg/concepts-nested-workflows.html
            'AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$': '$$.Execution.Id',
          },
        },
        ResultSelector: { 'executionArn.$': '$.ExecutionArn' },
        ResultPath: '$.continued',
      },
    })
      .addRetry({ errors: [...START_EXECUTION_ERRORS.limitExceeded], interval: Duration.seconds(5), backoffRate: 2, maxDelay: Duration.minutes(5), maxAttempts: 10, jitterStrategy: sfn.JitterType.FULL })
      .addCatch(continued, { errors: [...START_EXECUTION_ERRORS.alreadyExists], resultPath: '$.continued' })
      .addCatch(jobFailed, { errors: ['States.ALL'], resultPath: '$.error' });
    continueAsNew.next(continued);

    list.next(renderPage).next(tally).next(
      new sfn.Choice(this, 'Go On?')
        .when(sfn.Condition.stringEquals('$.next', 'list'), list)
        .when(sfn.Condition.stringEquals('$.next', 'continue'), continueAsNew)
        .otherwise(complete),
    );
    const plan = taskState(this, 'Plan Rerender', props.functions['plan-rerender']).addCatch(jobFailed, { errors: ['States.ALL'], resultPath: '$.error' }).next(list);

    this.stateMachine = pictorStateMachine(this, plan, { name: props.stateMachineName });
    // Its own ARN from its name, not its Ref: the role is created before the state machine.
    this.stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['states:StartExecution'],
        resources: [Stack.of(this).formatArn({ service: 'states', resource: 'stateMachine', resourceName: props.stateMachineName, arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
      }),
    );
  }
}
