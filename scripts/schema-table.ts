// Turns a zod schema into the rows of a Markdown field table, through zod 4's
// JSON Schema: each field's path, type, whether it is required, its default, its
// limits and its description (the schema's `.meta({ description })`).
import { z } from 'zod';

/** The JSON Schema keywords zod 4 emits for the schemas Pictor documents. */
interface JsonSchema {
  readonly type?: string | readonly string[];
  readonly description?: string;
  readonly default?: unknown;
  readonly const?: unknown;
  readonly enum?: readonly unknown[];
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: JsonSchema | boolean;
  readonly propertyNames?: JsonSchema;
  readonly items?: JsonSchema;
  readonly anyOf?: readonly JsonSchema[];
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly exclusiveMaximum?: number;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly examples?: readonly unknown[];
}

export interface FieldRow {
  readonly path: string;
  readonly type: string;
  readonly required: boolean;
  readonly default?: unknown;
  readonly limits: string;
  readonly description: string;
}

/** A schema as JSON Schema, as a caller writes input for it (defaults make a field optional). */
export function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
}

/** Every field under an object schema, depth first; `{name}` stands for a record's key, `[]` for an array's items. */
export function fieldRows(schema: JsonSchema, prefix = ''): FieldRow[] {
  const rows: FieldRow[] = [];
  for (const [name, field] of Object.entries(schema.properties ?? {})) {
    const path = prefix + name;
    rows.push(rowOf(path, field, (schema.required ?? []).includes(name)));
    rows.push(...childRows(path, field));
  }
  return rows;
}

function childRows(path: string, field: JsonSchema): FieldRow[] {
  const inner = optionalInner(field);
  if (inner.properties) return fieldRows(inner, `${path}.`);
  if (inner.items?.properties) return fieldRows(inner.items, `${path}[].`);
  if (typeof inner.additionalProperties === 'object') {
    const key = `${path}.{${keyName(inner.propertyNames)}}`;
    const value = inner.additionalProperties;
    const keyLimits = limitsOf(inner.propertyNames ?? {});
    const keyText = inner.propertyNames?.description ? `Key: ${inner.propertyNames.description}${keyLimits ? ` (${keyLimits})` : ''}` : '';
    const rows = [rowOf(key, { ...value, description: [keyText, value.description && `Value: ${value.description}`].filter(Boolean).join(' ') }, true)];
    return [...rows, ...(value.properties ? fieldRows(value, `${key}.`) : [])];
  }
  return [];
}

function keyName(names: JsonSchema | undefined): string {
  const text = names?.description ?? '';
  if (/tenant id/i.test(text)) return 'tenant';
  if (/key id/i.test(text)) return 'kid';
  return 'key';
}

/** An optional field that zod wraps in anyOf with nothing else keeps its shape. */
function optionalInner(field: JsonSchema): JsonSchema {
  return field.anyOf?.length === 1 ? { ...field.anyOf[0], ...field, anyOf: undefined } : field;
}

function rowOf(path: string, field: JsonSchema, required: boolean): FieldRow {
  const inner = optionalInner(field);
  return { path, type: typeOf(inner), required, default: inner.default, limits: limitsOf(inner), description: inner.description ?? '' };
}

export function typeOf(field: JsonSchema): string {
  if (field.const !== undefined) return JSON.stringify(field.const);
  if (field.enum) return field.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (field.anyOf) return field.anyOf.map(typeOf).join(' or ');
  const type = Array.isArray(field.type) ? field.type.join(' or ') : (field.type as string | undefined);
  if (type === 'array') return `array of ${field.items ? typeOf(field.items) : 'any'}`;
  if (type === 'object' && typeof field.additionalProperties === 'object' && !field.properties) return `map of ${typeOf(field.additionalProperties)}`;
  return type ?? 'any';
}

/** zod's `.int()` bounds an integer to the safe range; that is no limit worth a line. */
const SAFE = Number.MAX_SAFE_INTEGER;

export function limitsOf(field: JsonSchema): string {
  const parts: string[] = [];
  const range = (min: number | undefined, max: number | undefined, exclusiveMin: number | undefined, unit = '') => {
    const low = min !== undefined && min > -SAFE ? min : undefined;
    const high = max !== undefined && max < SAFE ? max : undefined;
    const units = (n: number) => (unit && n === 1 ? unit.replace(/s$/, '') : unit);
    if (low !== undefined && high !== undefined) parts.push(`${low} to ${high}${units(high)}`);
    else if (low !== undefined) parts.push(`at least ${low}${units(low)}`);
    else if (exclusiveMin !== undefined) parts.push(`more than ${exclusiveMin}${unit}`);
    if (high !== undefined && low === undefined) parts.push(`at most ${high}${units(high)}`);
  };
  range(field.minimum, field.maximum, field.exclusiveMinimum);
  range(field.minItems, field.maxItems, undefined, ' items');
  range(field.minLength, field.maxLength, undefined, ' characters');
  if (field.pattern) parts.push(`\`${field.pattern}\``);
  if (field.items) {
    const each = limitsOf(field.items);
    if (each && !field.items.properties) parts.push(`each ${each}`);
  }
  return parts.join('; ');
}

/** A table cell: pipes escaped, no line breaks. */
export function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** The rows as a Markdown table. */
export function fieldTable(rows: readonly FieldRow[], options: { readonly showDefault: boolean }): string[] {
  const header = options.showDefault ? '| field | type | default | limits | description |' : '| field | type | required | limits | description |';
  const lines = [header, options.showDefault ? '| --- | --- | --- | --- | --- |' : '| --- | --- | --- | --- | --- |'];
  for (const row of rows) {
    const third = options.showDefault ? (row.default === undefined ? (row.required ? 'required' : '') : `\`${JSON.stringify(row.default)}\``) : row.required ? 'yes' : 'no';
    lines.push(`| \`${row.path}\` | ${cell(row.type)} | ${cell(third)} | ${cell(row.limits)} | ${cell(row.description)} |`);
  }
  return lines;
}
