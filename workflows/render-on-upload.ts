import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { REJECTION_ERRORS } from '../core/error-codes.ts';
import { pictorStateMachine, taskState } from './task-states.ts';

export interface RenderOnUploadProps {
  /** tasks/probe-original */
  readonly probe: IFunction;
  /** tasks/render-variants */
  readonly render: IFunction;
  /** tasks/publish-version */
  readonly publish: IFunction;
  /** tasks/quarantine-original */
  readonly quarantine: IFunction;
}

/**
 * RenderOnUpload: an S3 "Object Created" event in; the tenant's standard variants
 * rendered from one decode and published as the next version, or the upload
 * quarantined with its reason, or nothing (a duplicate, older or system event).
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

    const failed = new sfn.Fail(this, 'Render Failed', { errorPath: '$.error.Error', causePath: '$.error.Cause' });
    const quarantine = taskState(this, 'Quarantine Original', props.quarantine).next(new sfn.Succeed(this, 'Rejected'));
    const describeRejection = new sfn.Pass(this, 'Describe Rejection', {
      parameters: { ...upload, 'code.$': '$.error.Error', 'reason.$': '$.error.Cause' },
    }).next(quarantine);

    const publish = taskState(this, 'Publish Version', props.publish, { resultPath: '$.publish' })
      .addCatch(failed, { errors: ['States.ALL'], resultPath: '$.error' })
      .next(new sfn.Succeed(this, 'Published'));
    const preparePublish = new sfn.Pass(this, 'Prepare Publish', {
      parameters: { ...upload, 'version.$': '$.render.version', 'variants.$': '$.render.variants', 'schema.$': '$.render.schema' },
    }).next(publish);

    const render = taskState(this, 'Render Variants', props.render, { resultPath: '$.render' })
      .addCatch(describeRejection, { errors: [...REJECTION_ERRORS], resultPath: '$.error' })
      .addCatch(failed, { errors: ['States.ALL'], resultPath: '$.error' })
      .next(
        new sfn.Choice(this, 'Rendered?')
          .when(sfn.Condition.stringEquals('$.render.outcome', 'rendered'), preparePublish)
          .otherwise(new sfn.Succeed(this, 'Superseded')),
      );

    const probe = taskState(this, 'Probe Original', props.probe)
      .addCatch(failed, { errors: ['States.ALL'], resultPath: '$.error' })
      .next(
        new sfn.Choice(this, 'What Does The Upload Need?')
          .when(sfn.Condition.stringEquals('$.action', 'render'), render)
          // The probe's answer already carries the upload, code and reason.
          .when(sfn.Condition.stringEquals('$.action', 'reject'), quarantine)
          .otherwise(new sfn.Succeed(this, 'Skipped')),
      );

    this.stateMachine = pictorStateMachine(this, probe);
  }
}
