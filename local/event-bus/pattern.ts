import { isIPv6 } from 'node:net';

/**
 * EventBridge's event-pattern language, for the twin's bus. EventBridge matches
 * with AWS's event-ruler (rulesForJSONEvent), so where the user guide is silent
 * this follows the ruler's README and tests (github.com/aws/event-ruler).
 *
 * - Operators: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
 * - Pattern syntax: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern.html
 * - Arrays: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-arrays.html
 * - null and "": https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-null-values.html
 */
export type EventPattern = { [field: string]: unknown };

/** What PutRule answers for a pattern it refuses; the name is the API's error code. */
export class InvalidEventPatternError extends Error {
  override readonly name = 'InvalidEventPatternException';
  readonly code = 'InvalidEventPatternException';
  constructor(
    readonly reason: string,
    readonly path: string,
  ) {
    super(`Event pattern is not valid. Reason: ${reason}${path ? ` at ${path}` : ''}`);
  }
}

const MISSING = Symbol('missing');
type Value = unknown | typeof MISSING;

const OPERATORS = new Set(['exactly', 'prefix', 'suffix', 'equals-ignore-case', 'wildcard', 'anything-but', 'numeric', 'exists', 'cidr']);
// Names the ruler refuses as field names inside $or (event-ruler Constants.RESERVED_FIELD_NAMES_IN_OR_RELATIONSHIP).
const RESERVED_IN_OR = new Set([
  ...OPERATORS,
  '=', '<', '<=', '>', '>=',
  'regex', 'not-wildcard', 'not-equals-ignore-case',
  'date-after', 'date-on-or-after', 'date-before', 'date-on-or-before', 'in-date-range',
  'ip-address-in-range', 'ip-address-not-in-range',
]);

const validated = new WeakSet<object>();

/**
 * Whether `event` matches `pattern`. Throws InvalidEventPatternError for a pattern
 * PutRule would refuse, before looking at the event.
 */
export function matchesPattern(pattern: EventPattern, event: unknown): boolean {
  validatePattern(pattern);
  return matchObject(pattern, event);
}

/** Refuses what PutRule refuses, with the reason event-ruler gives (JsonRuleCompiler). */
export function validatePattern(pattern: unknown): asserts pattern is EventPattern {
  if (isObject(pattern) && validated.has(pattern)) return;
  if (!isObject(pattern)) throw new InvalidEventPatternError('Filter is not an object', '');
  checkObject(pattern, '', false);
  validated.add(pattern);
}

// ---- matching -------------------------------------------------------------

/**
 * All fields of a pattern object must match (AND); `$or` needs one branch.
 * Where the event holds an array of objects, the whole object pattern must match
 * inside one element: the ruler refuses a match "in which any two fields are within
 * JSON objects that are in different elements of the same array" (README, JSON Array Matching).
 */
function matchObject(pattern: EventPattern, value: Value): boolean {
  if (Array.isArray(value)) {
    const objects = flatten(value).filter(isObject);
    // An array with no objects holds no field of this pattern: every field is absent.
    if (objects.length === 0) return matchFields(pattern, MISSING);
    return objects.some((element) => matchFields(pattern, element));
  }
  return matchFields(pattern, isObject(value) ? value : MISSING);
}

function matchFields(pattern: EventPattern, value: Record<string, unknown> | typeof MISSING): boolean {
  for (const [field, expected] of Object.entries(pattern)) {
    if (field === '$or') {
      if (!(expected as EventPattern[]).some((branch) => matchFields(branch, value))) return false;
      continue;
    }
    const actual: Value = value !== MISSING && Object.hasOwn(value, field) ? value[field] : MISSING;
    const ok = Array.isArray(expected) ? matchLeaf(expected, actual) : matchObject(expected as EventPattern, actual);
    if (!ok) return false;
  }
  return true;
}

/**
 * A leaf matches when any of the event's values matches any matcher. An array in
 * the event gives its scalar elements as values; an object is no leaf, so a leaf
 * pattern finds nothing there ("exists matching only works on leaf nodes").
 */
function matchLeaf(matchers: unknown[], actual: Value): boolean {
  const values = leafValues(actual);
  if (values.length === 0) return matchers.some((m) => isObject(m) && m.exists === false);
  return matchers.some((matcher) => values.some((value) => matchValue(matcher, value)));
}

function leafValues(actual: Value): unknown[] {
  if (actual === MISSING) return [];
  if (Array.isArray(actual)) return flatten(actual).filter((v) => !isObject(v));
  return isObject(actual) ? [] : [actual];
}

