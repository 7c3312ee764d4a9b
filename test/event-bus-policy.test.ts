import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { parseConfig } from '../core/tenant-config.ts';
import { resolveTokens } from '../local/pipeline/template.ts';
import { localNames } from '../local/pipeline/storage.ts';
import type { Twin } from '../local/twin.ts';
import { requester, settle } from './support/pipeline-twin.ts';
import type { Credentials } from '../local/iam/identities.ts';
import { useTwin } from './support/twin-fixture.ts';

const CONFIG = parseConfig({ tenants: { shop: { breakpoints: [160, 320], formats: ['webp'], variants: { widths: [160] } } } });
const TAKEDOWN = JSON.stringify({ schemaVersion: 1, items: [{ tenant: 'shop', imageId: 'never-uploaded', reason: 'dmca', requester: 'legal@example.com' }] });
const REJECTED = JSON.stringify({ schemaVersion: 1, tenant: 'shop', imageId: 'x', code: 'UnprocessableImage', reason: 'test', quarantineKey: '_quarantine/shop/x/1' });

let twin: Twin;

const fixture = useTwin({ config: CONFIG, timeScale: 0.001, invalidationDelayMs: 50, eventBus: { duplicateRate: 0 } });

before(async () => {
  twin = await fixture.started;
});

const takedowns = () => twin.pipeline!.stepFunctions.list(twin.pipeline!.stateMachines.TakedownBatch).length;
const client = (credentials?: Credentials) => new EventBridgeClient({ region: 'us-east-1', endpoint: twin.controlUrl, maxAttempts: 1, ...(credentials ? { credentials } : {}) });

/** The session a task function runs with: its execution role's, as the template gives it. */
function taskSession(task: string): Credentials {
  const { template } = twin.pipeline!;
  const fn = Object.values(template.Resources).find((r) => r.Type === 'AWS::Lambda::Function' && r.Properties?.Environment?.Variables?.PICTOR_TASK === task);
  assert.ok(fn, task);
  return twin.pipeline!.identities.sessionOf(resolveTokens(fn.Properties!.Role, template, localNames(template)));
}

async function put(events: EventBridgeClient, entry: PutEventsRequestEntry) {
  const result = await events.send(new PutEventsCommand({ Entries: [{ EventBusName: twin.pipeline!.eventBusName, Source: 'pictor', ...entry }] }));
  events.destroy();
  return result.Entries![0]!;
}

describe("Pictor's event bus admits each request only from the roles named for it", () => {
  it('refuses a "Takedown Requested" from an administrator of the account, and nothing starts', async () => {
    const before = takedowns();
    const entry = await put(client(), { DetailType: 'Takedown Requested', Detail: TAKEDOWN });
    assert.equal(entry.ErrorCode, 'NotAuthorizedForDetailTypeException');
    await settle(twin);
    assert.equal(takedowns(), before);
  });

  it('starts nothing from the default bus, where any principal with events:PutEvents could send', async () => {
    const before = takedowns();
    const events = client();
    const result = await events.send(new PutEventsCommand({ Entries: [{ Source: 'pictor', DetailType: 'Takedown Requested', Detail: TAKEDOWN }] }));
    events.destroy();
    assert.equal(result.FailedEntryCount, 0, 'the default bus takes it');
    await settle(twin);
    assert.equal(takedowns(), before, 'but no rule there starts a takedown');
  });

  it("refuses a task's attempt to ask for a takedown or a re-render, and admits the events it publishes", async () => {
    for (const detailType of ['Takedown Requested', 'Rerender Requested']) {
      const entry = await put(client(taskSession('quarantine-original')), { DetailType: detailType, Detail: TAKEDOWN });
      assert.ok(entry.ErrorCode, `quarantine-original sent ${detailType}`);
    }
    const own = await put(client(taskSession('quarantine-original')), { DetailType: 'Original Rejected', Detail: REJECTED });
    assert.equal(own.ErrorCode, undefined, JSON.stringify(own));
    const other = await put(client(taskSession('publish-version')), { DetailType: 'Original Rejected', Detail: REJECTED });
    assert.ok(other.ErrorCode, "publish-version sent quarantine-original's event");
  });

  it('refuses the re-render requester a takedown, and another source on the bus', async () => {
    const { events } = await requester(twin, 'rerender');
    assert.equal((await put(events, { DetailType: 'Takedown Requested', Detail: TAKEDOWN })).ErrorCode, 'NotAuthorizedForDetailTypeException');
    const { events: again } = await requester(twin, 'takedown');
    assert.equal((await put(again, { Source: 'someone.else', DetailType: 'Takedown Requested', Detail: TAKEDOWN })).ErrorCode, 'NotAuthorizedForSourceException');
  });

  it('starts TakedownBatch from the takedown requester, assumed through STS', async () => {
    const before = takedowns();
    const { events } = await requester(twin, 'takedown');
    const entry = await put(events, { DetailType: 'Takedown Requested', Detail: TAKEDOWN });
    assert.ok(entry.EventId, JSON.stringify(entry));
    await settle(twin);
    const runs = twin.pipeline!.stepFunctions.list(twin.pipeline!.stateMachines.TakedownBatch);
    assert.equal(runs.length, before + 1);
    assert.equal((runs.at(-1)!.input as { batchId: string }).batchId, entry.EventId);
  });

  it("answers unknown credentials and roles the caller may not assume as AWS does", async () => {
    const stranger = client({ accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'x'.repeat(40) });
    await assert.rejects(stranger.send(new PutEventsCommand({ Entries: [{ Source: 'pictor', DetailType: 'Takedown Requested', Detail: TAKEDOWN }] })), { name: 'UnrecognizedClientException' });
    stranger.destroy();

    const sts = new STSClient({ region: 'us-east-1', endpoint: twin.controlUrl, maxAttempts: 1 });
    assert.match((await sts.send(new GetCallerIdentityCommand({}))).Arn!, /:user\/pictor-local-admin$/);
    // A task's role trusts Lambda alone.
    const { template } = twin.pipeline!;
    const role = Object.entries(template.Resources).find(([id, r]) => r.Type === 'AWS::IAM::Role' && id.includes('QuarantineOriginal'))!;
    const roleArn = resolveTokens({ 'Fn::GetAtt': [role[0], 'Arn'] }, template, localNames(template));
    await assert.rejects(sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'sneaky' })), { name: 'AccessDenied' });
    sts.destroy();
  });
});
