import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { App, Stack } from 'aws-cdk-lib';
import { parseConfig } from '../core/tenant-config.ts';
import { PICTOR_EVENTS } from '../events/schemas/pictor-events.ts';
import { synthesizePipeline, type CfnResource } from '../local/pipeline/template.ts';
import { PictorEventBus } from './event-bus.ts';
import { ImageDelivery } from './image-delivery.ts';

const TENANTS = parseConfig({ tenants: { shop: {} } });
const template = synthesizePipeline(TENANTS);
const resources = Object.entries(template.Resources);
const busId = resources.find(([, r]) => r.Type === 'AWS::Events::EventBus')![0];
const bus = template.Resources[busId]!;
const statements = (bus.Properties!.Policy as { Statement: any[] }).Statement;

/** Every PutEvents statement of the roles' identity policies, with the role's logical id. */
const putEventsGrants = resources
  .filter(([, r]) => r.Type === 'AWS::IAM::Policy')
  .flatMap(([, r]) => (r.Properties!.PolicyDocument.Statement as any[]).filter((s) => [s.Action].flat().some((a: string) => a.startsWith('events:'))).map((s) => ({ roles: r.Properties!.Roles, s })));

describe("the pipeline's event bus", () => {
  it('carries the rules that start takedowns and re-renders; uploads stay on the default bus, where S3 sends', () => {
    const rules = resources.filter(([, r]) => r.Type === 'AWS::Events::Rule').map(([, r]) => r as CfnResource);
    const on = (detailType: string) => rules.find((r) => JSON.stringify(r.Properties!.EventPattern).includes(detailType))!;
    for (const detailType of ['Takedown Requested', 'Rerender Requested']) assert.deepEqual(on(detailType).Properties!.EventBusName, { Ref: busId }, detailType);
    assert.equal(on('Object Created').Properties!.EventBusName, undefined);
  });

  it('denies every principal each detail-type it does not name, and any other source or detail-type', () => {
    const denies = statements.filter((s) => s.Effect === 'Deny');
    assert.ok(denies.every((s) => s.Principal === '*' && s.Action === 'events:PutEvents'));
    assert.ok(denies.some((s) => s.Condition.StringNotEquals?.['events:source'] === 'pictor'));
    assert.deepEqual(denies.find((s) => s.Condition.StringNotEquals?.['events:detail-type'])!.Condition.StringNotEquals['events:detail-type'], Object.keys(PICTOR_EVENTS));
    for (const detailType of Object.keys(PICTOR_EVENTS)) {
      const deny = denies.find((s) => s.Condition.StringEquals?.['events:detail-type'] === detailType);
      assert.ok(deny?.Condition.ArnNotEquals?.['aws:PrincipalArn']?.length >= 1, `${detailType} is denied to all but its senders`);
    }
    // The requester role, and the control API's, which sends the request of the caller it authenticated.
    const role = (prefix: string) => ({ 'Fn::GetAtt': [resources.find(([id]) => id.startsWith(prefix) && template.Resources[id]!.Type === 'AWS::IAM::Role')![0], 'Arn'] });
    const takedown = denies.find((s) => s.Condition.StringEquals?.['events:detail-type'] === 'Takedown Requested');
    assert.deepEqual(takedown.Condition.ArnNotEquals['aws:PrincipalArn'], [role('PipelineTakedownRequester'), role('ControlApiRole')]);
  });

  it("limits each task's PutEvents to Pictor's source and the detail-types it publishes, on Pictor's bus alone", () => {
    const ofTasks = putEventsGrants.filter(({ roles }) => !JSON.stringify(roles).includes('ControlApiRole'));
    assert.ok(ofTasks.length >= 5);
    for (const { s } of ofTasks) {
      assert.deepEqual(s.Resource, { 'Fn::GetAtt': [busId, 'Arn'] });
      assert.equal(s.Condition.StringEquals['events:source'], 'pictor');
      const types = [s.Condition.StringEquals['events:detail-type']].flat();
      assert.ok(!types.includes('Takedown Requested') && !types.includes('Rerender Requested'), JSON.stringify(types));
    }
  });

  it('names the requester roles it is given instead of creating its own', () => {
    const legal = 'arn:aws:iam::123456789012:role/legal';
    const own = synthesizePipeline(TENANTS, undefined, { takedownRequesters: [legal] });
    assert.ok(!Object.keys(own.Resources).some((id) => id.startsWith('PipelineTakedownRequester')));
    const policy = Object.values(own.Resources).find((r) => r.Type === 'AWS::Events::EventBus')!.Properties!.Policy.Statement as any[];
    assert.ok(policy.some((s) => s.Effect === 'Allow' && s.Principal.AWS.includes(legal) && s.Condition.StringEquals['events:detail-type'] === 'Takedown Requested'));
  });

  it('admits senders that may not exist yet only as exceptions to its Denies, never as an Allow\'s principal', () => {
    const app = new App({ builtinCloudFormationValidation: false });
    const stack = new Stack(app, 'Bus', { env: { account: '123456789012', region: 'us-east-1' } });
    const events = new PictorEventBus(stack, 'Events', { eventBusName: 'pictor-test' });
    const later = 'arn:aws:iam::123456789012:role/Pictor-api-eu-west-1';
    events.admitSenders([later], 'Takedown Requested', 'Rerender Requested');
    const resources = Object.values(app.synth().getStackByName('Bus').template.Resources) as any[];
    const policy = resources.find((r) => r.Type === 'AWS::Events::EventBus')!.Properties.Policy.Statement as any[];
    assert.deepEqual(policy.filter((s) => s.Effect === 'Allow'), []);
    const exceptedFor = policy.filter((s) => [s.Condition.ArnNotEquals?.['aws:PrincipalArn'] ?? []].flat().includes(later)).map((s) => s.Condition.StringEquals['events:detail-type']);
    assert.deepEqual(exceptedFor.sort(), ['Rerender Requested', 'Takedown Requested']);
  });

  it('refuses requesters that are not role ARNs, or none at all', () => {
    const make = (takedownRequesters: string[]) => () => new ImageDelivery(new App(), 'Pictor', { tenants: TENANTS, takedownRequesters });
    assert.throws(make(['arn:aws:iam::123456789012:user/alice']), /takedownRequesters: "arn:aws:iam::123456789012:user\/alice" is not an IAM role ARN/);
    assert.throws(make([]), /takedownRequesters: leave it out for the default role/);
  });
});