function flatten(values: unknown[]): unknown[] {
  return values.flatMap((v) => (Array.isArray(v) ? flatten(v) : [v]));
}

function matchValue(matcher: unknown, value: unknown): boolean {
  if (!isObject(matcher)) return equalsLiteral(matcher, value);
  const [operator, operand] = Object.entries(matcher)[0]!;
  switch (operator) {
    case 'exists':
      // A present value, null included, is a leaf that exists.
      return operand === true;
    case 'exactly':
      return value === operand;
    case 'prefix':
      return typeof value === 'string' && (isObject(operand) ? lower(value).startsWith(lower(operand['equals-ignore-case'] as string)) : value.startsWith(operand as string));
    case 'suffix':
      return typeof value === 'string' && (isObject(operand) ? lower(value).endsWith(lower(operand['equals-ignore-case'] as string)) : value.endsWith(operand as string));
    case 'equals-ignore-case':
      return typeof value === 'string' && lower(value) === lower(operand as string);
    case 'wildcard':
      return typeof value === 'string' && wildcard(operand as string).test(value);
    case 'numeric':
      return typeof value === 'number' && numeric(operand as unknown[], value);
    case 'cidr':
      return typeof value === 'string' && inCidr(value, operand as string);
    case 'anything-but':
      return !anythingButExcludes(operand, value);
    default:
      return false; // unreachable: validatePattern refused it
  }
}

/**
 * A literal matches a value of its own JSON type: "5" never matches 5, and null
 * never matches "" (eb-event-patterns-null-values). A literal that is an IP address
 * matches the same address written another way, as the ruler compiles it to a range.
 */
function equalsLiteral(literal: unknown, value: unknown): boolean {
  if (literal === value) return true;
  if (typeof literal === 'string' && typeof value === 'string') {
    const a = ipBytes(literal);
    const b = a && ipBytes(value);
    return !!a && !!b && a.length === b.length && a.every((byte, i) => byte === b[i]);
  }
  return false;
}

/**
 * anything-but excludes only values of the type it names: a string form lets
 * numbers, booleans and null through, a numeric form lets strings through (event-ruler
 * RulerTest "WHEN_WeTryAnythingButRules", AWS answering null for anything-but: localstack#9711).
 */
function anythingButExcludes(operand: unknown, value: unknown): boolean {
  if (isObject(operand)) {
    const [form, arg] = Object.entries(operand)[0]!;
    if (typeof value !== 'string') return false;
    const list = (Array.isArray(arg) ? arg : [arg]) as string[];
    switch (form) {
      case 'prefix':
        return list.some((p) => value.startsWith(p));
      case 'suffix':
        return list.some((s) => value.endsWith(s));
      case 'equals-ignore-case':
        return list.some((s) => lower(s) === lower(value));
      case 'wildcard':
        return list.some((w) => wildcard(w).test(value));
      default:
        return false;
    }
  }
  const list = Array.isArray(operand) ? operand : [operand];
  return list.some((excluded) => excluded === value);
}

function numeric(conditions: unknown[], value: number): boolean {
  for (let i = 0; i < conditions.length; i += 2) {
    const bound = conditions[i + 1] as number;
    const ok = { '=': value === bound, '<': value < bound, '<=': value <= bound, '>': value > bound, '>=': value >= bound }[conditions[i] as string];
    if (!ok) return false;
  }
  return true;
}

function lower(text: string): string {
  return text.toLowerCase();
}

