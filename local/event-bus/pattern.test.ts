import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidEventPatternError, matchesPattern, validatePattern } from './pattern.ts';

// Sources named in each case:
// [ops]    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
// [arrays] https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-arrays.html
// [null]   https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-null-values.html
// [ruler-readme], [RulerTest], [CIDRTest], [arrayRule1]: github.com/aws/event-ruler README.md and src/test/...
// [localstack#9711]: AWS's answer for anything-but on a null field, reported against AWS itself.
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
    'source-ip6': '2001:db8::ff00:42:8329',
    location: 'Europe/Paris',
    filename: 'photo.png',
    service: 'EventBridge',
    'file-path': '/usr/lib/node.jar',
    enabled: true,
    'event-version': '',
    'response-elements': null,
    nested: { c1: 100 },
    tags: ['blue', 'green'],
    empty: [],
  },
};

type Case = [name: string, pattern: object, event: unknown, expected: boolean];
const ec2 = (name: string, pattern: object, expected: boolean): Case => [name, pattern, EC2_EVENT, expected];

const cases: Case[] = [
  // Equality, AND, OR of values [ops]
  ec2('[ops] exact values, AND across fields', { source: ['aws.ec2'], 'detail-type': ['EC2 Instance State-change Notification'] }, true),
  ec2('[ops] one of several values', { detail: { state: ['pending', 'terminated'] } }, true),
  ec2('[ops] no value matches', { detail: { state: ['pending', 'running'] } }, false),
  ec2('[ops] a field the event lacks does not match', { detail: { missing: ['x'] } }, false),
  ec2('[ops] matching is case-sensitive', { source: ['AWS.EC2'] }, false),
  // Arrays [arrays]
  ec2('[arrays] an event array matches when the intersection is non-empty', { resources: ['arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f', 'arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'] }, true),
  ['[arrays] the doc example: the first pattern item equals the second event item', { resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f', 'arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f'] }, { resources: ['arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-b893-d5978ed4a025:autoScalingGroupName/ASGTerminate', 'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f'] }, true],
  ec2('[arrays] operators apply to each element', { detail: { tags: [{ prefix: 'gr' }] } }, true),
  ec2('[ruler-readme] an empty event array holds no value', { detail: { empty: [{ exists: true }] } }, false),
  ec2('[ruler-readme] an empty event array: exists false', { detail: { empty: [{ exists: false }] } }, true),
  // Prefix, suffix, ignore case [ops]
  ec2('[ops] prefix', { time: [{ prefix: '2017-12-22' }] }, true),
  ec2('[ops] prefix misses', { time: [{ prefix: '2018' }] }, false),
  ec2('[ops] prefix is case-sensitive', { detail: { location: [{ prefix: 'europe/' }] } }, false),
  ec2('[ops] prefix with equals-ignore-case', { detail: { service: [{ prefix: { 'equals-ignore-case': 'eventb' } }] } }, true),
  ec2('[ops] suffix', { detail: { filename: [{ suffix: '.png' }] } }, true),
  ec2('[ops] suffix misses', { detail: { filename: [{ suffix: '.PNG' }] } }, false),
  ec2('[ops] suffix with equals-ignore-case', { detail: { service: [{ suffix: { 'equals-ignore-case': 'TBRIDGE' } }] } }, true),
  ec2('[ops] equals-ignore-case', { 'detail-type': [{ 'equals-ignore-case': 'ec2 instance state-change notification' }] }, true),
  ec2('[ops] equals-ignore-case is whole-value', { detail: { service: [{ 'equals-ignore-case': 'eventbridg' }] } }, false),
  ec2('[ruler-readme] prefix only works on strings', { detail: { 'c-count': [{ prefix: '5' }] } }, false),
  ec2('[ruler-readme] equals-ignore-case only works on strings', { detail: { enabled: [{ 'equals-ignore-case': 'TRUE' }] } }, false),
  // Wildcard [ops] [ruler-readme]
  ec2('[ops] wildcard', { resources: [{ wildcard: 'arn:aws:ec2:us-west-1:*:instance/*' }] }, true),
  ec2('[ops] wildcard misses', { resources: [{ wildcard: 'arn:aws:ec2:us-east-1:*' }] }, false),
  ec2('[ops] wildcard: a path containing /lib/', { detail: { 'file-path': [{ wildcard: '*/lib/*' }] } }, true),
  ['[ruler-readme] wildcard: \\* is a literal star', { a: [{ wildcard: 'a\\*c' }] }, { a: 'a*c' }, true],
  ['[ruler-readme] wildcard: \\* does not match other characters', { a: [{ wildcard: 'a\\*c' }] }, { a: 'abc' }, false],
  ['[ruler-readme] wildcard: \\\\ is a backslash', { a: [{ wildcard: 'a\\\\*' }] }, { a: 'a\\bc' }, true],
  ['[RulerTest] wildcard *bc, d*f, xy* together', { a: [{ wildcard: '*bc' }], b: [{ wildcard: 'd*f' }], c: [{ wildcard: 'xy*' }] }, { a: 'abcbc', b: 'deeeef', c: 'xy' }, true],
  ['[RulerTest] wildcard d*f against deeeefx', { b: [{ wildcard: 'd*f' }] }, { b: 'deeeefx' }, false],
  ['[ruler-readme] wildcard only works on strings', { a: [{ wildcard: '1*' }] }, { a: 123 }, false],
  // anything-but [ops] [ruler-readme]
  ec2('[ops] anything-but a value', { detail: { state: [{ 'anything-but': 'initializing' }] } }, true),
  ec2('[ops] anything-but excludes the value', { detail: { state: [{ 'anything-but': 'terminated' }] } }, false),
  ec2('[ops] anything-but a list of strings', { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } }, true),
  ec2('[ops] anything-but a list that names the value', { detail: { state: [{ 'anything-but': ['stopped', 'terminated'] }] } }, false),
  ec2('[ops] anything-but a number', { detail: { 'x-limit': [{ 'anything-but': 123 }] } }, true),
  ec2('[ops] anything-but that number', { detail: { 'x-limit': [{ 'anything-but': 301.8 }] } }, false),
  ec2('[ops] anything-but a list of numbers', { detail: { 'c-count': [{ 'anything-but': [100, 200, 300] }] } }, true),
  ec2('[ops] anything-but a list of numbers naming the value', { detail: { 'c-count': [{ 'anything-but': [1, 5] }] } }, false),
  ec2('[ops] anything-but prefix', { region: [{ 'anything-but': { prefix: 'us-' } }] }, false),
  ec2('[ops] anything-but prefix, another region', { region: [{ 'anything-but': { prefix: 'eu-' } }] }, true),
  ec2('[ruler-readme] anything-but a list of prefixes', { detail: { state: [{ 'anything-but': { prefix: ['init', 'term'] } }] } }, false),
  ec2('[ops] anything-but suffix', { detail: { filename: [{ 'anything-but': { suffix: '.png' } }] } }, false),
  ec2('[ruler-readme] anything-but a list of suffixes', { detail: { 'instance-id': [{ 'anything-but': { suffix: ['1234', '6789'] } }] } }, true),
  ec2('[ops] anything-but equals-ignore-case', { detail: { state: [{ 'anything-but': { 'equals-ignore-case': 'TERMINATED' } }] } }, false),
  ec2('[ruler-readme] anything-but equals-ignore-case list', { detail: { state: [{ 'anything-but': { 'equals-ignore-case': ['Stopped', 'OverLoaded'] } }] } }, true),
  ec2('[ops] anything-but wildcard: not a path with /lib/', { detail: { 'file-path': [{ 'anything-but': { wildcard: '*/lib/*' } }] } }, false),
  ec2('[ruler-readme] anything-but wildcard list', { detail: { 'file-path': [{ 'anything-but': { wildcard: ['*/bin/*.jar', '*/bin/*.class'] } }] } }, true),
  ec2('[ruler-readme] anything-but needs the field', { detail: { missing: [{ 'anything-but': 'x' }] } }, false),
  ['[localstack#9711] anything-but a list of strings matches null', { detail: { command: [{ 'anything-but': ['no-message'] }] } }, { detail: { command: null } }, true],
  ['[RulerTest] a numeric anything-but lets a string through', { b: [{ 'anything-but': [111, 222, 333] }] }, { b: '444' }, true],
  ['[RulerTest] anything-but on an array: another element matches', { a: [{ 'anything-but': 'x' }] }, { a: ['x', 'y'] }, true],
  ['[RulerTest] anything-but on an array of only the excluded value', { a: [{ 'anything-but': 'x' }] }, { a: ['x'] }, false],
  // Numeric [ops]
  ec2('[ops] numeric ranges, =, and exponent notation', { detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }], 'd-count': [{ numeric: ['<', 10] }], 'x-limit': [{ numeric: ['=', 3.018e2] }] } }, true),
  ec2('[ops] numeric: open upper bound excludes it', { detail: { 'c-count': [{ numeric: ['>', 0, '<', 5] }] } }, false),
  ec2('[ops] numeric: >= includes the bound', { detail: { 'c-count': [{ numeric: ['>=', 5] }] } }, true),
  ec2('[ops] numeric out of range', { detail: { 'c-count': [{ numeric: ['>', 5] }] } }, false),
  ec2('[ops] numeric only matches JSON numbers', { detail: { state: [{ numeric: ['>', 0] }] } }, false),
  ['[RulerTest] numeric > 0 < 1 against 0.999999', { z: [{ numeric: ['>', 0, '<', 1] }] }, { z: 0.999999 }, true],
  ['[RulerTest] numeric > 0 < 1 against 1.01', { z: [{ numeric: ['>', 0, '<', 1] }] }, { z: 1.01 }, false],
  ['[ops] numeric: a number as a string is not a number', { n: [{ numeric: ['=', 5] }] }, { n: '5' }, false],
  ['[ops] numeric: negative ranges', { n: [{ numeric: ['>=', -10, '<', -1] }] }, { n: -5 }, true],
  // Values of other JSON types [RulerTest] [null]
  ['[RulerTest] a number literal matches that number', { a: [1] }, { a: 1 }, true],
  ['[RulerTest] a number literal does not match true', { x: [1] }, { x: true }, false],
  ['[RulerTest] a string literal does not match true', { x: ['X'] }, { x: true }, false],
  ['[ruler-readme] the string "5" does not match the number 5', { a: ['5'] }, { a: 5 }, false],
  ['[ruler-readme] the number 5 does not match the string "5"', { a: [5] }, { a: '5' }, false],
  ['[ruler-readme] 3.018e2 matches 301.8', { a: [3.018e2] }, { a: 301.8 }, true],
  ec2('[ruler-readme] true matches the literal true', { detail: { enabled: [true] } }, true),
  ec2('[ruler-readme] "true" does not match the literal true', { detail: { enabled: ['true'] } }, false),
  ec2('[null] an empty string', { detail: { 'event-version': [''] } }, true),
  ec2('[null] null', { detail: { 'response-elements': [null] } }, true),
  ec2('[null] "" does not match null', { detail: { 'response-elements': [''] } }, false),
  ec2('[null] null does not match ""', { detail: { 'event-version': [null] } }, false),
  ec2('[null] null does not match a missing field', { detail: { missing: [null] } }, false),
  // IP addresses [ops] [CIDRTest]
  ec2('[ops] cidr IPv4', { detail: { 'source-ip': [{ cidr: '10.0.0.0/24' }] } }, true),
  ec2('[ops] cidr IPv4 outside', { detail: { 'source-ip': [{ cidr: '10.0.1.0/24' }] } }, false),
  ec2('[ops] cidr IPv6', { detail: { 'source-ip6': [{ cidr: '2001:db8::/32' }] } }, true),
  ec2('[ops] cidr IPv6 outside', { detail: { 'source-ip6': [{ cidr: '2001:db9::/32' }] } }, false),
  ec2('[CIDRTest] an IPv4 address is not in an IPv6 range', { detail: { 'source-ip': [{ cidr: '::/0' }] } }, false),
  ['[CIDRTest] ::1 in ::1/24', { ip: [{ cidr: '::1/24' }] }, { ip: '0:0:0:0:0:0:0:1' }, true],
  ['[CIDRTest] /0 covers every IPv4 address', { ip: [{ cidr: '0.0.0.0/0' }] }, { ip: '255.255.255.255' }, true],
  ['[CIDRTest] a CIDR on a non-address', { ip: [{ cidr: '10.0.0.0/8' }] }, { ip: 'not-an-ip' }, false],
  ['[CIDRTest] an address literal matches another spelling of it', { ip: ['2001:db8::ff00:42:8329'] }, { ip: '2001:0db8:0000:0000:0000:ff00:0042:8329' }, true],
  // exists [ops] [RulerTest]
  ec2('[ops] exists', { detail: { 'c-count': [{ exists: true }] } }, true),
  ec2('[ops] exists on a missing field', { detail: { 'no-such': [{ exists: true }] } }, false),
  ec2('[ops] exists false on a missing field', { detail: { 'no-such': [{ exists: false }] } }, true),
  ec2('[ops] exists false on a present field', { detail: { state: [{ exists: false }] } }, false),
  ec2('[ops] exists false: an object is not a leaf', { detail: { nested: [{ exists: false }] } }, true),
  ec2('[ops] exists true: an object is not a leaf', { detail: { nested: [{ exists: true }] } }, false),
  ec2('[ops] exists false under an absent parent', { detail: { absent: { child: [{ exists: false }] } } }, true),
  ec2('[ops] exists true under an absent parent', { detail: { absent: { child: [{ exists: true }] } } }, false),
  ec2('[ops] exists false under a parent that is a string', { detail: { state: { child: [{ exists: false }] } } }, true),
  ec2('[ruler-readme] exists true on a null value', { detail: { 'response-elements': [{ exists: true }] } }, true),
  ec2('[ruler-readme] exists true on an array of values', { detail: { tags: [{ exists: true }] } }, true),
  ['[RulerTest] exists true/false on {a:1}: a exists', { a: [{ exists: true }] }, { a: 1 }, true],
  ['[RulerTest] exists true/false on {a:1}: b does not', { b: [{ exists: false }] }, { a: 1 }, true],
  ['[RulerTest] exists true/false on {b:2}: b exists', { b: [{ exists: false }] }, { b: 2 }, false],
  // $or [ops] [ruler-readme]
  ec2('[ops] $or: one branch matches', { detail: { $or: [{ 'c-count': [{ numeric: ['>', 10] }] }, { 'd-count': [{ numeric: ['<', 10] }] }] } }, true),
  ec2('[ops] $or: no branch matches', { detail: { $or: [{ 'c-count': [{ numeric: ['>', 10] }] }, { state: ['running'] }] } }, false),
  ec2('[ops] $or at the top level', { $or: [{ source: ['aws.s3'] }, { 'detail-type': ['EC2 Instance State-change Notification'] }] }, true),
  ec2('[ops] $or alongside a field that fails', { source: ['aws.s3'], $or: [{ region: ['us-west-1'] }, { account: ['1'] }] }, false),
  ['[ruler-readme] $or: neither source matches', { $or: [{ source: ['aws.ec2'] }, { source: ['aws.s3'] }] }, { source: 'my.app' }, false],
  ['[ruler-readme] nested $or: metricType && namespace && (metricId || spaceId)', { source: ['aws.cloudwatch'], $or: [{ metricName: ['CPUUtilization'] }, { metricType: ['MetricType'], namespace: ['AWS/EC2'], $or: [{ metricId: [1234] }, { spaceId: [1000] }] }] }, { source: 'aws.cloudwatch', metricType: 'MetricType', namespace: 'AWS/EC2', spaceId: 1000 }, true],
  ['[ruler-readme] nested $or: neither inner branch', { source: ['aws.cloudwatch'], $or: [{ metricName: ['CPUUtilization'] }, { metricType: ['MetricType'], namespace: ['AWS/EC2'], $or: [{ metricId: [1234] }, { spaceId: [1000] }] }] }, { source: 'aws.cloudwatch', metricType: 'MetricType', namespace: 'AWS/EC2', spaceId: 7 }, false],
  ['[ruler-readme] parallel $or in two objects', { $or: [{ metricName: ['CPUUtilization'] }, { namespace: ['AWS/EC2'] }], detail: { $or: [{ source: ['aws.cloudwatch'] }, { 'detail-type': ['CloudWatch Alarm State Change'] }] } }, { namespace: 'AWS/EC2', detail: { 'detail-type': 'CloudWatch Alarm State Change' } }, true],
];

