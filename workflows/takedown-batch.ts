import { Duration } from 'aws-cdk-lib';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ERRORS } from '../core/errors.ts';
import { TAKEDOWNS_PREFIX } from '../tasks/shared/takedown-state.ts';
import { pictorStateMachine, taskState, useResultWriterV2, waitForReplication, type TaskFunctions } from './task-states.ts';

export interface TakedownBatchProps {
  /**
   * The longest that something which read the image before its tombstone may
   * still write afterwards: a publish or an edge render in flight, each bounded by
   * its function's timeout. The sweep waits this long after the erase, and the
   * invalidation follows the sweep, so nothing written late outlives either.
   */
  readonly lateWriteWindow: Duration;
  /** The tasks it invokes. */
  readonly functions: TaskFunctions<
    'accept-takedown' | 'inventory-image' | 'erase-objects' | 'invalidate-image' | 'check-invalidation' | 'verify-gone' | 'record-takedown' | 'complete-takedown'
  >;
  /** Where the accepted items are read from and each image's result is written (Pipeline.reports). */
  readonly reports: IBucket;
}

/**
 * Images taken down at once. Each holds its invalidation's paths until CloudFront
 * completes it: exact paths share 3,000 in progress, and the default variant set
 * (3 widths × 3 formats, each versioned and not, plus 2 bare URLs) comes to 20
 * an image, so 150 fit, ten times the 15 that wildcards alone allow. An image
 * that needs wildcards takes 2 of those 15; either waits for room
 * (TooManyInvalidationsInProgress) when its quota is taken.
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-limits.html#limits-invalidations
 */
export const TAKEDOWN_CONCURRENCY = 150;

/** Between two GetInvalidation calls: most invalidations complete within a minute or two. */
export const INVALIDATION_POLL = Duration.seconds(15);

/** Where each map run's per-image results go in the reports bucket: `<prefix>/<map run id>/`. */
export const TAKEDOWN_RESULTS_PREFIX = `${TAKEDOWNS_PREFIX}map-runs`;

/**
 * How long an image waits for its invalidation before it fails as
 * InvalidationTimedOut. AWS documents no completion time; its own CLI waiter gives
 * up after 10 minutes (30 checks, 20 s apart), and this allows three times that.
 * https://docs.aws.amazon.com/cli/latest/reference/cloudfront/wait/invalidation-completed.html
 */
export const DEFAULT_INVALIDATION_DEADLINE = Duration.minutes(30);

/**
 * The longest deadline allowed: each poll adds nine events to the image's history
 * (the Wait's 2, the Task's 5, the Choice's 2), which holds 25,000; six hours of
 * 15 s polls is 12,960, and every retry of every other step about 900 more.
 * https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html#service-limits-state-machine-executions
 */
export const MAX_INVALIDATION_DEADLINE = Duration.hours(6);

/**
 * TakedownBatch: a "Takedown Requested" in, its items kept in the reports bucket; for each image, tombstoned, every
 * object version erased in every region, anything written late swept away once no
 * writer can still be running, its one wildcard invalidated and waited for (until a
 * deadline, which tasks/check-invalidation enforces), its URLs checked to be 404s at
 * the edge, and an append-only audit record written; then a report of every image
 * and "Takedown Completed" pointing at it. Images run as a Distributed Map, so each
 * has its own history (a 1,000-image batch would overflow one execution's 25,000
 * events) and its own 256 KiB per state.
 */
export class TakedownBatch extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: TakedownBatchProps) {
    super(scope, id);
    useResultWriterV2(this);
    const imageFailed = new sfn.Pass(this, 'Image Failed', {
      parameters: { status: 'failed', 'tenant.$': '$.item.tenant', 'imageId.$': '$.item.imageId', 'error.$': '$.error.Error', 'cause.$': '$.error.Cause' },
    });
    const catchInto = <T extends sfn.TaskStateBase>(state: T): T => state.addCatch(imageFailed, { errors: ['States.ALL'], resultPath: '$.error' }) as T;

    const imageDone = new sfn.Pass(this, 'Image Taken Down', {
      parameters: {
        status: 'done',
        'tenant.$': '$.item.tenant',
        'imageId.$': '$.item.imageId',
        'auditKey.$': '$.audit.auditKey',
        'invalidationId.$': '$.audit.invalidationId',
        'verified.$': '$.audit.verified',
        'failure.$': '$.audit.failure',
      },
    });
    const record = catchInto(taskState(this, 'Record Takedown', props.functions['record-takedown'], { resultPath: '$.audit' })).next(imageDone);
    // Once objects may be gone, every failure still ends in an audit record that says how far it got.
    const recordFailure = <T extends sfn.TaskStateBase>(state: T): T => state.addCatch(record, { errors: ['States.ALL'], resultPath: '$.failure' }) as T;
    const verify = recordFailure(
      taskState(this, 'Verify Gone', props.functions['verify-gone'], { resultPath: '$.verification' })
        // Edge caches can lag a Completed invalidation by a little.
        .addRetry({ errors: [ERRORS.TakedownUnverified], interval: Duration.seconds(10), backoffRate: 2, maxAttempts: 3, jitterStrategy: sfn.JitterType.FULL }),
    ).next(record);