const wildcards = new Map<string, RegExp>();
/** `*` matches any run of characters; `\*` is a star and `\\` a backslash. */
function wildcard(pattern: string): RegExp {
  let regex = wildcards.get(pattern);
  if (!regex) {
    let source = '';
    for (let i = 0; i < pattern.length; i++) {
      const c = pattern[i]!;
      if (c === '\\') source += escapeRegExp(pattern[++i]!);
      else source += c === '*' ? '.*' : escapeRegExp(c);
    }
    regex = new RegExp(`^${source}$`, 's');
    wildcards.set(pattern, regex);
  }
  return regex;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

// ---- IP addresses (IPv4 and IPv6), as the ruler's CIDR class reads them ----

const IPV4 = /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/;
const IPV6 = /^[0-9a-fA-F:]*:[0-9a-fA-F:]*$/;

function ipBytes(text: string): number[] | null {
  if (IPV4.test(text)) {
    const parts = text.split('.').map(Number);
    return parts.every((p) => p <= 255) ? parts : null;
  }
  if (!IPV6.test(text) || !isIPv6(text)) return null;
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const groups = (s: string | undefined) => (s ? s.split(':') : []);
  const left = groups(head);
  const right = groups(tail);
  const all = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return all.flatMap((g) => {
    const n = parseInt(g, 16);
    return [n >> 8, n & 0xff];
  });
}

function parseCidr(cidr: string): { bytes: number[]; bits: number } | string {
  const slashed = cidr.split('/');
  if (slashed.length !== 2) return "Malformed CIDR, one '/' required";
  if (!/^-?\d+$/.test(slashed[1]!)) return 'Malformed CIDR, mask bits must be an integer';
  const bits = Number(slashed[1]);
  if (bits < 0) return 'Malformed CIDR, mask bits must not be negative';
  const bytes = ipBytes(slashed[0]!);
  if (!bytes) return `Invalid IP address: ${slashed[0]}`;
  // event-ruler CIDR.cidr: "IPv4 mask bits must be < 32", "IPv6 mask bits must be < 128".
  if (bytes.length === 4 && bits > 31) return 'IPv4 mask bits must be < 32';
  if (bytes.length === 16 && bits > 127) return 'IPv6 mask bits must be < 128';
  return { bytes, bits };
}

function inCidr(address: string, cidr: string): boolean {
  const range = parseCidr(cidr);
  const ip = ipBytes(address);
  if (typeof range === 'string' || !ip || ip.length !== range.bytes.length) return false;
  for (let bit = 0; bit < range.bits; bit++) {
    const mask = 0x80 >> bit % 8;
    const byte = Math.floor(bit / 8);
    if ((ip[byte]! & mask) !== (range.bytes[byte]! & mask)) return false;
  }
  return true;
}

// ---- validation (what PutRule refuses) --------------------------------------

function checkObject(pattern: Record<string, unknown>, path: string, insideOr: boolean): void {
  const fields = Object.entries(pattern);
  if (fields.length === 0) fail('Empty objects are not allowed', path);
  for (const [field, value] of fields) {
    const at = path ? `${path}.${field}` : field;
    if (field === '$or') {
      checkOr(value, path, at);
      continue;
    }
    if (insideOr && RESERVED_IN_OR.has(field)) fail(`${field} is Ruler reserved fieldName which cannot be used inside $or.`, at);
    if (Array.isArray(value)) checkLeaf(value, at);
    else if (isObject(value)) checkObject(value, at, insideOr);
    else fail(`"${field}" must be an object or an array`, at);
  }
}

function checkOr(value: unknown, path: string, at: string): void {
  if (!Array.isArray(value)) fail('It must be an Array followed with $or.', at);
  for (const branch of value) {
    if (!isObject(branch)) fail('Only JSON object is allowed in array of $or relationship.', at);
    checkObject(branch, path, true);
  }
  if (value.length < 2) fail('There must have at least 2 Objects in $or relationship.', at);
}

function checkLeaf(matchers: unknown[], at: string): void {
  if (matchers.length === 0) fail('Empty arrays are not allowed', at);
  for (const matcher of matchers) {
    if (isObject(matcher)) checkMatcher(matcher, at);
    else if (!(matcher === null || ['string', 'number', 'boolean'].includes(typeof matcher))) fail('Match value must be String, number, true, false, or null', at);
  }
}

function checkMatcher(matcher: Record<string, unknown>, at: string): void {
  const entries = Object.entries(matcher);
  if (entries.length === 0) fail('Match expression name not found', at);
  const [operator, operand] = entries[0]!;
  if (!OPERATORS.has(operator)) fail(`Unrecognized match type ${operator}`, at);
  if (entries.length > 1) fail(operator === 'numeric' || operator === 'anything-but' ? 'Too many elements in numeric expression' : 'Only one key allowed in match expression', at);
  switch (operator) {
    case 'exactly':
    case 'equals-ignore-case':
      if (typeof operand !== 'string') fail(`${operator === 'exactly' ? 'exact' : operator} match pattern must be a string`, at);
      return;
    case 'prefix':
    case 'suffix':
      if (isObject(operand)) return checkIgnoreCase(operator, operand, at);
      if (typeof operand !== 'string') fail(`${operator} match pattern must be a string`, at);
      return;
    case 'wildcard':
      if (typeof operand !== 'string') fail('wildcard match pattern must be a string', at);
      return checkWildcard(operand, at);
    case 'exists':
      if (typeof operand !== 'boolean') fail('exists match pattern must be either true or false.', at);
      return;
    case 'cidr': {
      if (typeof operand !== 'string') fail('prefix match pattern must be a string', at);
      const range = parseCidr(operand);
      if (typeof range === 'string') fail(range, at);
      return;
    }
    case 'numeric':
      return checkNumeric(operand, at);
    case 'anything-but':
      return checkAnythingBut(operand, at);
  }
}

function checkIgnoreCase(operator: string, operand: Record<string, unknown>, at: string): void {
  const entries = Object.entries(operand);
  if (entries.length === 0) fail(`${operator === 'prefix' ? 'Prefix' : 'Suffix'} expression name not found`, at);
  if (entries[0]![0] !== 'equals-ignore-case') fail(`Unsupported ${operator} pattern: ${entries[0]![0]}`, at);
  if (typeof entries[0]![1] !== 'string') fail('equals-ignore-case match pattern must be a string', at);
  if (entries.length > 1) fail('Only one key allowed in match expression', at);
}

/** event-ruler WildcardParser: no two stars in a row, and `\` escapes only `*` or `\`. */
function checkWildcard(text: string, at: string): void {
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '*' && text[i + 1] === '*') fail(`Consecutive wildcard characters at pos ${i + 1}`, at);
    if (text[i] === '\\') {
      if (text[i + 1] !== '*' && text[i + 1] !== '\\') fail(`Invalid escape character at pos ${i}`, at);
      i++;
    }
  }
}

