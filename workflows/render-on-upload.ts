import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { REJECTION_ERRORS } from '../core/error-codes.ts';
import { pictorStateMachine, taskState, waitForReplication, type TaskFunctions } from './task-states.ts';

export interface RenderOnUploadProps {
  /** The tasks it invokes. */
  readonly functions: TaskFunctions<'probe-original' | 'render-variants' | 'publish-version' | 'quarantine-original' | 'discard-upload'>;
}

/**
 * What an execution says it did, in its output: `outcome` is one of these, with
 * `version` when published, `code` and `reason` when rejected, `reason` otherwise.
 * A run that could not finish ends FAILED instead, with the error and its cause.
 */
export const UPLOAD_OUTCOMES = ['published', 'rejected', 'discarded', 'skipped'] as const;
export type UploadOutcome = (typeof UPLOAD_OUTCOMES)[number];

/**
 * RenderOnUpload: an S3 "Object Created" event in; the tenant's standard variants
 * rendered from one decode and published as the next version, or the upload
 * quarantined with its reason, or erased (its id was taken down), or nothing (a
 * duplicate, older or system event).
 */
export class RenderOnUpload extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: RenderOnUploadProps) {
    super(scope, id);
    const upload = {
      'tenant.$': '$.tenant',
      'imageId.$': '$.imageId',
      'sequencer.$': '$.sequencer',
      'etag.$': '$.etag',
      'idempotencyKey.$': '$.idempotencyKey',
    };
    const image = { 'tenant.$': '$.tenant', 'imageId.$': '$.imageId' };
    const outcome = (name: string, fields: Record<string, string>) => new sfn.Pass(this, name, { parameters: { ...fields } });

    const failed = new sfn.Fail(this, 'Render Failed', { errorPath: '$.error.Error', causePath: '$.error.Cause' });
    const quarantine = taskState(this, 'Quarantine Original', props.functions['quarantine-original'], { resultPath: '$.quarantine' })
      .addCatch(failed, { errors: ['States.ALL'], resultPath: '$.error' })
      .next(outcome('Rejected', { outcome: 'rejected', ...image, 'code.$': '$.quarantine.code', 'reason.$': '$.quarantine.reason', 'quarantineKey.$': '$.quarantine.quarantineKey' }));
    const describeRejection = new sfn.Pass(this, 'Describe Rejection', {
      parameters: { 'code.$': '$.error.Error', 'reason.$': '$.error.Cause' },
      resultPath: '$.rejection',
    }).next(quarantine);

    // Publishing waits for the snapshot to reach every replica, then for the pointer.
    const publish = waitForReplication(taskState(this, 'Publish Version', props.functions['publish-version'], { resultPath: '$.publish' }), { inARow: 2 })
      .addCatch(failed, { errors: ['States.ALL'], resultPath: '$.error' })
      .next(
        new sfn.Choice(this, 'Published?')
          .when(sfn.Condition.booleanEquals('$.publish.published', true), outcome('Published', { outcome: 'published', ...image, 'version.$': '$.publish.version', 'previousVersion.$': '$.publish.previousVersion' }))
          .otherwise(outcome('Publish Superseded', { outcome: 'skipped', ...image, 'reason.$': '$.publish.reason' })),
      );
    const preparePublish = new sfn.Pass(this, 'Prepare Publish', {
      parameters: { ...upload, 'version.$': '$.render.version', 'variants.$': '$.render.variants', 'schema.$': '$.render.schema' },
    }).next(publish);

    const render = taskState(this, 'Render Variants', props.functions['render-variants'], { resultPath: '$.render' })
      .addCatch(describeRejection, { errors: [...REJECTION_ERRORS], resultPath: '$.error' })
      .addCatch(failed, { errors: ['States.ALL'], resultPath: '$.error' })
      .next(
        new sfn.Choice(this, 'Rendered?')
          .when(sfn.Condition.stringEquals('$.render.outcome', 'rendered'), preparePublish)
          .otherwise(outcome('Superseded', { outcome: 'skipped', ...image, 'reason.$': '$.render.reason' })),
      );

    const discard = waitForReplication(taskState(this, 'Discard Upload', props.functions['discard-upload'], { resultPath: '$.discard' }))
      .addCatch(failed, { errors: ['States.ALL'], resultPath: '$.error' })
      .next(outcome('Discarded', { outcome: 'discarded', ...image, 'reason.$': '$.discard.reason' }));

    const probe = taskState(this, 'Probe Original', props.functions['probe-original'])
      .addCatch(failed, { errors: ['States.ALL'], resultPath: '$.error' })
      .next(
        new sfn.Choice(this, 'What Does The Upload Need?')
          .when(sfn.Condition.stringEquals('$.action', 'render'), render)
          // The probe's answer already carries the upload and the rejection.
          .when(sfn.Condition.stringEquals('$.action', 'reject'), quarantine)
          .when(sfn.Condition.stringEquals('$.action', 'discard'), discard)
          .otherwise(outcome('Skipped', { outcome: 'skipped', 'reason.$': '$.reason' })),
      );

    this.stateMachine = pictorStateMachine(this, probe);
  }
}