// Arrays of objects: the ruler's "JSON Array Matching" and array consistency.
const EMPLOYEES = {
  employees: [
    [
      { firstName: 'John', lastName: 'Doe', ids: [1234, 1000, 9999] },
      { firstName: 'Anna', lastName: 'Smith' },
    ],
    [{ firstName: 'Peter', lastName: 'Jones', ids: [] }],
  ],
};
const arrayCases: Case[] = [
  ['[ruler-readme] a field inside an array of objects', { employees: { firstName: ['Anna'] } }, EMPLOYEES, true],
  ['[RulerTest] two fields of the same element', { employees: { firstName: ['John'], ids: [1000] } }, EMPLOYEES, true],
  ['[RulerTest] exists false in the element that matches', { employees: { firstName: ['Anna'], ids: [{ exists: false }] } }, EMPLOYEES, true],
  ['[RulerTest] no such name', { employees: { firstName: ['Alice'] } }, EMPLOYEES, false],
  ['[ruler-readme] fields from different elements never match together', { employees: { firstName: ['Anna'], lastName: ['Jones'] } }, EMPLOYEES, false],
  ['[RulerTest] a field at the root the event lacks', { a: ['b'] }, EMPLOYEES, false],
  ['[RulerTest] a leaf pattern on an array of objects', { employees: ['b'] }, EMPLOYEES, false],
  ['[RulerTest] ids from another element', { employees: { firstName: ['Anna'], ids: [1000] } }, EMPLOYEES, false],
  ['[RulerTest] exists true in an element without it', { employees: { firstName: ['Anna'], ids: [{ exists: true }] } }, EMPLOYEES, false],
  ['[ruler-readme] an empty array in an element is absent', { employees: { firstName: ['Peter'], ids: [{ exists: false }] } }, EMPLOYEES, true],
  ['[StructuredFinderTest] objarray: same element', { d: { a: [{ exists: true }], b: [{ exists: true }] } }, { d: [{ a: 1, b: 2 }] }, true],
  ['[StructuredFinderTest] objarray: split across elements', { d: { a: [{ exists: true }], b: [{ exists: true }] } }, { d: [{ a: 1 }, { b: 2 }] }, false],
  ['[StructuredFinderTest] objarray: 3 elements, last valid', { d: { a: [{ exists: true }], b: [{ exists: true }] } }, { d: [{ a: 1 }, { b: 2 }, { a: 3, b: 4 }] }, true],
  ['[StructuredFinderTest] objarray: $or inside one element', { d: { $or: [{ a: [1] }, { b: [2] }], c: [3] } }, { d: [{ a: 1 }, { b: 2, c: 3 }] }, true],
  ['[StructuredFinderTest] objarray: $or branch and other field split', { d: { $or: [{ a: [1] }, { b: [9] }], c: [3] } }, { d: [{ a: 1 }, { c: 3 }] }, false],
  ['[arrayRule1] a deep field inside an array of metrics', { source: ['aws.cloudwatch'], detail: { state: { value: ['ALARM'] }, configuration: { metrics: { metricStat: { metric: { namespace: ['AWS/EC2'] } } } } } }, { source: 'aws.cloudwatch', detail: { state: { value: 'ALARM' }, configuration: { metrics: [{ id: 'M1', metricStat: { metric: { namespace: 'AWS/EC2' }, unit: null } }] } } }, true],
  ['[arrayRule1] the same with another namespace', { detail: { configuration: { metrics: { metricStat: { metric: { namespace: ['AWS/EC2'] } } } } } }, { detail: { configuration: { metrics: [{ metricStat: { metric: { namespace: 'AWS/S3' } } }] } } }, false],
];

