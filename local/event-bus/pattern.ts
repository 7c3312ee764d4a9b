/**
 * EventBridge's event-pattern language, for the twin's bus: exact values, prefix,
 * suffix, equals-ignore-case, anything-but (values, prefix, suffix, wildcard),
 * numeric ranges, exists, cidr (IPv4), wildcard and $or. An array in the event
 * matches when any of its elements does.
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
 */
export type EventPattern = { [field: string]: unknown };

const MISSING = Symbol('missing');

export function matchesPattern(pattern: EventPattern, event: unknown): boolean {
  return matchObject(pattern, event);
}

function matchObject(pattern: EventPattern, value: unknown): boolean {
  for (const [field, expected] of Object.entries(pattern)) {
    if (field === '$or') {
      if (!(expected as EventPattern[]).some((branch) => matchObject(branch, value))) return false;
      continue;
    }
    const actual = value && typeof value === 'object' && !Array.isArray(value) && field in value ? (value as Record<string, unknown>)[field] : MISSING;
    if (Array.isArray(expected)) {
      if (!matchLeaf(expected, actual)) return false;
    } else if (expected && typeof expected === 'object') {
      if (actual === MISSING || !matchObject(expected as EventPattern, actual)) return false;
    } else {
      throw new Error(`Invalid event pattern at '${field}': values must be arrays or objects.`);
    }
  }
  return true;
}

function matchLeaf(matchers: unknown[], actual: unknown): boolean {
  if (actual === MISSING) return matchers.some((m) => isObject(m) && 'exists' in m && m.exists === false);
  const values = Array.isArray(actual) ? actual : [actual];
  return matchers.some((matcher) => values.some((value) => matchValue(matcher, value)));
}

function matchValue(matcher: unknown, value: unknown): boolean {
  if (!isObject(matcher)) return matcher === value;
  const [operator, operand] = Object.entries(matcher)[0] ?? [];
  switch (operator) {
    case 'exists':
      return operand === true;
    case 'prefix':
      return typeof value === 'string' && (isObject(operand) ? value.toLowerCase().startsWith(String(operand['equals-ignore-case']).toLowerCase()) : value.startsWith(String(operand)));
    case 'suffix':
      return typeof value === 'string' && (isObject(operand) ? value.toLowerCase().endsWith(String(operand['equals-ignore-case']).toLowerCase()) : value.endsWith(String(operand)));
    case 'equals-ignore-case':
      return typeof value === 'string' && value.toLowerCase() === String(operand).toLowerCase();
    case 'wildcard':
      return typeof value === 'string' && wildcard(String(operand)).test(value);
    case 'numeric':
      return typeof value === 'number' && numeric(operand as unknown[], value);
    case 'cidr':
      return typeof value === 'string' && inCidr(value, String(operand));
    case 'anything-but':
      return !anythingButExcludes(operand, value);
    default:
      throw new Error(`Unsupported event pattern operator '${operator}'.`);
  }
}

function anythingButExcludes(operand: unknown, value: unknown): boolean {
  if (Array.isArray(operand)) return operand.some((excluded) => excluded === value);
  if (isObject(operand)) return matchValue(operand, value);
  return operand === value;
}

function numeric(conditions: unknown[], value: number): boolean {
  for (let i = 0; i < conditions.length; i += 2) {
    const bound = Number(conditions[i + 1]);
    switch (conditions[i]) {
      case '=': if (!(value === bound)) return false; break;
      case '<': if (!(value < bound)) return false; break;
      case '<=': if (!(value <= bound)) return false; break;
      case '>': if (!(value > bound)) return false; break;
      case '>=': if (!(value >= bound)) return false; break;
      default: throw new Error(`Unsupported numeric operator '${String(conditions[i])}'.`);
    }
  }
  return true;
}

/** `*` matches any run of characters; `\*` is a literal star. */
function wildcard(pattern: string): RegExp {
  const parts = pattern.split(/(\\\*|\*)/).map((part) => (part === '*' ? '.*' : part === '\\*' ? '\\*' : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')));
  return new RegExp(`^${parts.join('')}$`, 's');
}

function inCidr(address: string, cidr: string): boolean {
  const [base, bits = '32'] = cidr.split('/');
  const ip = ipv4(address);
  const network = ipv4(base ?? '');
  if (ip === null || network === null) return false;
  const mask = Number(bits) === 0 ? 0 : (~0 << (32 - Number(bits))) >>> 0;
  return (ip & mask) >>> 0 === (network & mask) >>> 0;
}

function ipv4(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return null;
  return parts.reduce((n, p) => ((n << 8) | Number(p)) >>> 0, 0);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return !!value && typeof value === 'object' && !Array.isArray(value);
}