/**
 * `["=", n]`, one bound (`>`, `>=`, `<`, `<=`), or a lower bound then an upper bound:
 * the only shapes event-ruler's processNumericMatchExpression accepts.
 */
function checkNumeric(operand: unknown, at: string): void {
  if (!Array.isArray(operand)) fail('Value of numeric must be an array.', at);
  const [op, value, op2, value2, ...rest] = operand;
  if (typeof op !== 'string') fail(`Invalid member in numeric match: ${JSON.stringify(op)}`, at);
  if (!['=', '<', '<=', '>', '>='].includes(op)) fail(`Unrecognized numeric range operator: ${op}`, at);
  if (typeof value !== 'number') fail(`Value of ${op === '=' ? 'equals' : op} must be numeric`, at);
  if (operand.length === 2) return;
  if (op !== '>' && op !== '>=') fail('Too many elements in numeric expression', at);
  if (typeof op2 !== 'string') fail(`Bad value in numeric range: ${JSON.stringify(op2)}`, at);
  if (op2 !== '<' && op2 !== '<=') fail(`Bad numeric range operator: ${op2}`, at);
  if (typeof value2 !== 'number') fail(`Value of ${op2} must be numeric`, at);
  if (rest.length > 0) fail('Too many terms in numeric range expression', at);
}

function checkAnythingBut(operand: unknown, at: string): void {
  if (isObject(operand)) {
    const entries = Object.entries(operand);
    if (entries.length === 0) fail('Anything-But expression name not found', at);
    const [form, arg] = entries[0]!;
    if (!['equals-ignore-case', 'prefix', 'suffix', 'wildcard'].includes(form)) fail(`Unsupported anything-but pattern: ${form}`, at);
    if (entries.length > 1) fail('Too many elements in numeric expression', at);
    const list = Array.isArray(arg) ? arg : [arg];
    if (!Array.isArray(arg) && typeof arg !== 'string' && typeof arg !== 'number') fail('Value of anything-but must be an array or single string/number value.', at);
    for (const item of list) {
      if (typeof item !== 'string') {
        fail(
          form === 'equals-ignore-case'
            ? 'Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.'
            : form === 'wildcard'
              ? 'wildcard match pattern must be a string'
              : 'prefix/suffix match pattern must be a string',
          at,
        );
      }
      if ((form === 'prefix' || form === 'suffix') && item === '') fail('Null prefix/suffix not allowed', at);
      if (form === 'wildcard') checkWildcard(item, at);
    }
    return;
  }
  if (typeof operand === 'string' || typeof operand === 'number') return;
  if (!Array.isArray(operand)) fail('Value of anything-but must be an array or single string/number value.', at);
  if (operand.some((v) => typeof v !== 'string' && typeof v !== 'number')) fail('Inside anything but list, start|null|boolean is not supported.', at);
  const strings = operand.some((v) => typeof v === 'string');
  const numbers = operand.some((v) => typeof v === 'number');
  if (strings === numbers) fail('Inside anything but list, either all values are number or string, mixed type is not supported', at);
}

function fail(reason: string, path: string): never {
  throw new InvalidEventPatternError(reason, path);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return !!value && typeof value === 'object' && !Array.isArray(value);
}
