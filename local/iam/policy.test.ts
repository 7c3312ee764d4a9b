import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { authorize, type PolicyStatement, type Principal } from './policy.ts';

const ACCOUNT = '111122223333';
const BUS = `arn:aws:events:us-east-1:${ACCOUNT}:event-bus/pictor`;
const legal: Principal = { arn: `arn:aws:iam::${ACCOUNT}:role/legal`, account: ACCOUNT };
const task: Principal = { arn: `arn:aws:iam::${ACCOUNT}:role/quarantine`, account: ACCOUNT };
const admin: Principal = { arn: `arn:aws:iam::${ACCOUNT}:user/admin`, account: ACCOUNT };
const adminPolicy: PolicyStatement[] = [{ Effect: 'Allow', Action: '*', Resource: '*' }];

/** The shape of the pipeline bus's policy: only legal may send a takedown; only pictor events at all. */
const busPolicy: PolicyStatement[] = [
  { Effect: 'Deny', Principal: '*', Action: 'events:PutEvents', Resource: BUS, Condition: { StringNotEquals: { 'events:source': 'pictor' } } },
  {
    Effect: 'Deny',
    Principal: { AWS: '*' },
    Action: 'events:PutEvents',
    Resource: BUS,
    Condition: { StringEquals: { 'events:detail-type': 'Takedown Requested' }, ArnNotEquals: { 'aws:PrincipalArn': [legal.arn] } },
  },
  { Effect: 'Allow', Principal: { AWS: legal.arn }, Action: 'events:PutEvents', Resource: BUS, Condition: { StringEquals: { 'events:detail-type': 'Takedown Requested' } } },
];
const put = (principal: Principal, source: string, detailType: string) => ({
  principal,
  action: 'events:PutEvents',
  resource: BUS,
  context: { 'events:source': source, 'events:detail-type': detailType },
});

describe('IAM policy evaluation', () => {
  it('an explicit Deny in the resource policy beats an administrator\'s Allow', () => {
    const decision = authorize(put(admin, 'pictor', 'Takedown Requested'), { identity: adminPolicy, resource: busPolicy });
    assert.equal(decision.effect, 'Deny');
    assert.ok(decision.effect === 'Deny' && decision.explicit);
  });

  it('a role the resource policy names is allowed without an identity policy', () => {
    assert.equal(authorize(put(legal, 'pictor', 'Takedown Requested'), { identity: [], resource: busPolicy }).effect, 'Allow');
  });

  it('a principal with no Allow anywhere is implicitly denied', () => {
    const decision = authorize(put(task, 'pictor', 'Original Rejected'), { identity: [], resource: busPolicy });
    assert.deepEqual(decision, { effect: 'Deny', explicit: false });
  });

  it('an identity policy conditioned on detail-type allows only those detail-types', () => {
    const identity: PolicyStatement[] = [
      { Effect: 'Allow', Action: 'events:PutEvents', Resource: BUS, Condition: { StringEquals: { 'events:source': 'pictor', 'events:detail-type': ['Original Rejected'] } } },
    ];
    assert.equal(authorize(put(task, 'pictor', 'Original Rejected'), { identity, resource: busPolicy }).effect, 'Allow');
    assert.equal(authorize(put(task, 'pictor', 'Rerender Requested'), { identity, resource: busPolicy }).effect, 'Deny');
    assert.equal(authorize(put(task, 'pictor', 'Takedown Requested'), { identity, resource: busPolicy }).effect, 'Deny');
    assert.equal(authorize(put(task, 'other', 'Original Rejected'), { identity, resource: busPolicy }).effect, 'Deny');
  });

  it('an account root in an Allow only delegates to IAM; in a Deny it covers the account', () => {
    const root = `arn:aws:iam::${ACCOUNT}:root`;
    const allowRoot: PolicyStatement[] = [{ Effect: 'Allow', Principal: { AWS: root }, Action: 'events:PutEvents', Resource: BUS }];
    assert.equal(authorize(put(task, 'pictor', 'x'), { identity: [], resource: allowRoot }).effect, 'Deny');
    const denyRoot: PolicyStatement[] = [{ Effect: 'Deny', Principal: { AWS: ACCOUNT }, Action: 'events:*', Resource: BUS }];
    assert.equal(authorize(put(admin, 'pictor', 'x'), { identity: adminPolicy, resource: denyRoot }).effect, 'Deny');
  });

  it('matches actions case-insensitively and resources with wildcards', () => {
    const identity: PolicyStatement[] = [{ Effect: 'Allow', Action: 'Events:Put*', Resource: `arn:aws:events:*:${ACCOUNT}:event-bus/pic?or` }];
    assert.equal(authorize(put(task, 'pictor', 'x'), { identity }).effect, 'Allow');
    assert.equal(authorize({ ...put(task, 'pictor', 'x'), resource: `${BUS}2` }, { identity }).effect, 'Deny');
    assert.equal(authorize({ ...put(task, 'pictor', 'x'), action: 'events:DeleteRule' }, { identity }).effect, 'Deny');
  });

  it('NotAction, NotResource, IfExists, Null and ForAllValues follow the documented semantics', () => {
    const notAction: PolicyStatement[] = [{ Effect: 'Allow', NotAction: 'iam:*', NotResource: `${BUS}-private` }];
    assert.equal(authorize(put(task, 'pictor', 'x'), { identity: notAction }).effect, 'Allow');
    assert.equal(authorize({ ...put(task, 'pictor', 'x'), action: 'iam:CreateRole' }, { identity: notAction }).effect, 'Deny');
    const ifExists: PolicyStatement[] = [{ Effect: 'Allow', Action: '*', Resource: '*', Condition: { StringEqualsIfExists: { 'aws:SourceVpc': 'vpc-1' } } }];
    assert.equal(authorize(put(task, 'pictor', 'x'), { identity: ifExists }).effect, 'Allow');
    const needsVpc: PolicyStatement[] = [{ Effect: 'Allow', Action: '*', Resource: '*', Condition: { StringEquals: { 'aws:SourceVpc': 'vpc-1' } } }];
    assert.equal(authorize(put(task, 'pictor', 'x'), { identity: needsVpc }).effect, 'Deny', 'an absent key fails a plain operator');
    const isNull: PolicyStatement[] = [{ Effect: 'Allow', Action: '*', Resource: '*', Condition: { Null: { 'aws:SourceVpc': 'true' } } }];
    assert.equal(authorize(put(task, 'pictor', 'x'), { identity: isNull }).effect, 'Allow');
    const forAll: PolicyStatement[] = [{ Effect: 'Allow', Action: '*', Resource: '*', Condition: { 'ForAllValues:StringEquals': { 'events:source': ['pictor'] } } }];
    assert.equal(authorize({ ...put(task, 'pictor', 'x'), context: { 'events:source': ['pictor', 'other'] } }, { identity: forAll }).effect, 'Deny');
    assert.equal(authorize({ ...put(task, 'pictor', 'x'), context: { 'events:source': ['pictor'] } }, { identity: forAll }).effect, 'Allow');
  });

  it('refuses to guess at an operator it does not evaluate', () => {
    const odd: PolicyStatement[] = [{ Effect: 'Allow', Action: '*', Resource: '*', Condition: { DateGreaterThan: { 'aws:CurrentTime': '2020-01-01T00:00:00Z' } } }];
    assert.throws(() => authorize({ ...put(task, 'pictor', 'x'), context: { 'aws:CurrentTime': '2026-01-01T00:00:00Z' } }, { identity: odd }), /DateGreaterThan/);
  });
});
