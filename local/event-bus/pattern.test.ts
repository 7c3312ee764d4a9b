import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { matchesPattern } from './pattern.ts';

// The examples of "Content filtering in Amazon EventBridge event patterns" and
// "Creating event patterns": https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
const EC2_EVENT = {
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '111122223333',
  time: '2017-12-22T18:43:48Z',
  region: 'us-west-1',
  resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'],
  detail: {
    'instance-id': 'i-1234567890abcdef0',
    state: 'terminated',
    'c-count': 5,
    'd-count': 3,
    'x-limit': 301.8,
    'source-ip': '10.0.0.123',
    location: 'Europe/Paris',
    filename: 'photo.png',
  },
};

const cases: [string, object, boolean][] = [
  ['exact values', { source: ['aws.ec2'], 'detail-type': ['EC2 Instance State-change Notification'] }, true],
  ['one of several values', { detail: { state: ['pending', 'terminated'] } }, true],
  ['no value matches', { detail: { state: ['pending', 'running'] } }, false],
  ['an array in the event matches any element', { resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'] }, true],
  ['prefix', { time: [{ prefix: '2017-12-22' }] }, true],
  ['prefix misses', { time: [{ prefix: '2018' }] }, false],
  ['prefix ignoring case', { detail: { location: [{ prefix: { 'equals-ignore-case': 'EUROPE/' } }] } }, true],
  ['suffix', { detail: { filename: [{ suffix: '.png' }] } }, true],
  ['suffix ignoring case', { detail: { filename: [{ suffix: { 'equals-ignore-case': '.PNG' } }] } }, true],
  ['equals-ignore-case', { 'detail-type': [{ 'equals-ignore-case': 'ec2 instance state-change notification' }] }, true],
  ['anything-but a value', { detail: { state: [{ 'anything-but': 'initializing' }] } }, true],
  ['anything-but excludes', { detail: { state: [{ 'anything-but': 'terminated' }] } }, false],
  ['anything-but a list', { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } }, true],
  ['anything-but numbers', { detail: { 'c-count': [{ 'anything-but': [100, 200, 300] }] } }, true],
  ['anything-but a prefix', { detail: { state: [{ 'anything-but': { prefix: 'init' } }] } }, true],
  ['anything-but a matching prefix', { detail: { state: [{ 'anything-but': { prefix: 'term' } }] } }, false],
  ['anything-but a suffix', { detail: { filename: [{ 'anything-but': { suffix: '.txt' } }] } }, true],
  ['anything-but a wildcard', { detail: { filename: [{ 'anything-but': { wildcard: '*.png' } }] } }, false],
  ['anything-but on a missing field', { detail: { missing: [{ 'anything-but': 'x' }] } }, false],
  ['numeric ranges', { detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }], 'd-count': [{ numeric: ['<', 10] }], 'x-limit': [{ numeric: ['=', 3.018e2] }] } }, true],
  ['numeric out of range', { detail: { 'c-count': [{ numeric: ['>', 5] }] } }, false],
  ['numeric on a string', { detail: { state: [{ numeric: ['>', 0] }] } }, false],
  ['cidr', { detail: { 'source-ip': [{ cidr: '10.0.0.0/24' }] } }, true],
  ['cidr outside', { detail: { 'source-ip': [{ cidr: '10.0.1.0/24' }] } }, false],
  ['exists', { detail: { 'c-count': [{ exists: true }] } }, true],
  ['exists on a missing field', { detail: { 'no-such': [{ exists: true }] } }, false],
  ['does not exist', { detail: { 'no-such': [{ exists: false }] } }, true],
  ['does not exist, but does', { detail: { state: [{ exists: false }] } }, false],
  ['wildcard', { resources: [{ wildcard: 'arn:aws:ec2:us-west-1:*:instance/*' }] }, true],
  ['wildcard misses', { resources: [{ wildcard: 'arn:aws:ec2:us-east-1:*' }] }, false],
  ['$or: one branch matches', { detail: { $or: [{ 'c-count': [{ numeric: ['>', 10] }] }, { 'd-count': [{ numeric: ['<', 10] }] }] } }, true],
  ['$or: no branch matches', { detail: { $or: [{ 'c-count': [{ numeric: ['>', 10] }] }, { state: ['running'] }] } }, false],
  ['$or at the top level', { $or: [{ source: ['aws.s3'] }, { 'detail-type': ['EC2 Instance State-change Notification'] }] }, true],
  ['a nested object pattern on a scalar', { detail: { state: { sub: ['x'] } } }, false],
  ['an S3 upload rule: anything-but a system prefix', { source: ['aws.ec2'], detail: { filename: [{ 'anything-but': { prefix: '_' } }] } }, true],
];

describe('EventBridge pattern matching', () => {
  for (const [name, pattern, expected] of cases) {
    it(name, () => assert.equal(matchesPattern(pattern as never, EC2_EVENT), expected));
  }

  it('refuses malformed patterns loudly', () => {
    assert.throws(() => matchesPattern({ source: 'aws.ec2' } as never, EC2_EVENT), /values must be arrays/);
    assert.throws(() => matchesPattern({ source: [{ regex: '.*' }] } as never, EC2_EVENT), /Unsupported event pattern operator/);
  });
});
