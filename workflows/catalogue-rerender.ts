import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { pictorStateMachine, taskState, waitForReplication } from './task-states.ts';

export interface CatalogueRerenderProps {
  readonly plan: IFunction;
  readonly list: IFunction;
  readonly prepare: IFunction;
  /** The same render and publish tasks RenderOnUpload uses. */
  readonly render: IFunction;
  readonly publish: IFunction;
  readonly tally: IFunction;
  readonly complete: IFunction;
}

/**
 * Originals rendered at once. Each render holds a 3 GB Lambda for about a second;
 * 40 keeps a job from taking the account's concurrency (1,000 by default) away
 * from the edge's misses. https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html
 */
export const RERENDER_CONCURRENCY = 40;

/**
 * CatalogueRerender: lists a tenant's originals (or every tenant's) a page at a
 * time, renders each page's originals as a Distributed Map, each original a child
 * execution with its own history (100k originals would overflow one execution's
 * 25,000 events), tallies every result into an exact summary, and stops early
 * once failures pass the job's threshold. The Map reads its items from the state,
 * not from an ItemReader, so the local twin runs this very definition.
 */
export class CatalogueRerender extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: CatalogueRerenderProps) {
    super(scope, id);
    const image = { 'tenant.$': '$.image.tenant', 'imageId.$': '$.image.imageId' };
    const failed = new sfn.Pass(this, 'Original Failed', { parameters: { status: 'failed', ...image, 'error.$': '$.error.Error', 'cause.$': '$.error.Cause' } });
    const catchInto = <T extends sfn.TaskStateBase>(state: T): T => state.addCatch(failed, { errors: ['States.ALL'], resultPath: '$.error' }) as T;

    const rendered = new sfn.Pass(this, 'Original Rendered', { parameters: { status: 'rendered', ...image, 'version.$': '$.publish.version' } });
    // As in RenderOnUpload: publishing waits for the snapshot to reach every replica, then for the pointer.
    const publish = catchInto(waitForReplication(taskState(this, 'Publish Version', props.publish, { inputPath: '$.upload', resultPath: '$.publish' }), { inARow: 2 })).next(
      new sfn.Choice(this, 'Published?')
        .when(sfn.Condition.booleanEquals('$.publish.published', true), rendered)
        .otherwise(new sfn.Pass(this, 'Publish Superseded', { parameters: { status: 'skipped', ...image, 'reason.$': '$.publish.reason' } })),
    );
    // The upload plus what was rendered for it: publish-version's input.
    const preparePublish = new sfn.Pass(this, 'Prepare Publish', {
      parameters: { 'image.$': '$.image', 'upload.$': 'States.JsonMerge($.upload, $.render, false)' },
    }).next(publish);
    const render = catchInto(taskState(this, 'Render Variants', props.render, { inputPath: '$.upload', resultPath: '$.render' })).next(
      new sfn.Choice(this, 'Rendered?')
        .when(sfn.Condition.stringEquals('$.render.outcome', 'rendered'), preparePublish)
        .otherwise(new sfn.Pass(this, 'Render Superseded', { parameters: { status: 'skipped', ...image, 'reason.$': '$.render.reason' } })),
    );
    const prepare = catchInto(taskState(this, 'Prepare Rerender', props.prepare, { resultPath: '$.upload' })).next(
      new sfn.Choice(this, 'Render It?')
        .when(sfn.Condition.stringEquals('$.upload.action', 'render'), render)
        .otherwise(new sfn.Pass(this, 'Original Skipped', { parameters: { status: 'skipped', ...image, 'reason.$': '$.upload.reason' } })),
    );

    const renderPage = new sfn.DistributedMap(this, 'Render Each Original', {
      itemsPath: '$.page.items',
      itemSelector: { 'job.$': '$.job', 'image.$': '$$.Map.Item.Value' },
      maxConcurrency: RERENDER_CONCURRENCY,
      resultPath: '$.page.results',
    });
    renderPage.itemProcessor(prepare);

    const jobFailed = new sfn.Fail(this, 'Rerender Failed', { errorPath: '$.error.Error', causePath: '$.error.Cause' });
    const complete = taskState(this, 'Complete Rerender', props.complete)
      .addCatch(jobFailed, { errors: ['States.ALL'], resultPath: '$.error' })
      .next(new sfn.Succeed(this, 'Rerendered'));
    const list = taskState(this, 'List Originals', props.list, { resultPath: '$.page' }).addCatch(jobFailed, { errors: ['States.ALL'], resultPath: '$.error' });
    const tally = taskState(this, 'Tally Page', props.tally).addCatch(jobFailed, { errors: ['States.ALL'], resultPath: '$.error' });
    list.next(renderPage).next(tally).next(
      new sfn.Choice(this, 'Go On?')
        .when(sfn.Condition.booleanEquals('$.exceeded', true), complete)
        .when(sfn.Condition.booleanEquals('$.more', true), list)
        .otherwise(complete),
    );
    const plan = taskState(this, 'Plan Rerender', props.plan).addCatch(jobFailed, { errors: ['States.ALL'], resultPath: '$.error' }).next(list);

    this.stateMachine = pictorStateMachine(this, plan);
  }
}