describe('EventBridge pattern matching', () => {
  for (const [name, pattern, event, expected] of [...cases, ...arrayCases]) {
    it(name, () => assert.equal(matchesPattern(pattern as never, event), expected));
  }
});

// What PutRule refuses, with event-ruler's JsonRuleCompiler reasons.
const invalid: [string, unknown, RegExp][] = [
  ['a pattern that is not an object', ['aws.ec2'], /Filter is not an object/],
  ['an empty pattern', {}, /Empty objects are not allowed/],
  ['a leaf that is not an array', { source: 'aws.ec2' }, /"source" must be an object or an array/],
  ['a number where an array belongs', { detail: { n: 5 } }, /"n" must be an object or an array/],
  ['an empty array', { source: [] }, /Empty arrays are not allowed/],
  ['an array inside a leaf', { source: [['aws.ec2']] }, /Match value must be String, number, true, false, or null/],
  ['an unknown operator', { source: [{ regex: '.*' }] }, /Unrecognized match type regex/],
  ['two operators in one matcher', { source: [{ prefix: 'a', suffix: 'b' }] }, /Only one key allowed/],
  ['a prefix that is not a string', { source: [{ prefix: 5 }] }, /prefix match pattern must be a string/],
  ['prefix with another option than equals-ignore-case', { source: [{ prefix: { wildcard: 'a*' } }] }, /Unsupported prefix pattern: wildcard/],
  ['exists not boolean', { source: [{ exists: 'true' }] }, /exists match pattern must be either true or false/],
  ['numeric not an array', { n: [{ numeric: '>5' }] }, /Value of numeric must be an array/],
  ['numeric with an unknown operator', { n: [{ numeric: ['!=', 5] }] }, /Unrecognized numeric range operator: !=/],
  ['numeric with a string bound', { n: [{ numeric: ['>', '5'] }] }, /Value of > must be numeric/],
  ['numeric = with a second term', { n: [{ numeric: ['=', 5, '<', 6] }] }, /Too many elements/],
  ['numeric upper bound first', { n: [{ numeric: ['<', 10, '>', 0] }] }, /Too many elements/],
  ['numeric with two lower bounds', { n: [{ numeric: ['>', 0, '>', 1] }] }, /Bad numeric range operator: >/],
  ['numeric with three terms', { n: [{ numeric: ['>', 0, '<', 5, '<', 6] }] }, /Too many terms/],
  ['anything-but with a mixed list', { s: [{ 'anything-but': ['a', 1] }] }, /mixed type is not supported/],
  ['anything-but with null in a list', { s: [{ 'anything-but': [null] }] }, /start\|null\|boolean is not supported/],
  ['anything-but true', { s: [{ 'anything-but': true }] }, /must be an array or single string\/number value/],
  ['anything-but with an unsupported form', { s: [{ 'anything-but': { numeric: ['>', 1] } }] }, /Unsupported anything-but pattern: numeric/],
  ['anything-but prefix with a number', { s: [{ 'anything-but': { prefix: 5 } }] }, /prefix\/suffix match pattern must be a string/],
  ['anything-but an empty prefix', { s: [{ 'anything-but': { prefix: '' } }] }, /Null prefix\/suffix not allowed/],
  ['anything-but equals-ignore-case with a number', { s: [{ 'anything-but': { 'equals-ignore-case': [1] } }] }, /equals-ignore-case list, number/],
  ['wildcard with consecutive stars', { s: [{ wildcard: 'a**b' }] }, /Consecutive wildcard characters/],
  ['wildcard escaping a letter', { s: [{ wildcard: 'a\\b' }] }, /Invalid escape character/],
  ['anything-but wildcard with consecutive stars', { s: [{ 'anything-but': { wildcard: ['ok*', 'a**'] } }] }, /Consecutive wildcard characters/],
  ['cidr without a mask', { ip: [{ cidr: '10.0.0.0' }] }, /one '\/' required/],
  ['cidr [CIDRTest] 192.168.0.1/33', { ip: [{ cidr: '192.168.0.1/33' }] }, /IPv4 mask bits must be < 32/],
  ['cidr [CIDRTest] an IPv6 mask of 222', { ip: [{ cidr: '2400:6500:FF00::36FB:1F80/222' }] }, /IPv6 mask bits must be < 128/],
  ['cidr [CIDRTest] 700.168.0.1', { ip: [{ cidr: '700.168.0.1/24' }] }, /Invalid IP address/],
  ['$or that is not an array', { $or: { source: ['a'] } }, /It must be an Array followed with \$or/],
  ['$or with one branch', { $or: [{ source: ['a'] }] }, /at least 2 Objects/],
  ['$or with a value that is not an object', { $or: [{ source: ['a'] }, ['b']] }, /Only JSON object is allowed/],
  ['$or naming an operator as a field', { $or: [{ numeric: [1] }, { prefix: ['a'] }] }, /reserved fieldName/],
];