    const invalidationDone = new sfn.Choice(this, 'Invalidation Completed?');
    const check = recordFailure(taskState(this, 'Check Invalidation', props.functions['check-invalidation'], { resultPath: '$.invalidation' })).next(invalidationDone);
    const wait = new sfn.Wait(this, 'Wait For Invalidation', { time: sfn.WaitTime.duration(INVALIDATION_POLL) }).next(check);
    invalidationDone.when(sfn.Condition.stringEquals('$.invalidation.status', 'Completed'), verify).otherwise(wait);

    const invalidate = recordFailure(
      taskState(this, 'Invalidate Image', props.functions['invalidate-image'], { resultPath: '$.invalidation' }).addRetry({
        // The quota is full, with this batch's images or another's: wait for some to complete. Up to
        // 90 attempts at the 60 s cap wait about 45 minutes on average, room for about 45 waves of
        // minute-long invalidations ahead of this image, and still far inside the history's 25,000 events.
        errors: [ERRORS.TooManyInvalidationsInProgress],
        interval: Duration.seconds(5),
        backoffRate: 2,
        maxDelay: Duration.seconds(60),
        maxAttempts: 90,
        jitterStrategy: sfn.JitterType.FULL,
      }),
    ).next(invalidationDone);
    // A publish or an edge render that read the image before the tombstone may still store something: each
    // withdraws what it stored once it sees the image gone, and the sweep, once none can still be running,
    // takes what was not withdrawn. Only then is the cache invalidated, so that nothing cached from a late
    // write survives it.
    const sweep = recordFailure(waitForReplication(taskState(this, 'Sweep Late Writes', props.functions['erase-objects'], { resultPath: '$.sweep' }))).next(invalidate);
    const outlast = new sfn.Wait(this, 'Outlast Late Writes', { time: sfn.WaitTime.duration(props.lateWriteWindow) }).next(sweep);
    const erase = recordFailure(waitForReplication(taskState(this, 'Erase Objects', props.functions['erase-objects'], { resultPath: '$.erase' }))).next(outlast);
    const inventory = catchInto(taskState(this, 'Inventory Image', props.functions['inventory-image'], { resultPath: '$.inventory' })).next(erase);

    // The accepted items come from the reports bucket and each image's result goes back there: a
    // 1,000-image batch at 128-character ids would pass a state's 256 KiB either way. Every image's
    // failure is caught and reported, so the map tolerates any: the summary decides.
    // https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itemreader.html
    // https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html
    const eachImage = new sfn.DistributedMap(this, 'Take Down Each Image', {
      itemReader: new sfn.S3JsonItemReader({ bucket: props.reports, key: sfn.JsonPath.stringAt('$.request.key') }),
      itemSelector: { 'batchId.$': '$.batchId', 'requestedAt.$': '$.requestedAt', 'item.$': '$$.Map.Item.Value' },
      maxConcurrency: TAKEDOWN_CONCURRENCY,
      toleratedFailurePercentage: 100,
      resultWriterV2: new sfn.ResultWriterV2({ bucket: props.reports, prefix: TAKEDOWN_RESULTS_PREFIX }),
      resultPath: '$.results',
    });
    eachImage.itemProcessor(inventory);

    const failed = new sfn.Fail(this, 'Takedown Failed', { errorPath: '$.error.Error', causePath: '$.error.Cause' });
    // A map run that fails outright (its reader or writer) ends the batch there too, with its error.
    eachImage.addCatch(failed, { errors: ['States.ALL'], resultPath: '$.error' });
    const complete = taskState(this, 'Complete Takedown', props.functions['complete-takedown'])
      .addCatch(failed, { errors: ['States.ALL'], resultPath: '$.error' })
      .next(new sfn.Succeed(this, 'Taken Down'));
    const accept = taskState(this, 'Accept Takedown', props.functions['accept-takedown'])
      .addCatch(failed, { errors: ['States.ALL'], resultPath: '$.error' })
      .next(eachImage.next(complete));

    this.stateMachine = pictorStateMachine(this, accept);
  }
}