describe('EventBridge pattern validation (PutRule InvalidEventPatternException)', () => {
  for (const [name, pattern, reason] of invalid) {
    it(`refuses ${name}`, () => {
      assert.throws(
        () => matchesPattern(pattern as never, EC2_EVENT),
        (error: unknown) => error instanceof InvalidEventPatternError && error.name === 'InvalidEventPatternException' && reason.test(error.message),
      );
    });
  }

  it('accepts every documented operator', () => {
    assert.doesNotThrow(() =>
      validatePattern({
        a: ['x', 1, true, null, ''],
        b: [{ prefix: 'x' }, { prefix: { 'equals-ignore-case': 'x' } }, { suffix: 'x' }, { suffix: { 'equals-ignore-case': 'x' } }],
        c: [{ 'equals-ignore-case': 'x' }, { wildcard: 'a*b\\*c\\\\' }, { exists: true }, { cidr: '10.0.0.0/8' }, { cidr: '2001:db8::/32' }],
        d: [{ numeric: ['=', 1] }, { numeric: ['>', 0, '<=', 5] }, { numeric: ['<', 10] }],
        e: [{ 'anything-but': 'x' }, { 'anything-but': 1 }, { 'anything-but': ['x', 'y'] }, { 'anything-but': [1, 2] }],
        f: [{ 'anything-but': { prefix: ['x'] } }, { 'anything-but': { suffix: 'x' } }, { 'anything-but': { 'equals-ignore-case': ['X'] } }, { 'anything-but': { wildcard: '*x' } }],
        $or: [{ g: ['1'] }, { h: { i: ['2'] } }],
      }),
    );
  });

  it('names the path of the offending field', () => {
    assert.throws(() => validatePattern({ detail: { object: { key: 'x' } } }), /at detail\.object\.key/);
  });
});
